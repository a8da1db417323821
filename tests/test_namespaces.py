"""torch.testing, torch.jit, torch.random, torch.version, torch.profiler, torch.multiprocessing and
torch.hub, checked against PyTorch live where PyTorch can run the same thing offline."""
from __future__ import annotations

import copy
import gzip
import json
import math
import os
import pickle
import subprocess
import sys
import textwrap
import typing
import warnings

import numpy as np
import pytest
import torch

import glasstorch
from glasstorch._compat import run_script

import _namespaces_children as children  # tests/: picklable entry points for spawned children


def outcome(m, fn):
    """What fn(m) does: "PASS", or (exception class name, message with the library's names made torch's)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            fn(m)
    except Exception as e:  # noqa: BLE001 - compared with torch's
        return type(e).__name__, str(e).replace("glasstorch._tensor.Tensor", "torch.Tensor").replace("glasstorch",
                                                                                                    "torch")
    return "PASS"


def T(m, values, **kw):
    return m.tensor(values, **kw)


# ---- torch.testing.assert_close: the same decision and the same message, case by case ------------------
NAN, INF = float("nan"), float("inf")
CLOSE_CASES = {
    "float32_one_off": lambda m: m.testing.assert_close(T(m, [1., 2., 3.]), T(m, [1., 2.5, 3.])),
    "int_equal_msg": lambda m: m.testing.assert_close(T(m, [[1, 2], [3, 4]]), T(m, [[1, 2], [3, 5]])),
    "zero_dim_scalar_msg": lambda m: m.testing.assert_close(T(m, 1.), T(m, 2.)),
    "python_floats": lambda m: m.testing.assert_close(1.0, 2.0),
    "python_floats_close": lambda m: m.testing.assert_close(1.0, 1.0 + 1e-9),
    "python_ints": lambda m: m.testing.assert_close(1, 2),
    "bools": lambda m: m.testing.assert_close(True, False),
    "none_vs_number": lambda m: m.testing.assert_close(None, 1),
    "none_none": lambda m: m.testing.assert_close(None, None),
    "sequence_lengths": lambda m: m.testing.assert_close([1., 2.], [1., 2., 3.]),
    "mapping_keys": lambda m: m.testing.assert_close({"a": 1}, {"b": 1}),
    "shape": lambda m: m.testing.assert_close(m.ones(2), m.ones(3)),
    "dtype": lambda m: m.testing.assert_close(m.ones(2), m.ones(2, dtype=m.float64)),
    "dtype_unchecked": lambda m: m.testing.assert_close(m.ones(2), m.ones(2, dtype=m.float64), check_dtype=False),
    "expected_zero": lambda m: m.testing.assert_close(T(m, [0., 1.]), T(m, [1e-3, 1.])),
    "nan": lambda m: m.testing.assert_close(T(m, [NAN]), T(m, [NAN])),
    "nan_equal": lambda m: m.testing.assert_close(T(m, [NAN, 1.]), T(m, [NAN, 1.]), equal_nan=True),
    "inf_same": lambda m: m.testing.assert_close(T(m, [INF, 1.]), T(m, [INF, 1.])),
    "inf_sign": lambda m: m.testing.assert_close(T(m, [INF, 1.]), T(m, [-INF, 1.])),
    "list_item": lambda m: m.testing.assert_close([m.ones(2), m.zeros(2)], [m.ones(2), m.ones(2)]),
    "dict_within_atol": lambda m: m.testing.assert_close({"w": m.ones(2, 3), "b": m.zeros(3)},
                                                         {"w": m.ones(2, 3), "b": m.full((3,), 1e-6)}),
    "dict_item": lambda m: m.testing.assert_close({"w": m.ones(2, 3), "b": m.zeros(3)},
                                                  {"w": m.ones(2, 3), "b": m.full((3,), 1e-4)}),
    "tensor_vs_numpy": lambda m: m.testing.assert_close(m.ones(2), np.ones(2)),
    "numpy_arrays": lambda m: m.testing.assert_close(np.ones(3), np.array([1, 2, 1.])),
    "numpy_scalar": lambda m: m.testing.assert_close(np.float32(1.0), 1.0 + 1e-6),
    "strings": lambda m: m.testing.assert_close("a", "b"),
    "rtol_only": lambda m: m.testing.assert_close(1., 2., rtol=1),
    "atol_only": lambda m: m.testing.assert_close(1., 2., atol=1),
    "atol_enough": lambda m: m.testing.assert_close(1., 2., rtol=0, atol=1),
    "number_types": lambda m: m.testing.assert_close(1, 1.0, check_dtype=True),
    "rtol_fails": lambda m: m.testing.assert_close(T(m, [1., 2.]), T(m, [1.1, 2.]), rtol=0.05, atol=0),
    "rtol_passes": lambda m: m.testing.assert_close(T(m, [1., 2.]), T(m, [1.1, 2.]), rtol=0.2, atol=0),
    "msg_string": lambda m: m.testing.assert_close(T(m, [1., 2.]), T(m, [1.1, 2.]), msg="custom"),
    "msg_callable": lambda m: m.testing.assert_close(T(m, [1., 2.]), T(m, [1.1, 2.]), msg=lambda s: "X" + s),
    "msg_callable_item": lambda m: m.testing.assert_close([T(m, [1., 2.])], [T(m, [1.1, 2.])], msg=lambda s: s + "Y"),
    "many_mismatches": lambda m: m.testing.assert_close(m.arange(12.).reshape(3, 4),
                                                        m.arange(12.).reshape(3, 4) * 1.001),
    "stride": lambda m: m.testing.assert_close(m.arange(12.).reshape(4, 3).t().contiguous(),
                                               m.arange(12.).reshape(4, 3).t(), check_stride=True),
    "bool_tensors": lambda m: m.testing.assert_close(T(m, [True, False]), T(m, [True, True])),
    "promoted_ints": lambda m: m.testing.assert_close(T(m, [1, 2], dtype=m.int32), T(m, [1, 3], dtype=m.int64),
                                                      check_dtype=False),
    "int_atol": lambda m: m.testing.assert_close(T(m, [1, 2]), T(m, [1, 3]), rtol=0, atol=1),
    "int_expected_zero": lambda m: m.testing.assert_close(T(m, [0, 2]), T(m, [1, 0])),
    "complex": lambda m: m.testing.assert_close(T(m, [1. + 1j, 2.]), T(m, [1. + 1.1j, 2.])),
    "float16": lambda m: m.testing.assert_close(T(m, [1., 2.], dtype=m.float16), T(m, [1.001, 2.], dtype=m.float16)),
    "bfloat16": lambda m: m.testing.assert_close(T(m, [1., 2., 3.], dtype=m.bfloat16),
                                                 T(m, [1.01, 2.1, 3.], dtype=m.bfloat16)),
    "bfloat16_nan": lambda m: m.testing.assert_close(T(m, [1., NAN], dtype=m.bfloat16),
                                                     T(m, [1.01, NAN], dtype=m.bfloat16)),
    "bfloat16_within": lambda m: m.testing.assert_close(T(m, [1., 2.], dtype=m.bfloat16),
                                                        T(m, [1.01, 2.], dtype=m.bfloat16)),
    "zero_dim_bfloat16": lambda m: m.testing.assert_close(T(m, 1., dtype=m.bfloat16), T(m, 1.1, dtype=m.bfloat16)),
    "zero_dim_int": lambda m: m.testing.assert_close(T(m, 1, dtype=m.int32), T(m, 3, dtype=m.int32)),
    "zero_dim_bool": lambda m: m.testing.assert_close(T(m, True), T(m, False)),
    "float64_within": lambda m: m.testing.assert_close(T(m, [1., 2.], dtype=m.float64),
                                                       T(m, [1. + 1e-8, 2.], dtype=m.float64)),
    "mixed_nesting": lambda m: m.testing.assert_close((1, [2., None]), [1, (2., None)]),
    "parameter_vs_tensor": lambda m: m.testing.assert_close(m.nn.Parameter(m.ones(2)), m.ones(2)),
    "no_subclasses": lambda m: m.testing.assert_close(m.nn.Parameter(m.ones(2)), m.ones(2), allow_subclasses=False),
    "requires_grad_ignored": lambda m: m.testing.assert_close(T(m, [1., 2.]), T(m, [1., 2.]).requires_grad_()),
    "allclose_passes": lambda m: m.testing.assert_allclose(T(m, [1., 2.]), [1.00005, 2.]),
    "allclose_fails": lambda m: m.testing.assert_allclose(T(m, [1., 2.]), [1.001, 2.]),
    "allclose_nan": lambda m: m.testing.assert_allclose(T(m, [1., NAN]), [1., NAN]),
    "allclose_msg": lambda m: m.testing.assert_allclose(1.0, 1.1, msg="m"),
}


@pytest.mark.parametrize("case", list(CLOSE_CASES))
def test_assert_close_matches_torch(case):
    fn = CLOSE_CASES[case]
    assert outcome(glasstorch, fn) == outcome(torch, fn)


def test_assert_close_bool_against_int_is_a_runtime_error_as_in_torch():
    fn = lambda m: m.testing.assert_close(True, 1)  # noqa: E731
    ours, theirs = outcome(glasstorch, fn), outcome(torch, fn)
    assert ours[0] == theirs[0] == "RuntimeError"
    assert ours[1].startswith("Originating a NumberPair() at item  with\n\nbool(): True\n\nand\n\nint(): 1\n\n")
    assert theirs[1].startswith(ours[1].split("resulted")[0])


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("seed", range(6))
def test_assert_close_random_near_the_tolerance(dtype, seed):
    """Perturbations of a few elements around the default tolerance: the same decision and the same
    message lines (counts, greatest differences and their indices). Both libraries compute the
    differences in the tensors' own dtype (complex magnitudes correctly rounded), so the printed
    values agree to the last digit."""
    rng = np.random.default_rng(seed)
    expected = rng.standard_normal((4, 5))
    if dtype.startswith("complex"):
        expected = expected + 1j * rng.standard_normal((4, 5))
    expected = expected.astype(dtype)
    actual = expected.copy()
    rtol, atol = {"float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}[dtype.replace("complex64", "float32")
                                                                        .replace("complex128", "float64")]
    picks = rng.choice(expected.size, size=rng.integers(1, 5), replace=False)
    scale = rng.choice([0.5, 0.9, 1.5, 3.0, 100.0], size=picks.size)  # inside and outside the tolerance
    allowed = atol + rtol * np.abs(expected.reshape(-1)[picks])
    actual.reshape(-1)[picks] += (scale * allowed * rng.choice([-1, 1], size=picks.size)).astype(dtype)
    results = [outcome(m, lambda m: m.testing.assert_close(m.from_numpy(actual.copy()), m.from_numpy(expected.copy())))
               for m in (glasstorch, torch)]
    assert results[0] == results[1]


def test_assert_close_device_mismatch(fake_cuda):
    # torch's wording for the device attribute (no CUDA torch here to run it live)
    a, b = glasstorch.ones(2), glasstorch.ones(2, device=fake_cuda)
    with pytest.raises(AssertionError, match=r"^The values for attribute 'device' do not match: cpu != cuda:0\.$"):
        glasstorch.testing.assert_close(a, b)
    glasstorch.testing.assert_close(a, b, check_device=False)


def test_assert_allclose_is_deprecated_like_torch():
    for m in (glasstorch, torch):
        with pytest.warns(FutureWarning, match=r"assert_allclose\(\)` is deprecated since 1.12"):
            m.testing.assert_allclose(m.ones(2), m.ones(2))


# ---- torch.testing.make_tensor ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["float32", "float64", "int64", "int8", "uint8", "bool", "complex64"])
def test_make_tensor(name):
    dtype = getattr(glasstorch, name)
    t = glasstorch.testing.make_tensor(3, 4, dtype=dtype, device="cpu", noncontiguous=True, exclude_zero=True)
    assert t.shape == (3, 4) and t.dtype is dtype and not t.is_contiguous()
    values = t.numpy()
    assert (values != 0).all()
    parts = [values.real, values.imag] if dtype.is_complex else [values.astype(np.float64)]
    low, high = {"bool": (0, 1), "uint8": (0, 9)}.get(name, (-9, 9))  # torch's default ranges
    for p in parts:
        assert p.min() >= low and p.max() <= high
    u = glasstorch.testing.make_tensor((2, 2), dtype=glasstorch.float64, device="cpu", low=-1, high=1,
                                       requires_grad=dtype.is_floating_point)
    assert u.is_contiguous() and ((u.detach().numpy() >= -1) & (u.detach().numpy() < 1)).all()


def test_make_tensor_on_a_device_and_assert_close_there(fake_cuda):
    t = glasstorch.testing.make_tensor(4, 3, dtype=glasstorch.float32, device=fake_cuda, exclude_zero=True,
                                       noncontiguous=True)
    assert t.device.type == "cuda" and t.shape == (4, 3) and not t.is_contiguous()
    glasstorch.testing.assert_close(t, t.clone())
    u = t.clone()
    u[1, 2] = 100.0
    with pytest.raises(AssertionError, match=r"Mismatched elements: 1 / 12 \(8\.3%\)\n.* at index \(1, 2\)"):
        glasstorch.testing.assert_close(u, t)


MAKE_TENSOR_ERRORS = {
    "grad_int": lambda m: m.testing.make_tensor(2, dtype=m.int64, device="cpu", requires_grad=True),
    "low_high": lambda m: m.testing.make_tensor(2, dtype=m.float32, device="cpu", low=2, high=1),
    "out_of_range": lambda m: m.testing.make_tensor(2, dtype=m.uint8, device="cpu", low=-5, high=-1),
    "nan_low": lambda m: m.testing.make_tensor(2, dtype=m.float32, device="cpu", low=NAN),
}


@pytest.mark.parametrize("case", list(MAKE_TENSOR_ERRORS))
def test_make_tensor_errors_match_torch(case):
    fn = MAKE_TENSOR_ERRORS[case]
    theirs = outcome(torch, fn)
    assert theirs != "PASS"
    assert outcome(glasstorch, fn) == theirs


# ---- torch.jit -----------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_jit_script_and_trace_modules(tmp_path):
    jit = glasstorch.jit
    model = glasstorch.nn.Sequential(glasstorch.nn.Linear(3, 2), glasstorch.nn.ReLU())
    x = glasstorch.randn(4, 3)
    for scripted in (jit.script(model), jit.trace(model, x), jit.trace(model, example_inputs=(x,))):
        assert isinstance(scripted, jit.ScriptModule) and isinstance(scripted, glasstorch.nn.Sequential)
        assert scripted[0].weight is model[0].weight  # shares the parameters, as a scripted module does
        assert glasstorch.equal(scripted(x), model(x))
        assert list(scripted.state_dict()) == list(model.state_dict())
    assert type(model) is glasstorch.nn.Sequential  # the original is left as it was
    assert repr(jit.script(glasstorch.nn.Linear(2, 3))) == repr(torch.jit.script(torch.nn.Linear(2, 3)))

    path = tmp_path / "model.pt"
    jit.script(model).save(str(path))
    loaded = jit.load(str(path))
    assert isinstance(loaded, jit.ScriptModule) and glasstorch.equal(loaded(x), model(x))
    copied = copy.deepcopy(jit.script(model))
    assert isinstance(copied, jit.ScriptModule) and copied[0].weight is not model[0].weight
    assert glasstorch.equal(copied(x), model(x))
    assert glasstorch.equal(pickle.loads(pickle.dumps(jit.script(model)))(x), model(x))
    jit.save(model, str(tmp_path / "plain.pt"))
    assert glasstorch.equal(jit.load(str(tmp_path / "plain.pt"))(x), model(x))


def test_jit_deprecation_warnings_match_torch(tmp_path):
    def f(x):
        return x

    def warned(m, call) -> list:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call(m)
        # the distinct messages: torch repeats some, as it re-traces to check a trace
        return sorted({str(w.message) for w in caught if w.category is DeprecationWarning})

    calls = {
        "script": lambda m: m.jit.script(m.nn.Linear(2, 2)),
        "trace": lambda m: m.jit.trace(m.nn.Linear(2, 2), m.ones(1, 2)),
        "trace_fn": lambda m: m.jit.trace(f, m.ones(1, 2)),
        "trace_module": lambda m: m.jit.trace_module(m.nn.Linear(2, 2), {"forward": m.ones(1, 2)}),
        "save_load": lambda m: m.jit.load(m.jit.save(m.jit.script(m.nn.Linear(2, 2)), str(tmp_path / "a.pt"))
                                          or str(tmp_path / "a.pt")),
        "method_save": lambda m: m.jit.script(m.nn.Linear(2, 2)).save(str(tmp_path / "b.pt")),
        "freeze": lambda m: m.jit.freeze(m.jit.script(m.nn.Linear(2, 2)).eval()),
        "fork": lambda m: m.jit.wait(m.jit.fork(f, 1)),
        "decorators": lambda m: (m.jit.ignore(f), m.jit.unused(f), m.jit.export(f), m.jit.annotate(int, 1)),
    }
    for name, call in calls.items():
        assert warned(glasstorch, call) == warned(torch, call), name


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_jit_load_missing_file_matches_torch(tmp_path):
    missing = str(tmp_path / "nothing.pt")
    fn = lambda m: m.jit.load(missing)  # noqa: E731
    expected = ("ValueError", f"The provided filename {missing} does not exist")
    assert outcome(glasstorch, fn) == outcome(torch, fn) == expected


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_jit_functions_and_decorators():
    jit = glasstorch.jit

    def f(x, y=1):
        return x + y

    s = jit.script(f)
    assert isinstance(s, jit.ScriptFunction) and s.name == "f" and s(2, y=3) == 5
    assert jit.trace(f, (1,))(1) == 2
    assert jit.ignore(f) is f and jit.ignore(drop=True)(f) is f and jit.unused(f) is f and jit.export(f) is f
    assert jit.is_scripting() is torch.jit.is_scripting() is False
    assert jit.is_tracing() is False
    assert jit.annotate(list, [1]) == [1]
    assert jit.Final is typing.Final is torch.jit.Final
    fut = jit.fork(f, 1, y=5)
    assert jit.wait(fut) == fut.wait() == fut.value() == 6 and fut.done()
    failing = jit.fork(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        jit.wait(failing)


# ---- torch.version, torch.random -------------------------------------------------------------------------
def test_version():
    v = glasstorch.version
    assert v.__version__ == glasstorch.__version__  # one source
    assert v.cuda is None and v.hip is None  # a CPU torch says the same
    assert torch.version.hip is None and v.debug == torch.version.debug is False
    assert isinstance(v.git_version, str)


def test_random_module_and_fork_rng():
    for m in (glasstorch, torch):
        r = m.random
        r.manual_seed(1)
        before = r.get_rng_state()
        with r.fork_rng():
            r.manual_seed(5)
            assert r.initial_seed() == 5
            m.rand(3)
        assert r.initial_seed() == 1  # torch restores the seed too
        assert m.equal(r.get_rng_state(), before)
        a = m.rand(3)
        r.manual_seed(1)
        with r.fork_rng(devices=[]):
            m.rand(10)
        assert m.equal(m.rand(3), a)
        r.manual_seed(1)
        with r.fork_rng(enabled=False):
            m.rand(3)
        assert not m.equal(m.rand(3), a)  # not restored
    assert glasstorch.random.seed is glasstorch.seed
    assert glasstorch.random.default_generator is glasstorch.default_generator  # one generator


# ---- torch.profiler --------------------------------------------------------------------------------------
def _profile_block(m, **kwargs):
    x = m.ones(8, 8)
    with m.profiler.profile(activities=[m.profiler.ProfilerActivity.CPU], **kwargs) as prof:
        with m.profiler.record_function("my_block"):
            for _ in range(3):
                y = x + 1
            m.relu(y)
            m.relu(y)
    return prof


def test_profiler_counts_and_table_layout():
    ours, theirs = _profile_block(glasstorch), _profile_block(torch)
    counts = {e.key: e.count for e in ours.key_averages()}
    their_counts = {e.key: e.count for e in theirs.key_averages()}
    for key in ("my_block", "aten::add", "aten::relu"):
        assert counts[key] == their_counts[key], key
    block = next(e for e in ours.key_averages() if e.key == "my_block")
    children = sum(e.cpu_time_total for e in ours.events()
                   if e.cpu_parent is not None and e.cpu_parent.name == "my_block")
    assert block.self_cpu_time_total == pytest.approx(block.cpu_time_total - children)
    assert 0 < block.self_cpu_time_total < block.cpu_time_total

    def layout(table: str) -> tuple:
        """Column names and the widths of all columns but the name (its width depends on the names)."""
        lines = table.splitlines()
        return [c for c in lines[1].split("  ") if c.strip()], [len(c) for c in lines[0].split("  ") if c][1:]

    ours_table = ours.key_averages().table(sort_by="cpu_time_total", row_limit=2)
    theirs_table = theirs.key_averages().table(sort_by="cpu_time_total", row_limit=2)
    assert [c.strip() for c in layout(ours_table)[0]] == [c.strip() for c in layout(theirs_table)[0]]
    assert layout(ours_table)[1] == layout(theirs_table)[1]
    assert len(ours_table.splitlines()) == len(theirs_table.splitlines()) == 2 + 3 + 2  # header, 2 rows, footer
    assert ours_table.splitlines()[-1].startswith("Self CPU time total: ")
    assert ours_table.splitlines()[3].split()[0] == "my_block"  # the outermost block has the greatest total
    rows = ours.key_averages().table(sort_by="count").splitlines()[3:-2]
    assert rows[0].split()[0] == "aten::add" and rows[0].split()[-1] == "3"


def test_profiler_shapes_memory_and_stack():
    prof = _profile_block(glasstorch, record_shapes=True, profile_memory=True, with_stack=True)
    theirs = _profile_block(torch, record_shapes=True)
    add = next(e for e in prof.key_averages(group_by_input_shape=True) if e.key == "aten::add")
    their_add = next(e for e in theirs.key_averages(group_by_input_shape=True) if e.key == "aten::add")
    assert add.input_shapes == their_add.input_shapes[:2] == [[8, 8], []]  # torch's add lists alpha too
    assert add.cpu_memory_usage == 3 * 8 * 8 * 4  # three float32 (8, 8) results
    table = prof.key_averages(group_by_input_shape=True).table()
    assert "Input Shapes" in table and "CPU Mem" in table and "768 B" in table
    stacked = prof.key_averages(group_by_stack_n=2)
    assert any(__file__ in line for e in stacked for line in e.stack)
    assert "Source Location" in stacked.table()


def test_profiler_enums_match_torch():
    for ours, theirs in ((glasstorch.profiler.ProfilerActivity, torch.profiler.ProfilerActivity),
                         (glasstorch.profiler.ProfilerAction, torch.profiler.ProfilerAction)):
        assert {n: int(v.value) for n, v in ours.__members__.items()} == \
               {n: int(v.value if hasattr(v, "value") else v) for n, v in theirs.__members__.items()}
        assert [repr(v) for v in ours] == [repr(theirs.__members__[n]) for n in ours.__members__]


def test_profiler_schedule_matches_torch():
    for kwargs in (dict(wait=1, warmup=1, active=2), dict(wait=0, warmup=2, active=1, repeat=2, skip_first=3),
                   dict(wait=2, warmup=1, active=3, repeat=1, skip_first_wait=1)):
        ours, theirs = glasstorch.profiler.schedule(**kwargs), torch.profiler.schedule(**kwargs)
        assert [ours(i).name for i in range(16)] == [theirs(i).name for i in range(16)]
    with pytest.raises(AssertionError, match="Invalid profiler schedule arguments"):
        glasstorch.profiler.schedule(wait=0, warmup=0, active=0)


def test_profiler_steps_and_trace_handler(tmp_path):
    """on_trace_ready fires after each RECORD_AND_SAVE step, as in torch (torch's step numbers 5 and 9
    for this schedule); each saved cycle holds its own two steps."""
    saved = []
    handler = glasstorch.profiler.tensorboard_trace_handler(str(tmp_path), worker_name="w")

    def ready(prof):
        saved.append((prof.step_num, {e.key: e.count for e in prof.key_averages()}))
        handler(prof)

    sched = glasstorch.profiler.schedule(wait=1, warmup=1, active=2, repeat=2, skip_first=1)
    with glasstorch.profiler.profile(schedule=sched, on_trace_ready=ready) as prof:
        for _ in range(12):
            glasstorch.ones(2) + 1
            prof.step()
    assert [s for s, _ in saved] == [5, 9]
    assert all(counts == {"ProfilerStep*": 2, "aten::ones": 2, "aten::add": 2} for _, counts in saved)
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 2 and all(f.startswith("w.") and f.endswith(".pt.trace.json") for f in files)
    events = json.loads((tmp_path / files[0]).read_text())["traceEvents"]
    assert {e["name"] for e in events} >= {"aten::add", "ProfilerStep#3"} and all(e["ph"] == "X" for e in events)
    prof.export_chrome_trace(str(tmp_path / "t.json.gz"))
    assert json.loads(gzip.decompress((tmp_path / "t.json.gz").read_bytes()))["traceEvents"]


def test_profiler_training_step_rows():
    def step(m):
        model = m.nn.Linear(2, 2)
        opt = m.optim.SGD(model.parameters(), lr=0.1)
        with m.profiler.profile() as prof:
            model(m.ones(1, 2)).sum().backward()
            opt.step()
        return {e.key for e in prof.key_averages()}

    ours, theirs = step(glasstorch), step(torch)
    shared = {"aten::ones", "aten::sum", "SumBackward0", "AddmmBackward0", "Optimizer.step#SGD.step"}
    assert shared <= ours and shared <= theirs
    assert "nn.Module: Linear" in ours  # a built-in layer is one row here (PyTorch lists its aten ops)


def test_record_function_without_profiler_and_as_decorator():
    with glasstorch.profiler.record_function("nothing"):
        pass  # no profile running: nothing to record, no error

    @glasstorch.profiler.record_function("decorated")
    def work(x):
        return x * 2

    with glasstorch.profiler.profile() as prof:
        work(glasstorch.ones(2))
    keys = [e.key for e in prof.key_averages()]
    assert keys == ["aten::ones", "decorated", "aten::mul"]


def test_autograd_profiler_older_api():
    x = glasstorch.ones(3)
    with glasstorch.autograd.profiler.profile(record_shapes=True) as prof:
        with glasstorch.autograd.profiler.record_function("block"):
            x * 2
            x * 2
    assert glasstorch.autograd.profiler.record_function is glasstorch.profiler.record_function  # one class, as torch
    assert [e.name for e in prof.function_events] == ["block", "aten::mul", "aten::mul"]
    assert prof.table().count("aten::mul") == 2  # the older table has a row per call
    assert {e.key: e.count for e in prof.key_averages()} == {"block": 1, "aten::mul": 2}
    with glasstorch.autograd.profiler.profile(enabled=False) as off:
        x * 2
    assert len(off.function_events) == 0


# ---- torch.multiprocessing ---------------------------------------------------------------------------
def test_sharing_strategy_matches_torch():
    mp = glasstorch.multiprocessing
    assert mp.get_sharing_strategy() == torch.multiprocessing.get_sharing_strategy()
    assert mp.get_all_sharing_strategies() == torch.multiprocessing.get_all_sharing_strategies()
    fn = lambda m: m.multiprocessing.set_sharing_strategy("x")  # noqa: E731
    assert outcome(glasstorch, fn) == outcome(torch, fn)
    other = sorted(mp.get_all_sharing_strategies())[0]
    old = mp.get_sharing_strategy()
    mp.set_sharing_strategy(other)
    assert mp.get_sharing_strategy() == other
    mp.set_sharing_strategy(old)
    import multiprocessing

    assert mp.Process is multiprocessing.Process and mp.get_context is not None and mp.Queue is not None


def test_spawn_passes_the_rank(tmp_path):
    glasstorch.multiprocessing.spawn(children.write_rank, args=(str(tmp_path), "hi"), nprocs=2)
    assert sorted(p.read_text() for p in tmp_path.iterdir()) == ["hi:0", "hi:1"]


@pytest.mark.skipif(sys.platform != "linux", reason="the failure paths start their children by fork")
def test_spawn_failures():
    mp = glasstorch.multiprocessing
    with pytest.raises(mp.ProcessRaisedException) as info:
        mp.start_processes(children.raise_on_rank_one, nprocs=2, start_method="fork")
    assert info.value.error_index == 1
    assert "-- Process 1 terminated with the following error:\n" in str(info.value)
    assert "ValueError: boom from rank 1" in str(info.value)
    context = mp.start_processes(children.exit_with_three, nprocs=1, join=False, start_method="fork")
    with pytest.raises(mp.ProcessExitedException, match="^process 0 terminated with exit code 3$") as info:
        while not context.join():
            pass
    assert info.value.exit_code == 3


def test_spawn_under_glasstorch_run_gives_children_glasstorch(tmp_path):
    """A spawned child imports the script again; under `glasstorch run` its `import torch` must give
    glasstorch there too (without the fix the children computed with the real torch)."""
    script = tmp_path / "spawner.py"
    script.write_text(textwrap.dedent("""
        import sys
        import torch
        import torch.multiprocessing as mp

        def work(rank, folder):
            with open(f"{folder}/rank{rank}", "w") as f:
                f.write(f"{torch.__name__} {torch.ones(2).sum().item()}")

        if __name__ == "__main__":
            mp.spawn(work, args=(sys.argv[1],), nprocs=2)
    """))
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run([sys.executable, "-m", "glasstorch", "run", str(script), str(out)], capture_output=True,
                          text=True, timeout=240, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.read_text() for p in out.iterdir()) == ["glasstorch 2.0", "glasstorch 2.0"]


# ---- torch.hub -------------------------------------------------------------------------------------------
HUBCONF = textwrap.dedent('''
    dependencies = ["numpy"]

    def double(x, times=2):
        """Multiply x."""
        return x * times

    def _private():
        pass

    not_callable = 3
''')


def test_hub_local_matches_torch(tmp_path):
    (tmp_path / "hubconf.py").write_text(HUBCONF)
    d = str(tmp_path)
    cases = {
        "load": lambda m: m.hub.load(d, "double", 4, source="local", times=3),
        "missing": lambda m: m.hub.load(d, "nope", source="local"),
        "not_callable": lambda m: m.hub.load(d, "not_callable", source="local"),
        "not_a_name": lambda m: m.hub.load(d, 3, source="local"),
        "source": lambda m: m.hub.load(d, "double", source="gitlab"),
    }
    for name, fn in cases.items():
        results = []
        for m in (glasstorch, torch):
            try:
                results.append(("ok", fn(m)))
            except Exception as e:  # noqa: BLE001 - compared with torch's
                results.append((type(e).__name__, str(e)))
        assert results[0] == results[1], name
    assert glasstorch.hub.load(d, "double", 4, source="local") == 8
    assert glasstorch.hub.help(d, "double", source="local") == "Multiply x."
    assert glasstorch.hub.list(d, source="local") == ["double"]  # torch.hub.list reads GitHub only
    (tmp_path / "hubconf.py").write_text("dependencies = ['surely_not_a_module_here']\ndef f():\n    pass\n")
    with pytest.raises(RuntimeError, match="^Missing dependencies: surely_not_a_module_here$"):
        glasstorch.hub.load(d, "f", source="local")


def test_hub_dirs_and_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(glasstorch.hub, "_hub_dir", None)
    assert glasstorch.hub.get_dir() == str(tmp_path / "home" / "hub")
    glasstorch.hub.set_dir(str(tmp_path / "mine"))
    assert glasstorch.hub.get_dir() == str(tmp_path / "mine")
    from urllib.error import URLError

    with pytest.raises(URLError, match="does not download"):
        glasstorch.hub.load("someone/repo", "model")
    with pytest.raises(URLError, match="does not download"):
        glasstorch.hub.download_url_to_file("https://example.com/w.pth", str(tmp_path / "w.pth"))
    url = "https://example.com/weights/net-1234.pth"
    with pytest.raises(URLError, match="net-1234.pth"):
        glasstorch.hub.load_state_dict_from_url(url)
    # a checkpoint already in the cache loads (as PyTorch's cached downloads do)
    os.makedirs(tmp_path / "mine" / "checkpoints")
    glasstorch.save({"w": glasstorch.ones(2)}, str(tmp_path / "mine" / "checkpoints" / "net-1234.pth"))
    assert glasstorch.equal(glasstorch.hub.load_state_dict_from_url(url)["w"], glasstorch.ones(2))
    # a repository unpacked in the cache as PyTorch leaves it (owner_name_ref) loads without network
    repo = tmp_path / "mine" / "someone_repo_main"
    repo.mkdir()
    (repo / "hubconf.py").write_text(HUBCONF)
    assert glasstorch.hub.load("someone/repo", "double", 5) == 10


# ---- wiring: the namespaces under `glasstorch run` ---------------------------------------------------------
def test_namespaces_import_as_torch(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import torch
        import torch.testing
        import torch.jit, torch.hub, torch.version, torch.random, torch.profiler, torch.autograd.profiler
        import torch.multiprocessing as mp
        from torch.testing import assert_close, make_tensor
        from torch.profiler import profile, record_function, ProfilerActivity
        from torch.multiprocessing.spawn import ProcessRaisedException
        assert_close(torch.ones(2), torch.ones(2))
        result = (torch.testing.__name__, mp.__name__, torch.version.cuda, torch.jit.is_scripting(),
                  torch.pi, torch.newaxis)
    """))
    result = run_script(str(script))["result"]
    assert result == ("glasstorch.testing", "glasstorch.multiprocessing", None, False, math.pi, None)
