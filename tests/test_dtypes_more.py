"""Legacy tensor types, Generator objects, inference mode and the wider dtypes, against torch live."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import glasstorch
from _compare import assert_same, assert_same_error, raised

LIBS = (glasstorch, torch)


def both(fn):
    """fn(lib) on glasstorch and on torch."""
    return fn(glasstorch), fn(torch)


# ---- legacy constructors -------------------------------------------------------------------------
LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
          "ByteTensor", "BoolTensor"]


@pytest.mark.parametrize("name", LEGACY)
@pytest.mark.parametrize("args", [([1, 0, 2],), ([[1.5, 2.0]],), ((3, 1),), (2, 3), (torch.Size([2, 1]),), ()],
                         ids=["list", "nested", "tuple-data", "sizes", "Size", "empty"])
def test_legacy_constructor(name, args):
    def make(lib):
        a = tuple(lib.Size(x) if isinstance(x, torch.Size) else x for x in args)
        return getattr(lib, name)(*a)

    ours, theirs = both(make)
    if len(args) >= 1 and (isinstance(args[0], int) or isinstance(args[0], torch.Size)):
        # sized: PyTorch leaves the memory uninitialised, so only shape and dtype are comparable
        assert tuple(ours.shape) == tuple(theirs.shape) and repr(ours.dtype) == repr(theirs.dtype)
    else:
        assert_same(ours, theirs)
    assert type(ours) is glasstorch.Tensor


def test_legacy_isinstance_and_type():
    for lib in LIBS:
        x = lib.zeros(2)
        assert isinstance(x, lib.FloatTensor) and not isinstance(x, lib.DoubleTensor)
        assert isinstance(x.long(), lib.LongTensor) and isinstance(lib.FloatTensor([1]), lib.Tensor)
        assert not issubclass(lib.FloatTensor, lib.Tensor)
    assert repr(glasstorch.FloatTensor) == "<class 'glasstorch.FloatTensor'>"
    for target in ["DoubleTensor", "IntTensor", "BoolTensor"]:
        ours, theirs = both(lambda lib: lib.tensor([1.5, 0.0]).type(getattr(lib, target)))
        assert_same(ours, theirs)
        ours, theirs = both(lambda lib: lib.tensor([1.5, 0.0]).type("torch." + target))
        assert_same(ours, theirs)
    assert_same(*both(lambda lib: lib.tensor([1.5]).type(lib.int16)))
    assert_same(*both(lambda lib: lib.tensor([1, 2], dtype=lib.int8).type()))
    assert_same_error(lambda lib: lib.zeros(2).type("torch.FooTensor"))


def test_legacy_errors_and_aliasing():
    assert_same_error(lambda lib: lib.FloatTensor(lib.zeros(2, dtype=lib.float64)))
    assert_same_error(lambda lib: lib.FloatTensor(2.5))
    for lib in LIBS:
        src = lib.zeros(2)
        alias = lib.FloatTensor(src)  # same dtype: shares memory, as PyTorch's does
        src.add_(1)
        assert alias.tolist() == [1.0, 1.0]
    assert_same(*both(lambda lib: lib.Tensor()))
    assert_same(*both(lambda lib: lib.Tensor([[1, 2]])))
    assert_same(*both(lambda lib: lib.Tensor(lib.tensor([3, 4]))))  # keeps the int64 dtype: an alias
    assert tuple(glasstorch.Tensor(glasstorch.Size([2, 1])).shape) == tuple(torch.Tensor(torch.Size([2, 1])).shape)


@pytest.mark.parametrize("method, args", [
    ("new_tensor", ([1.5, 2.0],)), ("new_zeros", (2, 3)), ("new_zeros", ((2, 3),)), ("new_ones", ((2,),)),
    ("new_full", ((2,), 3)), ("new_empty", (0,)),
])
def test_new_methods(method, args):
    for dtype in ("int32", "float64"):
        ours, theirs = both(lambda lib: getattr(lib.zeros(1, dtype=getattr(lib, dtype)), method)(*args))
        assert_same(ours, theirs)
        ours, theirs = both(lambda lib: getattr(lib.zeros(1, dtype=getattr(lib, dtype)), method)(*args, dtype=lib.float16))
        assert_same(ours, theirs)


def test_as_methods():
    assert_same(*both(lambda lib: lib.arange(6.0).type_as(lib.zeros(1, dtype=lib.int16))))
    assert_same(*both(lambda lib: lib.arange(6.0).view_as(lib.zeros(2, 3))))
    assert_same(*both(lambda lib: lib.arange(6.0).reshape_as(lib.zeros(3, 2))))
    assert_same(*both(lambda lib: lib.arange(3.0).expand_as(lib.zeros(2, 3))))


# ---- Generator objects -------------------------------------------------------------------------------
DRAWS = {
    "rand": lambda lib, g: lib.rand(20, generator=g),
    "randn": lambda lib, g: lib.randn(4, 5, generator=g, dtype=lib.float64),
    "randint": lambda lib, g: lib.randint(0, 100, (20,), generator=g),
    "randint_high": lambda lib, g: lib.randint(7, (20,), generator=g),
    "randperm": lambda lib, g: lib.randperm(20, generator=g),
    "normal_tensor": lambda lib, g: lib.normal(lib.zeros(20), 2.0, generator=g),
    "normal_size": lambda lib, g: lib.normal(1.0, 2.0, (20,), generator=g),
    "bernoulli": lambda lib, g: lib.bernoulli(lib.full((50,), 0.5), generator=g),
    "multinomial": lambda lib, g: lib.multinomial(lib.ones(3, 10), 5, generator=g),
    "poisson": lambda lib, g: lib.poisson(lib.full((20,), 3.0), generator=g),
    "rand_like": lambda lib, g: lib.rand_like(lib.ones(20), generator=g),
    "randn_like": lambda lib, g: lib.randn_like(lib.ones(20), generator=g),
    "randint_like": lambda lib, g: lib.randint_like(lib.ones(20), 10, generator=g),
    "uniform_": lambda lib, g: lib.empty(20).uniform_(-2, 3, generator=g),
    "normal_": lambda lib, g: lib.empty(20).normal_(1, 2, generator=g),
    "random_": lambda lib, g: lib.empty(20).random_(0, 100, generator=g),
    "bernoulli_": lambda lib, g: lib.empty(20).bernoulli_(0.5, generator=g),
    "exponential_": lambda lib, g: lib.empty(20).exponential_(2.0, generator=g),
    "geometric_": lambda lib, g: lib.empty(20).geometric_(0.3, generator=g),
    "log_normal_": lambda lib, g: lib.empty(20).log_normal_(generator=g),
    "cauchy_": lambda lib, g: lib.empty(20).cauchy_(generator=g),
    "init.uniform_": lambda lib, g: lib.nn.init.uniform_(lib.empty(4, 4), generator=g),
    "init.normal_": lambda lib, g: lib.nn.init.normal_(lib.empty(4, 4), generator=g),
    "init.xavier_uniform_": lambda lib, g: lib.nn.init.xavier_uniform_(lib.empty(4, 4), generator=g),
    "init.xavier_normal_": lambda lib, g: lib.nn.init.xavier_normal_(lib.empty(4, 4), generator=g),
    "init.kaiming_uniform_": lambda lib, g: lib.nn.init.kaiming_uniform_(lib.empty(4, 4), generator=g),
    "init.kaiming_normal_": lambda lib, g: lib.nn.init.kaiming_normal_(lib.empty(4, 4), generator=g),
    "init.trunc_normal_": lambda lib, g: lib.nn.init.trunc_normal_(lib.empty(4, 4), generator=g),
    "init.orthogonal_": lambda lib, g: lib.nn.init.orthogonal_(lib.empty(4, 4), generator=g),
    "RandomSampler": lambda lib, g: lib.tensor(list(lib.utils.data.RandomSampler(range(20), generator=g))),
    "DataLoader": lambda lib, g: lib.cat(list(lib.utils.data.DataLoader(lib.arange(20), batch_size=3, shuffle=True,
                                                                         generator=g))),
    "random_split": lambda lib, g: lib.tensor(lib.utils.data.random_split(range(20), [10, 10], generator=g)[0].indices),
}


@pytest.mark.parametrize("name", list(DRAWS))
def test_generator_argument(name):
    """Every random function draws from the generator it is given, on both libraries: the same seed
    gives the same numbers, another seed other numbers, and the global generator is left alone.
    (The streams themselves differ from PyTorch's by design: NumPy's PCG64.)"""
    draw = DRAWS[name]
    for lib in LIBS:
        lib.manual_seed(0)
        before = lib.get_rng_state()
        a = draw(lib, lib.Generator().manual_seed(5))
        b = draw(lib, lib.Generator().manual_seed(5))
        c = draw(lib, lib.Generator().manual_seed(6))
        assert lib.equal(a, b), lib.__name__
        assert not lib.equal(a, c), lib.__name__
        assert lib.equal(lib.get_rng_state(), before), f"{lib.__name__}: the global generator was used"
    ours, theirs = draw(glasstorch, glasstorch.Generator()), draw(torch, torch.Generator())
    assert tuple(ours.shape) == tuple(theirs.shape) and repr(ours.dtype) == repr(theirs.dtype)


def test_generator_methods():
    for lib in LIBS:
        g = lib.Generator()
        assert g.initial_seed() == 67280421310721 and str(g.device) == "cpu"
        assert g.manual_seed(3) is g and g.initial_seed() == 3
        assert g.manual_seed(-1).initial_seed() == 2 ** 64 - 1  # negative seeds wrap as in PyTorch
        s = g.seed()
        assert isinstance(s, int) and g.initial_seed() == s
        state = g.get_state()
        assert repr(state.dtype) == "torch.uint8" and state.ndim == 1
        a = lib.rand(5, generator=g)
        assert g.set_state(state) is g
        assert lib.equal(lib.rand(5, generator=g), a)
        assert lib.manual_seed(1) is lib.default_generator
        assert lib.Generator(device="cpu").device == lib.device("cpu")
    assert_same_error(lambda lib: lib.Generator().manual_seed(2 ** 64))
    assert_same_error(lambda lib: lib.Generator().manual_seed(-2 ** 63 - 1))
    assert_same_error(lambda lib: lib.Generator().set_state(lib.zeros(3)))
    assert_same_error(lambda lib: lib.Generator().set_state([1, 2]))
    ours, theirs = assert_same_error(lambda lib: lib.Generator().set_state(lib.zeros(3, dtype=lib.uint8)), message=False)
    assert "3" in str(ours)


# ---- inference mode ----------------------------------------------------------------------------------
def _inference_flags(lib):
    with lib.inference_mode():
        made = lib.ones(2)
        product = lib.ones(2, requires_grad=True) * 2
        inside = lib.is_inference_mode_enabled(), lib.is_grad_enabled()
        with lib.inference_mode(False):
            nested = lib.is_inference_mode_enabled(), lib.is_grad_enabled(), lib.ones(1).is_inference()
    normal = lib.ones(2)
    with lib.inference_mode():
        view_of_normal, op_of_normal = normal.view(2), normal * 1
    with lib.no_grad():
        with lib.inference_mode(False):
            grad_under_no_grad = lib.is_grad_enabled()
    return [made.is_inference(), product.is_inference(), product.requires_grad, inside, nested,
            lib.is_inference_mode_enabled(), normal.is_inference(), view_of_normal.is_inference(),
            op_of_normal.is_inference(), made.clone().is_inference(), (made + 1).is_inference(),
            made.detach().is_inference(), made.view(2, 1).is_inference(), lib.is_inference(made),
            grad_under_no_grad]


def test_inference_mode_flags():
    assert _inference_flags(glasstorch) == _inference_flags(torch)


def test_inference_mode_decorator():
    for lib in LIBS:
        @lib.inference_mode()
        def called():
            return lib.ones(1).is_inference(), lib.is_grad_enabled()

        @lib.inference_mode
        def bare():
            return lib.ones(1).is_inference()

        assert called() == (True, False) and bare() is True and lib.is_grad_enabled()


def _inference_tensor(lib):
    with lib.inference_mode():
        return lib.ones(2)


@pytest.mark.parametrize("use", [
    lambda lib, t: (lib.ones(2, requires_grad=True) * t).sum().backward(),
    lambda lib, t: lib.nn.functional.linear(t, lib.ones(2, 2, requires_grad=True)),
    lambda lib, t: t.add_(1),
    lambda lib, t: t.zero_(),
    lambda lib, t: t.fill_(3),
    lambda lib, t: t.copy_(lib.zeros(2)),
    lambda lib, t: t.normal_(),
    lambda lib, t: t.uniform_(),
    lambda lib, t: t.__setitem__(0, 5.0),
    lambda lib, t: t.view(2).mul_(2),
    lambda lib, t: t.requires_grad_(),
    lambda lib, t: t._version,
], ids=["saved", "linear", "add_", "zero_", "fill_", "copy_", "normal_", "uniform_", "setitem", "view-mul_",
        "requires_grad_", "_version"])
def test_inference_tensor_errors(use):
    ours, _ = assert_same_error(lambda lib: use(lib, _inference_tensor(lib)))
    t = _inference_tensor(glasstorch)
    raised(use, glasstorch, t)
    # Refused before anything was written. (PyTorch checks after its kernel ran, so its in-place ops
    # leave the new values behind along with the error; glasstorch deliberately does not.)
    assert t.tolist() == [1.0, 1.0]


def test_inference_tensor_allowed_uses():
    for lib in LIBS:
        t = _inference_tensor(lib)
        w = lib.ones(2, requires_grad=True)
        (w + t).sum().backward()  # nothing of t saved: allowed
        assert w.grad.tolist() == [1.0, 1.0]
        with lib.no_grad():
            assert raised(t.add_, 1) is not None  # no_grad does not make in-place on it legal
        t = _inference_tensor(lib)  # (PyTorch has written the sum before it raises; glasstorch refuses first)
        with lib.inference_mode():
            t.add_(1)  # inside inference mode it is
        assert t.tolist() == [2.0, 2.0]
        normal = lib.ones(2)
        with lib.inference_mode():
            normal.mul_(3)  # a normal tensor may be changed in inference mode
        assert normal.tolist() == [3.0, 3.0] and not normal.is_inference()
