"""NumPy's argument names, which PyTorch's argument parser accepts in place of its own: `axis` for `dim`,
`keepdims` for `keepdim` (torch.sum(x, axis=0, keepdims=True), x.softmax(axis=1), torch.cat(ts, axis=1), ...),
and the TypeError when both names are given. Every call is made on glasstorch and on torch and compared.

Each alias is given a value that differs from the default, so a library that ignored the alias would return
a different shape or different values and the comparison would fail.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import glasstorch
from _compare import assert_same, assert_same_error, tensors

_rng = np.random.default_rng(5)
X = _rng.standard_normal((3, 4))  # distinct values: sort/median/mode ties cannot pick different indices
IDX = np.array([[0, 2], [1, 1], [3, 0]], dtype=np.int64)


def _t(m, a):
    return m.from_numpy(a.copy())


def _long(m):
    return _t(m, IDX)


# name -> fn(module, x): one call using NumPy's names, with non-default values.
CALLS = {
    "sum": lambda m, x: m.sum(x, axis=0, keepdims=True),
    "Tensor.sum": lambda m, x: x.sum(axis=1),
    "mean": lambda m, x: m.mean(x, axis=1, keepdims=True),
    "Tensor.mean": lambda m, x: x.mean(axis=(0, 1), keepdims=True),
    "prod": lambda m, x: m.prod(x, axis=1, keepdims=True),
    "Tensor.prod": lambda m, x: x.prod(axis=0),
    "std": lambda m, x: m.std(x, axis=1, keepdims=True),
    "Tensor.std": lambda m, x: x.std(axis=0, correction=0),
    "var": lambda m, x: m.var(x, axis=0, keepdims=True),
    "Tensor.var": lambda m, x: x.var(1, True, keepdims=True),
    "std_mean": lambda m, x: m.std_mean(x, axis=1, keepdims=True),
    "var_mean": lambda m, x: m.var_mean(x, axis=0, keepdims=True),
    "max": lambda m, x: m.max(x, axis=0, keepdims=True),
    "Tensor.max": lambda m, x: x.max(axis=1),
    "min": lambda m, x: m.min(x, axis=1, keepdims=True),
    "Tensor.min": lambda m, x: x.min(axis=0),
    "amax": lambda m, x: m.amax(x, axis=0, keepdims=True),
    "Tensor.amax": lambda m, x: x.amax(axis=1),
    "amin": lambda m, x: m.amin(x, axis=1, keepdims=True),
    "Tensor.amin": lambda m, x: x.amin(axis=0),
    "argmax": lambda m, x: m.argmax(x, axis=1, keepdims=True),
    "Tensor.argmax": lambda m, x: x.argmax(axis=0),
    "argmin": lambda m, x: m.argmin(x, axis=0, keepdims=True),
    "Tensor.argmin": lambda m, x: x.argmin(axis=1),
    "all": lambda m, x: m.all(x > 0, axis=1, keepdims=True),
    "Tensor.all": lambda m, x: (x > -1).all(axis=0),
    "any": lambda m, x: m.any(x > 0, axis=0, keepdims=True),
    "Tensor.any": lambda m, x: (x > 1).any(axis=1),
    "logsumexp": lambda m, x: m.logsumexp(x, axis=1, keepdims=True),
    "Tensor.logsumexp": lambda m, x: x.logsumexp(axis=0),
    "cumsum": lambda m, x: m.cumsum(x, axis=1),
    "Tensor.cumsum": lambda m, x: x.cumsum(axis=0),
    "cumprod": lambda m, x: m.cumprod(x, axis=1),
    "Tensor.cumprod": lambda m, x: x.cumprod(axis=0),
    "median": lambda m, x: m.median(x, axis=0, keepdims=True),
    "Tensor.median": lambda m, x: x.median(axis=1),
    "nanmedian": lambda m, x: m.nanmedian(x, axis=0, keepdims=True),
    "Tensor.nanmedian": lambda m, x: x.nanmedian(axis=1),
    "mode": lambda m, x: m.mode(x.round(), axis=0, keepdims=True),
    "Tensor.mode": lambda m, x: x.round().mode(axis=0),
    "sort": lambda m, x: m.sort(x, axis=0),
    "Tensor.sort": lambda m, x: x.sort(axis=0, descending=True),
    "argsort": lambda m, x: m.argsort(x, axis=0),
    "Tensor.argsort": lambda m, x: x.argsort(axis=0, descending=True),
    "topk": lambda m, x: m.topk(x, 2, axis=0),
    "Tensor.topk": lambda m, x: x.topk(2, axis=0, largest=False),
    "kthvalue": lambda m, x: m.kthvalue(x, 2, axis=0, keepdims=True),
    "Tensor.kthvalue": lambda m, x: x.kthvalue(2, axis=0),
    "softmax": lambda m, x: m.softmax(x, axis=0),
    "Tensor.softmax": lambda m, x: x.softmax(axis=0),
    "log_softmax": lambda m, x: m.log_softmax(x, axis=0),
    "Tensor.log_softmax": lambda m, x: x.log_softmax(axis=0),
    "cat": lambda m, x: m.cat([x, x * 2], axis=1),
    "concat": lambda m, x: m.concat([x, x * 2], axis=1),
    "concatenate": lambda m, x: m.concatenate([x, x * 2], axis=1),
    "stack": lambda m, x: m.stack([x, x * 2], axis=2),
    "squeeze": lambda m, x: m.squeeze(x[:1, :, None], axis=0),  # (4, 1), not (4,)
    "Tensor.squeeze": lambda m, x: x[:, :1, None].squeeze(axis=1),
    "unsqueeze": lambda m, x: m.unsqueeze(x, axis=1),
    "Tensor.unsqueeze": lambda m, x: x.unsqueeze(axis=-1),
    "count_nonzero": lambda m, x: m.count_nonzero(x.round(), axis=1),
    "Tensor.count_nonzero": lambda m, x: x.round().count_nonzero(axis=0),
    "unbind": lambda m, x: m.unbind(x, axis=1),
    "Tensor.unbind": lambda m, x: x.unbind(axis=1),
    "chunk": lambda m, x: m.chunk(x, 2, axis=1),
    "Tensor.chunk": lambda m, x: x.chunk(2, axis=1),
    "take_along_dim": lambda m, x: m.take_along_dim(x, _long(m), axis=1),
    "Tensor.take_along_dim": lambda m, x: x.take_along_dim(_long(m)[:, :1], axis=1),
    "narrow": lambda m, x: m.narrow(x, axis=1, start=1, length=2),
    "Tensor.narrow": lambda m, x: x.narrow(axis=1, start=2, length=2),
    "index_select": lambda m, x: m.index_select(x, axis=1, index=_long(m)[:, 0]),
    "Tensor.index_select": lambda m, x: x.index_select(axis=1, index=_long(m)[0]),
    "gather": lambda m, x: m.gather(x, axis=1, index=_long(m)),
    "Tensor.gather": lambda m, x: x.gather(axis=0, index=_long(m)[:, 1:] % 3),
    "diff": lambda m, x: m.diff(x, axis=0),
    "Tensor.diff": lambda m, x: x.diff(axis=0),
    "nansum": lambda m, x: m.nansum(x, axis=0, keepdims=True),
    "Tensor.nansum": lambda m, x: x.nansum(axis=1),
    "nanmean": lambda m, x: m.nanmean(x, axis=0, keepdims=True),
    "Tensor.nanmean": lambda m, x: x.nanmean(axis=1),
}


@pytest.mark.parametrize("name", list(CALLS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_alias_forward_backward(name, dtype):
    """Values, shapes and dtypes as torch's, and the gradient through the call too."""
    call = CALLS[name]
    (ours_x,) = tensors(glasstorch, [X.astype(dtype)], requires_grad=True)
    (their_x,) = tensors(torch, [X.astype(dtype)], requires_grad=True)
    ours, theirs = call(glasstorch, ours_x), call(torch, their_x)
    assert_same(ours, theirs)
    # A weighted sum of the float outputs, so each element's gradient differs (a plain sum would make
    # softmax's gradient vanish). Default tolerances: float64 ~1e-10 and float32 ~1e-5 relative.
    outs = [o for o in (ours if isinstance(ours, (tuple, list)) else [ours]) if o.dtype.is_floating_point]
    touts = [o for o in (theirs if isinstance(theirs, (tuple, list)) else [theirs]) if o.dtype.is_floating_point]
    if not any(o.requires_grad for o in touts):
        return  # integer/boolean results (argmax, all, count_nonzero, ...)
    weights = [np.arange(1, o.numel() + 1, dtype=dtype).reshape(tuple(o.shape)) for o in touts]
    sum(((o * _t(glasstorch, w)).sum() for o, w in zip(outs, weights))).backward()
    sum(((o * _t(torch, w)).sum() for o, w in zip(touts, weights))).backward()
    assert_same(ours_x.grad, their_x.grad, what="grad")


def test_out_with_axis():
    """torch.sum's out= wrapper passes the alias through."""
    def f(m, x):
        out = m.empty(1, 4, dtype=m.float64)
        m.sum(x, axis=0, keepdims=True, out=out)
        return out
    assert_same(f(glasstorch, _t(glasstorch, X)), f(torch, _t(torch, X)))


# Both names at once: torch's parser refuses the alias as an unexpected keyword. The dim given is not the
# default, since a default dim next to an alias cannot be told from an absent one.
BOTH = {
    "sum": lambda m, x: m.sum(x, dim=0, axis=0),
    "Tensor.sum": lambda m, x: x.sum(0, axis=1),
    "sum keepdims": lambda m, x: m.sum(x, 0, keepdim=True, keepdims=True),
    "mean": lambda m, x: x.mean(1, axis=1),
    "max": lambda m, x: m.max(x, 1, axis=1),
    "amax keepdims": lambda m, x: x.amax(1, keepdim=True, keepdims=False),
    "argmax": lambda m, x: m.argmax(x, 1, axis=1),
    "var": lambda m, x: m.var(x, 1, axis=1),
    "std_mean": lambda m, x: m.std_mean(x, 1, axis=1),
    "nansum": lambda m, x: m.nansum(x, 1, axis=1),
    "logsumexp": lambda m, x: m.logsumexp(x, 1, axis=1),
    "cumsum": lambda m, x: m.cumsum(x, 1, axis=1),
    "median": lambda m, x: m.median(x, 1, axis=1),
    "sort": lambda m, x: m.sort(x, 0, axis=0),
    "topk": lambda m, x: x.topk(1, 0, axis=0),
    "softmax": lambda m, x: m.softmax(x, 0, axis=0),
    "Tensor.softmax": lambda m, x: x.softmax(0, axis=0),
    "Tensor.log_softmax": lambda m, x: x.log_softmax(0, axis=0),
    "cat": lambda m, x: m.cat([x, x], dim=1, axis=1),
    "stack": lambda m, x: m.stack([x, x], 1, axis=1),
    "unsqueeze": lambda m, x: x.unsqueeze(0, axis=0),
    "squeeze": lambda m, x: m.squeeze(x, 0, axis=0),
    "chunk": lambda m, x: x.chunk(2, 1, axis=1),
    "diff": lambda m, x: m.diff(x, dim=0, axis=0),
    "kthvalue": lambda m, x: m.kthvalue(x, 1, 0, axis=0),
    "narrow": lambda m, x: x.narrow(1, 0, 1, axis=1),
    "gather": lambda m, x: m.gather(x, 1, _long(m), axis=1),
    "index_select": lambda m, x: x.index_select(1, _long(m)[0], axis=1),
}


@pytest.mark.parametrize("name", list(BOTH))
def test_both_names_error(name):
    ours, theirs = assert_same_error(BOTH[name], [X], message=False)
    if "invalid combination" in str(theirs):  # overloaded (max, var, ...): torch lists every signature
        assert "keyword argument 'axis'" in str(ours) or "keyword argument 'keepdims'" in str(ours), str(ours)
    else:
        assert str(ours) == str(theirs)


@pytest.mark.parametrize("call", [lambda m, x: x.softmax(), lambda m, x: x.log_softmax(),
                                  lambda m, x: x.unsqueeze(), lambda m, x: x.cumsum(),
                                  lambda m, x: x.gather(1), lambda m, x: m.index_select(x, 1)],
                         ids=["softmax", "log_softmax", "unsqueeze", "cumsum", "gather", "index_select"])
def test_required_dim_still_required(call):
    """Giving dim (and what follows it) a default so that axis can stand for it keeps them required."""
    ours, theirs = assert_same_error(call, [X], message=False)
    if "invalid combination" in str(theirs):  # torch lists the overloads; ours names the missing argument
        assert "missing" in str(ours), str(ours)
    else:
        assert str(ours) == str(theirs)


@pytest.mark.parametrize("call", [lambda m, x: m.cumsum(x), lambda m, x: m.logsumexp(x),
                                  lambda m, x: m.cumprod(x), lambda m, x: m.unsqueeze(x),
                                  lambda m, x: m.narrow(x, 0, 1), lambda m, x: x.narrow(0)],
                         ids=["cumsum", "logsumexp", "cumprod", "unsqueeze", "narrow", "Tensor.narrow"])
def test_required_dim_functions(call):
    """torch words these as 'invalid combination of arguments'; the class is what callers catch."""
    assert_same_error(call, [X], message=False)


@pytest.mark.parametrize("call", [lambda m, x: m.nn.functional.softmax(x, axis=0),
                                  lambda m, x: m.norm(x, axis=0), lambda m, x: m.flatten(x, axis=0),
                                  lambda m, x: m.split(x, 2, axis=1), lambda m, x: m.roll(x, 1, axis=1)],
                         ids=["F.softmax", "norm", "flatten", "split", "roll"])
def test_no_alias_where_torch_has_none(call):
    """Python-level torch functions take no NumPy names: the same TypeError."""
    assert_same_error(call, [X], message=False)
