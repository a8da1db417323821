"""torch.cuda's housekeeping API: without CUDA as PyTorch's CPU build answers (live), and on the fake device."""
from __future__ import annotations

import time
import warnings

import pytest
import torch

import glasstorch
from _cuda_backends import cuda_backend  # noqa: F401  (a fixture)

MODULES = (glasstorch, torch)
no_cuda = pytest.mark.skipif(glasstorch.cuda.is_available(), reason="checks the answers without CUDA")


def outcome(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return "value", fn()
    except Exception as e:  # noqa: BLE001 - compared below
        return type(e).__name__, str(e)


@no_cuda
@pytest.mark.parametrize("call", [
    "memory_allocated()", "max_memory_allocated()", "memory_reserved()", "max_memory_reserved()",
    "memory_stats()", "empty_cache()", "is_available()", "device_count()", "is_bf16_supported()",
    "manual_seed(0)", "manual_seed_all(0)", "is_initialized()", "memory_cached()",
    "current_device()", "synchronize()", "get_device_properties(0)", "get_device_name()",
    "get_device_capability()", "current_stream()", "default_stream()", "init()",
    "Event(enable_timing=True)", "Stream()", "device(0).__enter__()", "device(-1).__enter__()",
    "stream(None).__enter__()", "set_device('cpu')",
])
def test_without_cuda_answers_as_torch_cpu_build(call):
    ours = outcome(lambda: eval("glasstorch.cuda." + call))
    theirs = outcome(lambda: eval("torch.cuda." + call))
    if theirs[0] == "value":
        assert ours[0] == "value" and ours[1] == theirs[1] and type(ours[1]) is type(theirs[1]), (ours, theirs)
    else:
        assert ours == theirs


@no_cuda
@pytest.mark.parametrize("call", ["reset_peak_memory_stats()", "set_device(0)"])
def test_without_cuda_these_raise(call):
    """PyTorch's CPU build raises AttributeError here (its missing C binding, module 'torch._C' has no
    attribute ...); glasstorch raises the CPU build's usual AssertionError instead."""
    assert outcome(lambda: eval("torch.cuda." + call))[0] == "AttributeError"
    ours = outcome(lambda: eval("glasstorch.cuda." + call))
    assert ours == ("AssertionError", "Torch not compiled with CUDA enabled")


def test_deprecated_amp_modules_import_as_torch_has_them():
    from glasstorch.cuda.amp import GradScaler, autocast  # noqa: F401
    from glasstorch.cpu.amp import autocast as cpu_autocast  # noqa: F401

    import glasstorch.cuda.amp as cuda_amp

    assert issubclass(cuda_amp.autocast, glasstorch.autocast) and issubclass(GradScaler, glasstorch.amp.GradScaler)
    assert glasstorch.cpu.is_available() == torch.cpu.is_available()
    assert glasstorch.cpu.current_device() == torch.cpu.current_device()


# ---- on the fake device, and on CuPy when a GPU is present --------------------------------------------
on_cuda_backends = pytest.mark.usefixtures("cuda_backend")


def _pool_size(nbytes: int, backend: str) -> int:
    """Bytes a tensor of nbytes holds: exact on the fake device, CuPy's pool rounds up to 512 bytes."""
    return nbytes if backend == "fake" else -(-nbytes // 512) * 512


def test_memory_counters_follow_live_device_tensors(cuda_backend):
    cuda = glasstorch.cuda
    base = cuda.memory_allocated()
    cuda.reset_peak_memory_stats()
    assert cuda.max_memory_allocated() == base
    x = glasstorch.empty(1000, dtype=glasstorch.float32, device="cuda")
    one = _pool_size(4000, cuda_backend)
    assert cuda.memory_allocated() == base + one
    y = glasstorch.empty(500, dtype=glasstorch.float64, device="cuda")
    both = 2 * one
    assert cuda.memory_allocated() == base + both and cuda.max_memory_allocated() == base + both
    view = x[10:20]  # a view holds no memory of its own
    assert cuda.memory_allocated() == base + both
    del x, y, view
    assert cuda.memory_allocated() == base and cuda.max_memory_allocated() == base + both
    assert cuda.memory_reserved() >= cuda.memory_allocated()
    assert cuda.max_memory_reserved() >= cuda.max_memory_allocated()
    stats = cuda.memory_stats()
    assert stats["allocated_bytes.all.current"] == base and stats["allocated_bytes.all.peak"] == base + both
    cuda.reset_peak_memory_stats()
    assert cuda.max_memory_allocated() == base
    with pytest.warns(FutureWarning, match="reset_peak_memory_stats"):
        cuda.reset_max_memory_allocated()
    cuda.empty_cache()
    summary = cuda.memory_summary()
    assert "Allocated memory" in summary and "device ID 0" in summary


@on_cuda_backends
def test_events_time_the_work_between_them():
    cuda = glasstorch.cuda
    start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
    start.record()
    time.sleep(0.02)
    end.record()
    end.synchronize()
    assert end.query() is True
    elapsed = start.elapsed_time(end)
    # milliseconds, as torch: a 20 ms sleep reads >= 15 (seconds would read 0.02); no upper bound, which
    # would only time the machine's load
    assert isinstance(elapsed, float) and elapsed >= 15.0
    with pytest.raises(RuntimeError, match="enable_timing=True"):
        cuda.Event().elapsed_time(end)
    with pytest.raises(RuntimeError, match="must be recorded"):
        cuda.Event(enable_timing=True).elapsed_time(end)


@on_cuda_backends
def test_streams_and_their_context_manager():
    cuda = glasstorch.cuda
    default = cuda.default_stream()
    assert cuda.current_stream() == default
    side = cuda.Stream()
    assert side != default and side != cuda.Stream() and default == cuda.default_stream()
    assert default.cuda_stream == 0 and len({side, default, cuda.default_stream()}) == 2
    with cuda.stream(side) as entered:
        assert entered is None and cuda.current_stream() == side and cuda.current_stream() != default
        y = glasstorch.ones(3, device="cuda") * 2
        event = side.record_event()
    assert cuda.current_stream() == default
    default.wait_stream(side)
    default.wait_event(event)
    side.synchronize()
    cuda.synchronize()
    assert side.query() and event.query() and y.sum().item() == 6.0
    with cuda.stream(None):
        assert cuda.current_stream() == default


@on_cuda_backends
def test_device_queries_and_selection():
    cuda = glasstorch.cuda
    props = cuda.get_device_properties(0)
    assert isinstance(props.name, str) and props.total_memory > 0 and props.multi_processor_count >= 1
    assert cuda.get_device_capability() == (props.major, props.minor)
    assert cuda.get_device_name() == props.name == cuda.get_device_properties("cuda:0").name
    assert repr(props).startswith("_CudaDeviceProperties(name=")
    assert cuda.current_device() == 0 and cuda.is_initialized() and cuda.is_bf16_supported()
    cuda.set_device(0)
    cuda.set_device("cuda:0")
    cuda.set_device(glasstorch.device("cuda", 0))
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        cuda.set_device(1)
    with pytest.raises(ValueError, match="Expected a cuda device, but got: cpu"):
        cuda.set_device("cpu")
    with cuda.device(0):
        assert cuda.current_device() == 0
    with cuda.device(None):
        pass
    cuda.manual_seed(1)
    cuda.manual_seed_all(1)
