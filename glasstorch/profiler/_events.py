"""What the profiler recorded: one FunctionEvent per op call, their per-name averages, and the table."""
from __future__ import annotations

from typing import Iterable

__all__ = ["FunctionEvent", "FunctionEventAvg", "EventList"]


def _format_time(time_us: float) -> str:
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def _format_time_share(time_us: float, total_us: float) -> str:
    if total_us == 0:
        return "NaN"
    return f"{time_us * 100.0 / total_us:.2f}%"


def _format_memory(nbytes: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


class _Times:
    """The *_str forms and device fields the table and programs read (no device time is measured)."""

    device_time_total = self_device_time_total = device_time = 0.0
    cuda_time_total = self_cuda_time_total = 0.0
    device_memory_usage = self_device_memory_usage = 0
    is_async = False
    node_id = -1
    overload_name = ""

    @property
    def cpu_time_str(self) -> str:
        return _format_time(self.cpu_time)

    @property
    def cpu_time_total_str(self) -> str:
        return _format_time(self.cpu_time_total)

    @property
    def self_cpu_time_total_str(self) -> str:
        return _format_time(self.self_cpu_time_total)


class FunctionEvent(_Times):
    """One call: name, start/end (microseconds from the profile's start), parent and children,
    input shapes (record_shapes), stack (with_stack) and output bytes (profile_memory)."""

    def __init__(self, id: int, name: str, start_us: float, input_shapes=None, stack=None, parent=None):
        self.id, self.name, self.key = id, name, name
        self.start_us, self.end_us = start_us, start_us
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.stack = stack if stack is not None else []
        self.cpu_parent = parent
        self.cpu_children: list[FunctionEvent] = []
        self.output_bytes = 0  # bytes of the tensors the call returned (profile_memory; frees are not seen)
        self.count = 1
        if parent is not None:
            parent.cpu_children.append(self)

    @property
    def cpu_time_total(self) -> float:
        return self.end_us - self.start_us

    cpu_time = cpu_time_total

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def self_cpu_memory_usage(self) -> int:
        """A call's outputs count as its own allocation unless a recorded call inside made them."""
        return 0 if self.cpu_children else self.output_bytes

    @property
    def cpu_memory_usage(self) -> int:
        return self.self_cpu_memory_usage + sum(c.cpu_memory_usage for c in self.cpu_children)

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time={self.cpu_time_total_str} "
                f"self_cpu_time={self.self_cpu_time_total_str} input_shapes={self.input_shapes}>")


class FunctionEventAvg(_Times):
    """The calls of one name (and input shapes / stack when grouped by them), added up."""

    def __init__(self, key: str):
        self.key = key
        self.count = 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0
        self.input_shapes = None
        self.stack: list[str] = []
        self.cpu_parent = None

    def add(self, event: FunctionEvent) -> "FunctionEventAvg":
        self.count += event.count
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        self.cpu_memory_usage += event.cpu_memory_usage
        self.self_cpu_memory_usage += event.self_cpu_memory_usage
        return self

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
                f"cpu_time={self.cpu_time_str} input_shapes={self.input_shapes}>")


class EventList(list):
    """A list of events; `table()` prints them in PyTorch's layout."""

    def __init__(self, events: Iterable = (), profile_memory: bool = False):
        super().__init__(events)
        self._profile_memory = profile_memory

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shapes: bool = False, group_by_stack_n: int = 0) -> "EventList":
        """One FunctionEventAvg per name (per name and input shapes / first n stack entries if asked),
        in order of first appearance."""
        groups: dict = {}
        for e in self:
            name = "ProfilerStep*" if e.key.startswith("ProfilerStep#") else e.key  # every step in one row
            key = (name, str(e.input_shapes) if group_by_input_shapes else None,
                   tuple(e.stack[:group_by_stack_n]) if group_by_stack_n > 0 else None)
            avg = groups.get(key)
            if avg is None:
                avg = groups[key] = FunctionEventAvg(name)
                avg.input_shapes = e.input_shapes if group_by_input_shapes else None
                avg.stack = list(e.stack[:group_by_stack_n]) if group_by_stack_n > 0 else []
            avg.add(e)
        return EventList(groups.values(), self._profile_memory)

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total")
        for e in self:
            total.add(e)
        return total

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        return _build_table(self, sort_by, header, row_limit, max_src_column_width, max_name_column_width,
                            max_shapes_column_width, self._profile_memory, top_level_events_only, time_unit)

    def __str__(self) -> str:
        return self.table()


def _build_table(events: EventList, sort_by, header, row_limit, max_src_width, max_name_width, max_shapes_width,
                 profile_memory: bool, top_level_only: bool, time_unit) -> str:
    """PyTorch's table: a right-aligned name column, 12-wide value columns two spaces apart."""
    if not events:
        return ""
    if sort_by is not None:  # cuda_* sorts by the device columns, which are all zero here
        attr = sort_by.replace("cuda", "device").replace("xpu", "device").replace("privateuse1", "device")
        events = sorted(events, key=lambda e: getattr(e, attr), reverse=True)
    has_shapes = any(e.input_shapes for e in events)
    has_stack = any(e.stack for e in events)
    name_width = max(len(e.key) for e in events) + 4
    if max_name_width is not None:
        name_width = min(name_width, max_name_width)

    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if profile_memory:
        headers += ["CPU Mem", "Self CPU Mem"]
    headers.append("# of Calls")
    widths, aligns = [name_width] + [12] * (len(headers) - 1), [">"] * len(headers)
    if has_shapes:
        shapes_width = max(len(str(e.input_shapes)) for e in events) + 4
        shapes_width = min(shapes_width, max_shapes_width) if max_shapes_width is not None else shapes_width
        headers.append("Input Shapes")
        widths.append(shapes_width)
        aligns.append(">")
    if has_stack:
        src_width = max(len(s) for e in events for s in e.stack) + 4
        src_width = min(src_width, max_src_width) if max_src_width is not None else src_width
        headers.append("Source Location")
        widths.append(src_width)
        aligns.append("<")
    row_format = "".join("{: " + a + str(w) + "}  " for a, w in zip(aligns, widths))
    sep = "".join("-" * w + "  " for w in widths)
    line_length = sum(w + 2 for w in widths) - 2

    def fmt_time(us: float) -> str:
        scale = {"s": (1e6, "s"), "ms": (1e3, "ms"), "us": (1.0, "us")}.get(time_unit)
        return f"{us / scale[0]:.3f}{scale[1]}" if scale else _format_time(us)

    def trim(path: str) -> str:
        if len(path) > src_width:
            path = path[len(path) - src_width:]
            path = "..." + path[3:] if len(path) > 3 else path
        return path

    total = sum(e.self_cpu_time_total for e in events)
    lines = []
    if header is not None:
        lines += ["=" * line_length, header]
    if top_level_only:
        lines += ["=" * line_length, "This report only display top-level ops statistics"]
    lines += [sep, row_format.format(*headers), sep]
    shown = 0
    for e in events:
        if shown == row_limit:
            break
        if top_level_only and e.cpu_parent is not None:
            continue
        shown += 1
        name = e.key
        if max_name_width is not None and len(name) >= max_name_width - 3:
            name = name[:max_name_width - 3] + "..."
        row = [name, _format_time_share(e.self_cpu_time_total, total), fmt_time(e.self_cpu_time_total),
               _format_time_share(e.cpu_time_total, total), fmt_time(e.cpu_time_total), fmt_time(e.cpu_time)]
        if profile_memory:
            row += [_format_memory(e.cpu_memory_usage), _format_memory(e.self_cpu_memory_usage)]
        row.append(e.count)
        if has_shapes:
            row.append(str(e.input_shapes)[:shapes_width])
        if has_stack:
            row.append(trim(e.stack[0]) if e.stack else "")
        lines.append(row_format.format(*row))
        if has_stack:
            blank = [""] * (len(headers) - 1)
            lines += [row_format.format(*blank, trim(s)) for s in e.stack[1:]]
            lines.append(row_format.format(*blank, ""))
    lines += [sep, f"Self CPU time total: {fmt_time(total)}"]
    return "\n".join(lines) + "\n"
