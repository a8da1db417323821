"""torch.profiler.profile on glasstorch's op watcher (glasstorch.viz.trace's call hook).

What is measured: the wall-clock time of every call into glasstorch made from code outside it (each
op as the program wrote it: `x @ w`, `F.relu(h)`, `model(x)` for a built-in layer), of every graph
node run by backward (its formula), and of `record_function` blocks; nesting gives each its self time.
An op's internal calls are not separate rows (a built-in layer is one row, "nn.Module: Linear").
Names follow PyTorch's: "aten::<glasstorch function>" for ops, the grad_fn class for backward nodes.

What is not: device time (CuPy kernels run asynchronously; CUDA rows stay empty), memory frees
(profile_memory records the bytes of the tensors each call returned), FLOPs. Times include the
watcher's own cost, a Python callback per Python call inside the profiled block (a 784-128-10 MLP's
Adam step at batch 64: 0.90 ms profiled, 0.48 ms not); compare rows with each other, not with PyTorch.
The watcher sees the thread that entered the profile (DataLoader workers are not seen), and it takes
the place of a sys.setprofile profiler (cProfile, a viz.trace) while it records.
"""
from __future__ import annotations

import enum
import gzip
import json
import os
import socket
import threading
import time
import warnings
from typing import Callable, Iterable

from .._tensor import Tensor
from ..optim.optimizer import Optimizer
from ..viz.trace import Trace, _tensors_in
from ._events import EventList, FunctionEvent

__all__ = ["profile", "record_function", "schedule", "tensorboard_trace_handler", "ProfilerActivity",
           "ProfilerAction", "supported_activities", "kineto_available"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    XPU = 1
    CUDA = 2
    HPU = 3
    MTIA = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4  # PyTorch's state for a device trace stopped early; here it records nothing


def supported_activities() -> set[ProfilerActivity]:
    """CPU always; CUDA is accepted (its device times are not measured)."""
    return {ProfilerActivity.CPU, ProfilerActivity.CUDA}


def kineto_available() -> bool:
    """False: glasstorch records with its own watcher, not PyTorch's Kineto library."""
    return False


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """step -> action: skip `skip_first` steps, then cycles of `wait` idle, `warmup`, `active` recorded
    steps (the last RECORD_AND_SAVE), `repeat` times (0: until the end)."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} "
                             f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
                             f"skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)
    cycle = wait + warmup + active

    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        if repeat > 0 and step / cycle >= repeat:
            return ProfilerAction.NONE
        pos = step % cycle
        if pos < wait:
            return ProfilerAction.NONE
        if pos < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if pos < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return schedule_fn


def _always_record(step: int) -> ProfilerAction:
    return ProfilerAction.RECORD


def _now_us() -> float:
    return time.perf_counter_ns() / 1000.0


class _Recorder(Trace):
    """viz.trace's call watcher, keeping of each call only a FunctionEvent (no values are copied)."""

    def __init__(self, record_shapes: bool, profile_memory: bool, with_stack: bool):
        super().__init__()
        self.record_shapes, self.profile_memory, self.with_stack = record_shapes, profile_memory, with_stack
        self.events: list[FunctionEvent] = []
        self.open: list[FunctionEvent] = []  # begun and not ended, innermost last (ops and record_function)
        self.t0 = _now_us()
        self.thread = threading.get_ident()

    def open_event(self, name: str, input_shapes=None, stack=None) -> FunctionEvent:
        event = FunctionEvent(len(self.events), name, _now_us() - self.t0, input_shapes, stack,
                              self.open[-1] if self.open else None)
        self.events.append(event)
        self.open.append(event)
        return event

    def close_event(self, event: FunctionEvent) -> None:
        event.end_us = _now_us() - self.t0
        if self.open and self.open[-1] is event:
            self.open.pop()
        elif event in self.open:  # a block left out of order (an exception): close what it enclosed
            del self.open[self.open.index(event):]

    # -- the watcher's hooks -----------------------------------------------------------------------------
    def _begin(self, frame, caller) -> None:
        """A call from outside glasstorch (`caller` is the user's frame; None for a layer inside a
        built-in container, which the watcher reports as a module call too)."""
        if frame.f_code.co_filename == __file__:  # the profiler's own calls (prof.step()) are not ops
            self._stack.append((frame, {"kind": "skip", "event": None}))
            return
        args = self._arguments(frame)
        name = frame.f_code.co_name
        module = name in ("__call__", "forward") and args and hasattr(args[0], "_parameters")
        if module:
            name = f"nn.Module: {type(args[0]).__name__}"
        elif args and isinstance(args[0], Optimizer):  # PyTorch's label: Optimizer.step#SGD.step
            name = "step" if name == "wrapper" else name  # step runs inside its hooks' wrapper (_with_step_hooks)
            name = f"Optimizer.{name}#{type(args[0]).__name__}.{name}"
        else:
            name = "aten::" + (name.strip("_") if name.startswith("__") and name.endswith("__") else name)
        shapes = _input_shapes(args[1:] if module else args) if self.record_shapes else None
        stack = None
        if self.with_stack and caller is not None:
            stack = [f"{f.f_code.co_filename}({f.f_lineno}): {f.f_code.co_name}" for f in _frames(caller)]
        event = self.open_event(name, shapes, stack)
        self._stack.append((frame, {"kind": "module" if module else "op", "event": event}))

    def _end(self, step, frame, result) -> None:
        event = step["event"]
        if event is None:
            return
        if self.profile_memory:
            event.output_bytes = sum(t._data.nbytes for t in _tensors_in(result))
        self.close_event(event)

    def _begin_node(self, frame) -> None:
        node = frame.f_locals.get("self")
        name = node.name() if hasattr(node, "name") else type(node).__name__
        self._stack.append((frame, {"kind": "node", "event": self.open_event(name)}))

    def _end_node(self, step, result) -> None:
        self.close_event(step["event"])

    def _leaf_grad(self, leaf) -> None:
        pass

    def _refresh_grads(self) -> None:
        pass


def _input_shapes(args: list) -> list:
    """One entry per positional input (a varargs tuple spread out): a tensor's shape, else []."""
    flat = []
    for a in args:
        if isinstance(a, tuple):
            flat.extend(a)
        elif not isinstance(a, dict):  # **kwargs
            flat.append(a)
    return [list(a.shape) if isinstance(a, Tensor) else [] for a in flat]


def _frames(frame, limit: int = 32):
    while frame is not None and limit:
        yield frame
        frame, limit = frame.f_back, limit - 1


_current: _Recorder | None = None  # the recorder running now (record_function reports to it)


class record_function:
    """Label a block (or a decorated function) as one row of the profile; nothing when none runs."""

    def __init__(self, name: str, args: str | None = None):
        self.name, self.args = name, args
        self._event = None
        self._recorder = None

    def __enter__(self) -> "record_function":
        recorder = _current
        if recorder is not None and recorder.thread == threading.get_ident():
            self._recorder, self._event = recorder, recorder.open_event(self.name)
        return self

    def __exit__(self, *exc) -> None:
        if self._event is not None:
            self._recorder.close_event(self._event)
            self._event = self._recorder = None

    def __call__(self, fn: Callable) -> Callable:
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)

        return wrapper


class profile:
    """`with profile(...) as prof:` records the block; `prof.key_averages().table(sort_by=..., row_limit=...)`.

    With a `schedule`, call `prof.step()` once per iteration: steps whose action is RECORD or
    RECORD_AND_SAVE are recorded, and `on_trace_ready(prof)` runs after each RECORD_AND_SAVE step
    (and when the profile ends while recording). Without one, everything is recorded and
    on_trace_ready runs at the end. See the module docstring for what is and is not measured.
    """

    def __init__(self, *, activities: Iterable[ProfilerActivity] | None = None, schedule: Callable | None = None,
                 on_trace_ready: Callable | None = None, record_shapes: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_flops: bool = False, with_modules: bool = False,
                 experimental_config=None, execution_trace_observer=None, acc_events: bool = False,
                 use_cuda: bool | None = None, custom_trace_id_callback=None):
        self.activities = set(activities) if activities is not None else supported_activities()
        self.schedule = schedule if schedule is not None else _always_record
        self.on_trace_ready = on_trace_ready
        self.record_shapes, self.profile_memory, self.with_stack = record_shapes, profile_memory, with_stack
        self.with_flops, self.with_modules, self.acc_events = with_flops, with_modules, acc_events
        self.record_steps = schedule is not None  # with a schedule, each step is a row "ProfilerStep#<n>"
        self.step_num = 0
        self.current_action = self.schedule(0)
        self._recorder: _Recorder | None = None
        self._step_event: FunctionEvent | None = None
        self._events: list[FunctionEvent] = []

    # -- recording on and off ----------------------------------------------------------------------------
    def _start_recording(self) -> None:
        global _current
        if self._recorder is None:
            self._recorder = _Recorder(self.record_shapes, self.profile_memory, self.with_stack)
            self._recorder.__enter__()
            _current = self._recorder
        if self.record_steps and self._step_event is None:
            self._step_event = self._recorder.open_event(f"ProfilerStep#{self.step_num}")

    def _end_step_event(self) -> None:
        if self._step_event is not None and self._recorder is not None:
            self._recorder.close_event(self._step_event)
        self._step_event = None

    def _stop_recording(self) -> None:
        global _current
        recorder, self._recorder = self._recorder, None
        if recorder is not None:
            recorder.__exit__(None, None, None)
            end = _now_us() - recorder.t0
            for event in recorder.open:  # still open at the end (record_function around the profile's exit)
                event.end_us = end
            _current = None
            self._events = recorder.events if not self.acc_events else self._events + recorder.events

    def _recording(self, action: ProfilerAction) -> bool:
        return action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)

    def start(self) -> None:
        if self._recording(self.current_action):
            self._start_recording()

    def stop(self) -> None:
        self._end_step_event()
        if self._recorder is not None:
            self._stop_recording()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)

    def step(self) -> None:
        """End one step: the schedule's next action may start, save or stop recording."""
        self._end_step_event()
        previous = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        if previous == ProfilerAction.RECORD_AND_SAVE:
            self.stop()
        if self._recording(self.current_action):
            self._start_recording()
        elif self._recorder is not None:  # the schedule moved from recording to idle without saving
            self._stop_recording()

    def __enter__(self) -> "profile":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- reading the results -----------------------------------------------------------------------------
    def events(self) -> EventList:
        return EventList(self._events, self.profile_memory)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        return self.events().key_averages(group_by_input_shape, group_by_stack_n)

    def export_chrome_trace(self, path: str) -> str:
        """Write the events as a Chrome trace (chrome://tracing, Perfetto, TensorBoard); '.gz': gzipped."""
        from .._atomic import atomic_write

        pid, tid = os.getpid(), threading.get_ident()
        trace = {"schemaVersion": 1, "displayTimeUnit": "ms", "traceEvents": [
            {"ph": "X", "cat": "cpu_op" if e.name.startswith(("aten::", "nn.Module")) else "user_annotation",
             "name": e.name, "pid": pid, "tid": tid, "ts": e.start_us, "dur": e.cpu_time_total,
             "args": {"Input Dims": e.input_shapes} if e.input_shapes else {}}
            for e in self._events]}
        data = json.dumps(trace).encode()
        with atomic_write(path, "wb") as f:
            f.write(gzip.compress(data) if path.endswith(".gz") else data)
        return path

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        """Write "frame;frame;...;op value" lines (flame graph input) for the events that have stacks."""
        from .._atomic import atomic_write

        with atomic_write(path, "w") as f:
            for e in self._events:
                if e.stack:
                    f.write(";".join(reversed(e.stack)) + f";{e.name} {int(getattr(e, metric))}\n")


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False) -> Callable[[profile], None]:
    """on_trace_ready handler writing `dir_name/<worker>.<ms>.pt.trace.json[.gz]` (TensorBoard's layout)."""
    def handler(prof: profile) -> None:
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker}.{time.time_ns() // 1_000_000}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, name))

    return handler


