"""torch.profiler: which ops a block of code ran, how often, and for how long (CPU time).

    with glasstorch.profiler.profile(record_shapes=True) as prof:
        with glasstorch.profiler.record_function("forward"):
            loss = model(x).sum()
        loss.backward()
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))

Read profiler.py's docstring for what is measured and what is not.
"""
from ._events import EventList, FunctionEvent, FunctionEventAvg
from .profiler import (
    ProfilerAction, ProfilerActivity, kineto_available, profile, record_function, schedule, supported_activities,
    tensorboard_trace_handler,
)

__all__ = ["profile", "record_function", "schedule", "tensorboard_trace_handler", "ProfilerActivity",
           "ProfilerAction", "supported_activities", "kineto_available", "EventList", "FunctionEvent",
           "FunctionEventAvg"]
