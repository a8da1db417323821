"""Scaled dot-product attention as one op with its own backward node.

    softmax(q @ k^T * scale + bias) @ v,  q (..., L, E), k (..., S, E), v (..., S, Ev) -> (..., L, Ev)

The bias is a causal mask, a boolean mask (True = may attend) or a float mask added to the
scores. A query row that may attend to nothing gets zeros (PyTorch's "safe softmax"), not NaN.

The forward keeps the attention probabilities; the backward is the usual chain through
softmax written with Tensor ops, so a graph of the gradient (create_graph=True) is recorded
when wanted: in that case the probabilities are recomputed from q and k with recorded ops.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _dtype
from .._ops import linalg as _linalg, pointwise as P, reduction as R
from .._ops.creation import zeros
from .._ops.shape import cat
from ..amp.autocast_mode import autocast_op
from .._ops._util import (Node, Tensor, _GradMode, _make, broadcast_error, c_type_name, device_mismatch, record,
                          sum_to, type_word)
from .._ops.indexing import masked_fill
from .._random import rng_of

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _probs(q: Tensor, k: Tensor, allowed: Tensor | None, bias: Tensor | None, scale: float) -> Tensor:
    """softmax(q @ k^T * scale, masked), with rows that may attend to nothing set to zero; recorded ops."""
    scores = _linalg.matmul(q, k.transpose(-2, -1)) * scale
    if allowed is not None:
        scores = masked_fill(scores, P.logical_not(allowed), -math.inf)
    if bias is not None:
        scores = scores + bias
    dead = (scores._data == -math.inf).all(axis=-1, keepdims=True)
    if not dead.any():
        return R.softmax(scores, -1)
    dead_t = _make(dead, q.device)
    return masked_fill(R.softmax(masked_fill(scores, dead_t, 0.0), -1), dead_t, 0.0)


def _probs_array(xp, q, k, allowed, bias, scale: float):
    """The same probabilities as `_probs`, on backend arrays, overwriting one scores array in place."""
    s = q @ k.swapaxes(-1, -2)
    s *= s.dtype.type(scale)
    if allowed is not None:
        s = _fit(xp, s, allowed)
        xp.copyto(s, s.dtype.type(-math.inf), where=~allowed)
    if bias is not None:
        s = _fit(xp, s, bias)
        s += bias
    top = s.max(axis=-1, keepdims=True)
    dead = None
    if allowed is not None or bias is not None:
        # a row with nothing to attend to (all -inf) gets zeros, as in PyTorch's safe softmax: shift it by
        # 0 instead of -inf (exp then gives zeros) and divide it by 1 instead of 0, so no nan is ever made
        dead = top == -math.inf
        xp.copyto(top, top.dtype.type(0), where=dead)
    s -= top
    xp.exp(s, out=s)
    total = s.sum(axis=-1, keepdims=True)
    if dead is not None:
        xp.copyto(total, total.dtype.type(1), where=dead)
    s /= total
    return s


def _fit(xp, s, mask):
    """s broadcast to the shape it has with mask (a mask may carry batch dims the scores lack)."""
    shape = np.broadcast_shapes(s.shape, mask.shape)
    return s if shape == s.shape else xp.broadcast_to(s, shape).copy()


class ScaledDotProductAttentionBackward0(Node):
    """Gradients of q, k, v (and of a float mask) through softmax(q k^T scale + bias) v."""

    def __init__(self, q, k, v, allowed, bias, scale, probs, drop):
        super().__init__((q, k, v, bias), (q, k, v, bias))
        self.allowed, self.scale, self.probs, self.drop = allowed, scale, probs, drop

    def backward(self, g):
        q, k, v, bias = self.saved_tensors
        need = [fn is not None for fn, _ in self.next_functions]
        if not _GradMode.enabled:  # no graph of the gradient: the same formulas on the arrays, in place
            grads = self._backward_arrays(g._data, q._data, k._data, v._data, need)
            shapes = [t._data.shape if t is not None else None for t in (q, k, v, bias)]
            return tuple(None if d is None else sum_to(_make(d, g.device), shape) for d, shape in zip(grads, shapes))
        p = _probs(q, k, self.allowed, bias, self.scale)  # probabilities that lead back to q and k
        dropped = p if self.drop is None else p * self.drop
        gv = sum_to(_linalg.matmul(dropped.transpose(-2, -1), g), v._data.shape) if need[2] else None
        if not (need[0] or need[1] or need[3]):
            return None, None, gv, None
        gp = _linalg.matmul(g, v.transpose(-2, -1))
        if self.drop is not None:
            gp = gp * self.drop
        gs = p * (gp - R.sum(gp * p, -1, keepdim=True))  # through the softmax
        gq = sum_to(_linalg.matmul(gs, k) * self.scale, q._data.shape) if need[0] else None
        gk = sum_to(_linalg.matmul(gs.transpose(-2, -1), q) * self.scale, k._data.shape) if need[1] else None
        gb = sum_to(gs, bias._data.shape) if need[3] else None
        return gq, gk, gv, gb

    def _backward_arrays(self, g, q, k, v, need):
        """Arrays of the gradients of q, k, v and bias (None where not needed), before unbroadcasting."""
        p = self.probs
        drop = None if self.drop is None else self.drop._data
        dropped = p if drop is None else p * drop
        gv = dropped.swapaxes(-1, -2) @ g if need[2] else None
        if not (need[0] or need[1] or need[3]):
            return None, None, gv, None
        gs = g @ v.swapaxes(-1, -2)
        if drop is not None:
            gs *= drop
        row = (gs * p).sum(axis=-1, keepdims=True)
        gs -= row
        gs *= p  # through the softmax: p * (gp - sum(gp * p))
        scale = gs.dtype.type(self.scale)
        gq = gk = None
        if need[0]:
            gq = gs @ k
            gq *= scale
        if need[1]:
            gk = gs.swapaxes(-1, -2) @ q
            gk *= scale
        return gq, gk, gv, (gs if need[3] else None)

    def _release_extra(self) -> None:
        self.probs = self.drop = self.allowed = None


def _check(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None, is_causal: bool) -> None:
    dq, dk, dv = query._data.dtype, key._data.dtype, value._data.dtype
    if dq.kind != "f" and dq != _dtype.bfloat16.np:
        raise RuntimeError(f"expected scalar type Float but found {type_word(dq)}")
    if not dq == dk == dv:
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{c_type_name(dq)} key.dtype: {c_type_name(dk)} and value.dtype: {c_type_name(dv)} "
                           "instead.")
    for t in (key, value, attn_mask):
        if t is not None and t.device is not query.device:
            raise device_mismatch(query.device, t.device)
    if attn_mask is not None:
        if is_causal:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                               "is_causal=True")
        dm = attn_mask._data.dtype
        if dm.kind != "b" and dm != dq:
            raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                               f"attn_mask.dtype: {c_type_name(dm)} and  query.dtype: {c_type_name(dq)} instead.")
    batch = int(np.prod(query._data.shape[:-2]))
    if key._data.shape[-1] != query._data.shape[-1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{batch}, {query._data.shape[-1]}] but got: [{batch}, {key._data.shape[-1]}].")
    if value._data.shape[-2] != key._data.shape[-2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{batch}, {key._data.shape[-2]}] but got: [{batch}, {value._data.shape[-2]}].")
    if attn_mask is not None:  # the mask is added to the (..., L, S) scores: PyTorch's broadcasting error
        scores = query._data.shape[:-1] + key._data.shape[-2:-1]
        try:
            np.broadcast_shapes(scores, attn_mask._data.shape)
        except ValueError:
            raise broadcast_error(scores, attn_mask._data.shape) from None


def _repeat_heads(x: Tensor, heads: int) -> Tensor:
    """Grouped-query attention: each of x's heads (dim -3) repeated for heads // x.heads query heads."""
    shape = x._data.shape
    r = heads // shape[-3]
    if r == 1:
        return x
    wide = x.unsqueeze(-3).expand(shape[:-2] + (r,) + shape[-2:])
    return wide.reshape(shape[:-3] + (heads,) + shape[-2:])


@autocast_op("scaled_dot_product_attention")
def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(query @ key^T * scale + mask) @ value for query (..., L, E), key (..., S, E), value (..., S, Ev).

    scale defaults to 1 / sqrt(E); a boolean attn_mask marks with True the keys a query may attend
    to, a float one is added to the scores; is_causal lets query i see keys 0..i only.
    """
    _check(query, key, value, attn_mask, is_causal)
    if query._data.dtype.itemsize == 2:  # float16/bfloat16: in float32, rounded once (PyTorch's CPU math kernel)
        mask = attn_mask.float() if attn_mask is not None and attn_mask.dtype.is_floating_point else attn_mask
        out = scaled_dot_product_attention(query.float(), key.float(), value.float(), mask, dropout_p, is_causal,
                                           scale, enable_gqa)
        return out.to(query.dtype)
    if enable_gqa and query.dim() >= 3 and key.dim() >= 3:
        heads = query._data.shape[-3]
        if heads % key._data.shape[-3] or heads % value._data.shape[-3]:
            raise RuntimeError("Number of heads in key and value must divide the number of heads in ")
        key, value = _repeat_heads(key, heads), _repeat_heads(value, heads)
    if scale is None:
        scale = 1.0 / math.sqrt(query._data.shape[-1])
    xp = query.device.xp
    allowed = bias = None
    if is_causal:
        n_q, n_k = query._data.shape[-2], key._data.shape[-2]
        allowed = _make(xp.tril(xp.ones((n_q, n_k), dtype=bool)), query.device)
    elif attn_mask is not None and attn_mask._data.dtype.kind == "b":
        allowed = attn_mask
    elif attn_mask is not None:
        bias = attn_mask
    p = _probs_array(xp, query._data, key._data, None if allowed is None else allowed._data,
                     None if bias is None else bias._data, scale)
    drop = None
    if dropout_p > 0.0:
        keep = rng_of(None).random(p.shape) >= dropout_p
        if query.device.type != "cpu":
            keep = query.device.backend.from_numpy(keep)
        factor = 1.0 / (1.0 - dropout_p) if dropout_p < 1.0 else 0.0
        drop = _make(keep.astype(p.dtype) * p.dtype.type(factor), query.device)
    out = _make((p if drop is None else p * drop._data) @ value._data, query.device)
    if _GradMode.enabled and any(t is not None and t._requires_grad for t in (query, key, value, bias)):
        record(out, ScaledDotProductAttentionBackward0(query, key, value, allowed, bias, scale, p, drop))
    return out


# ---- multi-head attention ---------------------------------------------------------------------------
def _mha_is_batched(query, key, value, key_padding_mask, attn_mask, num_heads: int) -> bool:
    """Whether the inputs are batched (3-D query) or not (2-D), after PyTorch's shape checks."""
    if query.dim() == 3:
        kind, want_kpm = "batched (3-D)", 2
    elif query.dim() == 2:
        kind, want_kpm = "unbatched (2-D)", 1
    else:
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query "
                             "tensor")
    if key.dim() != query.dim() or value.dim() != query.dim():
        raise AssertionError(f"For {kind} `query`, expected `key` and `value` to be {query.dim()}-D but found "
                             f"{key.dim()}-D and {value.dim()}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.dim() != want_kpm:
        raise AssertionError(f"For {kind} `query`, expected `key_padding_mask` to be `None` or {want_kpm}-D but "
                             f"found {key_padding_mask.dim()}-D tensor instead")
    if attn_mask is not None:
        if attn_mask.dim() not in (2, 3):
            raise AssertionError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                                 f"{attn_mask.dim()}-D tensor instead")
        if query.dim() == 2 and attn_mask.dim() == 3:
            expected = (num_heads, query.shape[0], key.shape[0])
            if tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
    return query.dim() == 3


def _none_or_dtype(input: Tensor | None):
    """The dtype of input, or None (PyTorch's helper for the mask checks below)."""
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _canonical_mask(mask: Tensor | None, mask_name: str, other_type, other_name: str, target_type,
                    check_other: bool = True) -> Tensor | None:
    """A float mask of target_type to add to the scores: a boolean mask's True entries become -inf.

    Warns, as PyTorch does, when the other mask given alongside (of dtype other_type) differs in type.
    """
    if mask is None:
        return None
    floating = mask.dtype.is_floating_point
    if mask._data.dtype.kind != "b" and not floating:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both "
                      "instead.", stacklevel=3)
    if floating:
        return mask
    zeros_like_mask = zeros(mask._data.shape, dtype=target_type, device=mask.device)
    return masked_fill(zeros_like_mask, mask, -math.inf)


def _pad_one(mask: Tensor | None) -> Tensor | None:
    """A mask widened by one key (the added bias_k or zero key), which every query may attend to."""
    from .functional import pad  # (functional imports this module)

    return None if mask is None else pad(mask, (0, 1))


def _project(query, key, value, in_proj_weight, in_proj_bias, separate, q_w, k_w, v_w):
    """The query, key and value projections, from one packed (3E, E) weight or three separate ones."""
    linear = _linalg.linear
    if not separate:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        if query is key and key is value:  # self-attention: one product, split in three
            return linear(query, in_proj_weight, in_proj_bias).chunk(3, -1)
        q_w, k_w, v_w = in_proj_weight.chunk(3)
    else:
        for w, name in ((q_w, "q"), (k_w, "k"), (v_w, "v")):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
    b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
    return linear(query, q_w, b_q), linear(key, k_w, b_k), linear(value, v_w, b_v)


def _heads(x: Tensor, static: Tensor | None, bsz: int, num_heads: int, head_dim: int, name: str) -> Tensor:
    """(S, N, E) -> (N * heads, S, head_dim), or the given static keys/values after checking their shape."""
    if static is None:
        return x.reshape(x.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    if static.shape[0] != bsz * num_heads:
        raise AssertionError(f"expecting {name}.size(0) of {bsz * num_heads}, but got {static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {static.shape[2]}")
    return static


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int,
                                 num_heads: int, in_proj_weight: Tensor | None, in_proj_bias: Tensor | None,
                                 bias_k: Tensor | None, bias_v: Tensor | None, add_zero_attn: bool,
                                 dropout_p: float, out_proj_weight: Tensor, out_proj_bias: Tensor | None,
                                 training: bool = True, key_padding_mask: Tensor | None = None,
                                 need_weights: bool = True, attn_mask: Tensor | None = None,
                                 use_separate_proj_weight: bool = False, q_proj_weight: Tensor | None = None,
                                 k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None,
                                 static_k: Tensor | None = None, static_v: Tensor | None = None,
                                 average_attn_weights: bool = True, is_causal: bool = False):
    """Multi-head attention of query (L, N, E) over key (S, N, Ek) and value (S, N, Ev); unbatched: no N.

    Returns (output (L, N, E), weights (N, L, S) averaged over heads, or (N, heads, L, S), or None).
    Masks: key_padding_mask (N, S), attn_mask (L, S) or (N * heads, L, S); True or -inf = do not attend.
    """
    from .functional import dropout  # (functional imports this module)

    linear = _linalg.linear
    is_batched = _mha_is_batched(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask), "attn_mask",
                                       query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the causal flag of scaled_dot_product_attention stands for the mask
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
    elif key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
    q, k, v = _project(query, key, value, in_proj_weight, in_proj_bias, use_separate_proj_weight,
                       q_proj_weight, k_proj_weight, v_proj_weight)
    src_len = key.shape[0]
    if attn_mask is not None:
        want = (tgt_len, src_len) if attn_mask.dim() == 2 else (bsz * num_heads, tgt_len, src_len)
        if tuple(attn_mask.shape) != want:
            raise RuntimeError(f"The shape of the {attn_mask.dim()}D attn_mask is {attn_mask.shape}, but should be "
                               f"{want}.")
        if attn_mask.dim() == 2:
            attn_mask = attn_mask.unsqueeze(0)
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask, key_padding_mask = _pad_one(attn_mask), _pad_one(key_padding_mask)
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _heads(k, static_k, bsz, num_heads, head_dim, "static_k")
    v = _heads(v, static_v, bsz, num_heads, head_dim, "static_v")
    if add_zero_attn:
        k = cat([k, zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)], 1)
        v = cat([v, zeros((bsz * num_heads, 1, head_dim), dtype=v.dtype, device=v.device)], 1)
        attn_mask, key_padding_mask = _pad_one(attn_mask), _pad_one(key_padding_mask)
    src_len = k.shape[1]
    if key_padding_mask is not None:
        for i, want in enumerate((bsz, src_len)):
            if key_padding_mask.shape[i] != want:
                raise AssertionError(f"Expected key_padded_mask.shape[{i}] to be {want}, but got "
                                     f"{key_padding_mask.shape[i]}")
        key_padding_mask = (key_padding_mask.reshape(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1)
                            .reshape(bsz * num_heads, 1, src_len))
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0

    if need_weights:  # the weights are wanted: softmax(q k^T / sqrt(d) + mask) spelled out
        scores = _linalg.matmul(q * math.sqrt(1.0 / head_dim), k.transpose(-2, -1))
        if attn_mask is not None:
            scores = attn_mask + scores
        weights = R.softmax(scores, -1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = _linalg.matmul(weights, v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        attn_mask = (attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 and attn_mask.dim() == 3
                     else attn_mask.reshape(bsz, num_heads, -1, src_len))
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if not is_batched:
        out = out.squeeze(1)
    return out, None
