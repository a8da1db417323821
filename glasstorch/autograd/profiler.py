"""torch.autograd.profiler: the older profiler API, on the one recorder of glasstorch.profiler.

    with torch.autograd.profiler.profile(record_shapes=True) as prof:
        model(x)
    print(prof.table(sort_by="self_cpu_time_total"))

What is and is not measured: see glasstorch/profiler/profiler.py.
"""
from __future__ import annotations

from ..profiler._events import EventList, FunctionEvent, FunctionEventAvg  # noqa: F401
from ..profiler.profiler import ProfilerActivity, record_function  # noqa: F401
from ..profiler.profiler import profile as _profile

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg"]


class profile(_profile):
    """`profile(enabled=True, *, record_shapes=..., profile_memory=..., with_stack=...)`; enabled=False
    records nothing. use_cuda / use_device are accepted; device time is not measured."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device=None, record_shapes: bool = False,
                 with_flops: bool = False, profile_memory: bool = False, with_stack: bool = False,
                 with_modules: bool = False, use_kineto: bool = False, use_cpu: bool = True, experimental_config=None,
                 acc_events: bool = False, custom_trace_id_callback=None, **kwargs):
        super().__init__(record_shapes=record_shapes, profile_memory=profile_memory, with_stack=with_stack,
                         with_flops=with_flops, with_modules=with_modules, acc_events=acc_events)
        self.enabled = enabled

    def start(self) -> None:
        if self.enabled:
            super().start()

    @property
    def function_events(self) -> EventList:
        return self.events()

    @property
    def self_cpu_time_total(self) -> float:
        return self.events().self_cpu_time_total

    def total_average(self) -> FunctionEventAvg:
        return self.events().total_average()

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False) -> str:
        return self.events().table(sort_by, row_limit, max_src_column_width, max_name_column_width,
                                   max_shapes_column_width, header, top_level_events_only)

    def __str__(self) -> str:
        return self.table()
