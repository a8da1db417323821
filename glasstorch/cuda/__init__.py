"""torch.cuda: the CUDA device's housekeeping, on the backend that serves device 'cuda'.

That backend is CuPy on a machine with an NVIDIA GPU, or the NumPy-backed test device of
backends/fake_cuda.py when selected (`backends.cuda_module()` says which). Memory figures come from
CuPy's memory pool (with a pool hook for the peaks) or the fake device's count of live arrays;
events and streams are CuPy's, or host stand-ins on the fake device, whose work is synchronous.
Without either, the functions answer as PyTorch's CPU build does: the memory counters read 0 and
the rest raise "Torch not compiled with CUDA enabled".
"""
from __future__ import annotations

import itertools
import time
from collections import OrderedDict

from .. import backends

_NOT_COMPILED = "Torch not compiled with CUDA enabled"


def _module():
    """The backend module for device 'cuda' if it can run, else None."""
    module = backends.cuda_module()
    return module if module.is_available() else None


def _lazy_init():
    """The usable CUDA backend module, or PyTorch's CPU-build AssertionError."""
    module = _module()
    if module is None:
        raise AssertionError(_NOT_COMPILED)
    return module


def _is_cupy(module) -> bool:
    return hasattr(module.xp.cuda, "Event")


# ---- availability and devices ------------------------------------------------------------------
def is_available() -> bool:
    """True when CuPy is installed and sees an NVIDIA GPU (or the fake test device is selected)."""
    module = backends.cuda_module()
    available = module.is_available()
    if available and _peaks.hook is None:  # programs ask this first: count memory peaks from here on
        _peaks.install(module)
    return available


def device_count() -> int:
    return backends.cuda_module().device_count()


def is_initialized() -> bool:
    return _module() is not None


def init() -> None:
    _lazy_init()


def _device_index(device, optional: bool = True) -> int:
    """An index from an int, 'cuda[:i]', a torch.device or None (the current device)."""
    from .._device import device as _device

    if device is None:
        return current_device()
    if isinstance(device, str):
        device = _device(device)
    if isinstance(device, _device):
        if device.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {device}")
        return current_device() if device.index is None else device.index
    return int(device)


def current_device() -> int:
    _lazy_init()
    return 0  # glasstorch drives one GPU: CuPy's device 0


def set_device(device) -> None:
    """Selects the current device; glasstorch runs on device 0 only (negative indices are no-ops)."""
    index = _device_index(device)
    if index >= 0:
        _check_index(_lazy_init(), index)


def _check_index(module, index: int) -> None:
    if index >= module.device_count() or index > 0:
        raise RuntimeError("CUDA error: invalid device ordinal")


class device:
    """`with torch.cuda.device(i):` runs the block with device i current (a no-op for None or i < 0)."""

    def __init__(self, device) -> None:
        self.idx = -1 if device is None else _device_index(device)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx < 0:
            return None
        if _module() is None:
            raise RuntimeError("PyTorch was compiled without CUDA support")
        _check_index(_module(), self.idx)
        self.prev_idx = 0
        return None

    def __exit__(self, exc_type, exc_value, traceback) -> bool:
        return False


class _CudaDeviceProperties:
    """What get_device_properties returns: name, total_memory (bytes), major, minor, multi_processor_count."""

    def __init__(self, props: dict) -> None:
        name = props["name"]
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        self.total_memory = int(props["totalGlobalMem"])
        self.major, self.minor = int(props["major"]), int(props["minor"])
        self.multi_processor_count = int(props["multiProcessorCount"])

    def __repr__(self) -> str:
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory // (1024 * 1024)}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None) -> _CudaDeviceProperties:
    module = _lazy_init()
    index = _device_index(device)
    if index < 0 or index >= module.device_count():
        raise AssertionError("Invalid device id")
    return _CudaDeviceProperties(module.xp.cuda.runtime.getDeviceProperties(index))


def get_device_name(device=None) -> str:
    return get_device_properties(device).name


def get_device_capability(device=None) -> tuple:
    props = get_device_properties(device)
    return props.major, props.minor


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """bfloat16 on this GPU: native from compute capability 8.0, emulated anywhere ml_dtypes/CuPy can hold it."""
    if _module() is None:
        return False
    if get_device_properties().major >= 8:
        return True
    return including_emulation


# ---- random numbers: glasstorch draws every number from the global generator ---------------------
def manual_seed(seed: int) -> None:
    """Seeds the CUDA generator; glasstorch draws all random numbers from the global one."""


def manual_seed_all(seed: int) -> None:
    """As manual_seed: nothing of CUDA's own to seed."""


def seed() -> None:
    pass


def seed_all() -> None:
    pass


# ---- memory --------------------------------------------------------------------------------------
class _PeakTracker:
    """Peaks of CuPy's memory pool, updated after each pool allocation by a CuPy memory hook.

    CuPy keeps current figures (used_bytes, total_bytes) but no peaks; the hook is installed the first
    time torch.cuda is asked about the device, so peaks count from then on."""

    def __init__(self) -> None:
        self.allocated = self.reserved = 0
        self.hook = None

    def install(self, module) -> None:
        if self.hook is not None or not _is_cupy(module):
            return
        pool = module.xp.get_default_memory_pool()
        tracker = self

        class _Hook(module.xp.cuda.memory_hook.MemoryHook):
            name = "glasstorch_peak_memory"

            def malloc_postprocess(self, **kwargs):
                tracker.allocated = max(tracker.allocated, pool.used_bytes())
                tracker.reserved = max(tracker.reserved, pool.total_bytes())

        self.hook = _Hook()
        self.hook.__enter__()  # stays installed for this thread

    def reset(self, module) -> None:
        pool = module.xp.get_default_memory_pool()
        self.allocated, self.reserved = pool.used_bytes(), pool.total_bytes()


_peaks = _PeakTracker()


def _memory_figures() -> dict:
    """allocated / reserved bytes now and at their peaks; zeros without CUDA (as PyTorch's CPU build)."""
    module = _module()
    if module is None:
        return {"allocated": 0, "peak_allocated": 0, "reserved": 0, "peak_reserved": 0}
    if not _is_cupy(module):  # the fake device: live arrays are all it holds, nothing is cached
        allocated, peak = module.memory_allocated(), module.max_memory_allocated()
        return {"allocated": allocated, "peak_allocated": peak, "reserved": allocated, "peak_reserved": peak}
    _peaks.install(module)
    pool = module.xp.get_default_memory_pool()
    used, total = pool.used_bytes(), pool.total_bytes()
    return {"allocated": used, "peak_allocated": max(_peaks.allocated, used),
            "reserved": total, "peak_reserved": max(_peaks.reserved, total)}


def memory_allocated(device=None) -> int:
    """Bytes held by live tensors on the device."""
    return _memory_figures()["allocated"]


def max_memory_allocated(device=None) -> int:
    """The peak of memory_allocated() since the start (or the last reset_peak_memory_stats())."""
    return _memory_figures()["peak_allocated"]


def memory_reserved(device=None) -> int:
    """Bytes the caching allocator holds from the driver (CuPy's pool), used or cached for reuse."""
    return _memory_figures()["reserved"]


def max_memory_reserved(device=None) -> int:
    return _memory_figures()["peak_reserved"]


def memory_cached(device=None) -> int:
    return memory_reserved(device)


def max_memory_cached(device=None) -> int:
    return max_memory_reserved(device)


def reset_peak_memory_stats(device=None) -> None:
    """Peaks := current figures."""
    module = _lazy_init()
    if _is_cupy(module):
        _peaks.install(module)
        _peaks.reset(module)
    else:
        module.reset_peak_memory_stats()


def reset_max_memory_allocated(device=None) -> None:
    """Now resets all peaks, as in PyTorch (which warns that it does)."""
    import warnings

    warnings.warn("torch.cuda.reset_max_memory_allocated now calls torch.cuda.reset_peak_memory_stats, which "
                  "resets /all/ peak memory stats.", FutureWarning, stacklevel=2)
    reset_peak_memory_stats(device)


def reset_max_memory_cached(device=None) -> None:
    reset_max_memory_allocated(device)


def empty_cache() -> None:
    """Returns the pool's unused cached blocks to the driver."""
    module = _module()
    if module is not None:
        module.xp.get_default_memory_pool().free_all_blocks()


def memory_stats(device=None) -> OrderedDict:
    """A few of PyTorch's keys ("allocated_bytes.all.current", ...); empty without CUDA."""
    if _module() is None:
        return OrderedDict()
    m = _memory_figures()
    return OrderedDict([("allocated_bytes.all.current", m["allocated"]),
                        ("allocated_bytes.all.peak", m["peak_allocated"]),
                        ("reserved_bytes.all.current", m["reserved"]),
                        ("reserved_bytes.all.peak", m["peak_reserved"])])


def memory_summary(device=None, abbreviated: bool = False) -> str:
    """A short table of the memory figures (PyTorch's has many more rows)."""
    m = _memory_figures()
    rows = [("Allocated memory", m["allocated"], m["peak_allocated"]),
            ("GPU reserved memory", m["reserved"], m["peak_reserved"])]
    lines = [f"|{'Metric':<24}|{'Cur Usage':>12}|{'Peak Usage':>12}|"]
    lines += [f"|{name:<24}|{_format_size(cur):>12}|{_format_size(peak):>12}|" for name, cur, peak in rows]
    rule = "|" + "=" * (len(lines[0]) - 2) + "|"
    device_index = 0 if _module() is not None else None
    title = f"|{'PyTorch CUDA memory summary, device ID ' + str(device_index):^{len(lines[0]) - 2}}|"
    return "\n".join([rule, title, rule, lines[0], rule, *lines[1:], rule]) + "\n"


def _format_size(nbytes: int) -> str:
    for unit in ("B  ", "KiB", "MiB", "GiB"):
        if abs(nbytes) < 1024 or unit == "GiB":
            return f"{nbytes} {unit}" if unit == "B  " else f"{nbytes:.0f} {unit}"
        nbytes /= 1024
    return str(nbytes)


# ---- synchronisation, streams and events --------------------------------------------------------
def synchronize(device=None) -> None:
    """Waits for all work queued on the device."""
    _lazy_init().xp.cuda.Device().synchronize()


class Stream:
    """A CUDA stream (CuPy's, non-blocking); on the fake device a stand-in whose work is already done."""

    def __init__(self, device=None, priority: int = 0, **kwargs) -> None:
        module = _module()
        if module is None:
            raise RuntimeError("torch.cuda.Stream requires CUDA support")
        self.device = _cuda_device()
        self.priority = priority
        native = kwargs.get("_native")
        if native is None and _is_cupy(module) and not kwargs.get("_default"):
            native = module.xp.cuda.Stream(non_blocking=True)
        self._native = native
        # the stream's handle: CuPy's pointer; on the fake device a number of its own (0: the default)
        self._handle = int(native.ptr) if native is not None else (0 if kwargs.get("_default") else next(_handles))

    @property
    def cuda_stream(self) -> int:
        return self._handle

    def synchronize(self) -> None:
        if self._native is not None:
            self._native.synchronize()

    def query(self) -> bool:
        return True if self._native is None else bool(self._native.done)

    def wait_event(self, event: "Event") -> None:
        event.wait(self)

    def wait_stream(self, stream: "Stream") -> None:
        self.wait_event(stream.record_event())

    def record_event(self, event: "Event | None" = None) -> "Event":
        event = Event() if event is None else event
        event.record(self)
        return event

    def __eq__(self, other) -> bool:
        if not isinstance(other, Stream):
            return NotImplemented
        return self.cuda_stream == other.cuda_stream

    def __hash__(self) -> int:
        return hash(self.cuda_stream)

    def __repr__(self) -> str:
        return f"<torch.cuda.Stream device={self.device} cuda_stream={self.cuda_stream:#x}>"


def _cuda_device():
    from .._device import device as _device

    return _device("cuda", 0)


_handles = itertools.count(1)
_current = {"stream": None}  # the Stream made current by torch.cuda.stream / set_stream (None: default)


def default_stream(device=None) -> Stream:
    """The device's default (null) stream."""
    module = _lazy_init()
    native = module.xp.cuda.Stream.null if _is_cupy(module) else None
    return Stream(_native=native, _default=True)


def current_stream(device=None) -> Stream:
    """The stream work is queued on now."""
    _lazy_init()
    return _current["stream"] or default_stream(device)


def set_stream(stream: Stream) -> None:
    if stream is None:
        return
    _current["stream"] = stream
    if stream._native is not None:
        stream._native.use()


class StreamContext:
    """`with torch.cuda.stream(s):` queues the block's work on s, then restores the previous stream."""

    def __init__(self, stream: Stream | None) -> None:
        self.stream = stream
        self.prev = None

    def __enter__(self):
        if self.stream is None:  # PyTorch: a None stream makes the context a no-op
            return None
        self.prev = current_stream()
        set_stream(self.stream)
        return None  # as PyTorch's StreamContext

    def __exit__(self, exc_type, exc_value, traceback) -> bool:
        if self.stream is not None:
            set_stream(self.prev)
        return False


def stream(stream: Stream | None) -> StreamContext:
    return StreamContext(stream)


class Event:
    """A CUDA event: record() marks a point in a stream; elapsed_time() measures between two, in ms.

    On the fake device, work is done when queued, so record() reads the host clock."""

    def __init__(self, enable_timing: bool = False, blocking: bool = False, interprocess: bool = False) -> None:
        module = _module()
        if module is None:
            raise RuntimeError("Tried to instantiate dummy base class Event")
        self.enable_timing = enable_timing
        self._recorded = False
        self._time = None
        self._native = (module.xp.cuda.Event(block=blocking, disable_timing=not enable_timing,
                                             interprocess=interprocess) if _is_cupy(module) else None)

    def record(self, stream: Stream | None = None) -> None:
        stream = current_stream() if stream is None else stream
        if self._native is not None:
            self._native.record(stream._native)
        else:
            self._time = time.perf_counter()
        self._recorded = True

    def wait(self, stream: Stream | None = None) -> None:
        stream = current_stream() if stream is None else stream
        if self._native is not None and stream._native is not None:
            stream._native.wait_event(self._native)

    def query(self) -> bool:
        return True if self._native is None else bool(self._native.done)

    def synchronize(self) -> None:
        if self._native is not None:
            self._native.synchronize()

    def elapsed_time(self, end_event: "Event") -> float:
        """Milliseconds from this event to end_event (both recorded, both with enable_timing=True)."""
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'.")
        if not (self._recorded and end_event._recorded):
            raise RuntimeError("Both events must be recorded before calculating elapsed time.")
        if self._native is not None:
            from .. import backends as _b

            return float(_b.cuda_module().xp.cuda.get_elapsed_time(self._native, end_event._native))
        return (end_event._time - self._time) * 1000.0

    def __repr__(self) -> str:
        return f"<torch.cuda.Event {'recorded' if self._recorded else 'uninitialized'}>"


from . import amp  # noqa: E402,F401  torch.cuda.amp: the deprecated autocast and GradScaler
