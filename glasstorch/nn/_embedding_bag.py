"""embedding_bag: sums, means or maxima of bags of embedding rows, without forming the (bags, len, dim) tensor.

A bag is a row of a 2-D input, or a run of a 1-D input between consecutive `offsets`. Indices
equal to padding_idx take no part (nor count towards a mean); an empty bag gives zeros.

Built from recorded ops: the rows are looked up by `embedding` (whose backward scatters into the
weight, honouring padding_idx and scale_grad_by_freq), then added into their bags by
`scatter_add`; for 'max', each output element is `gather`ed from the row that holds the maximum,
so the gradient goes to that row alone.
"""
from __future__ import annotations

import warnings

import numpy as np

from .._ops.creation import arange
from .._ops.indexing import scatter_add
from .._ops.shape import cat
from .._ops._util import Tensor, _make

__all__ = ["embedding_bag"]


def _flatten(input: Tensor, offsets: Tensor | None, per_sample_weights: Tensor | None, include_last_offset: bool):
    """1-D indices, offsets, per-sample weights and include_last_offset for either input layout."""
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        offsets = arange(0, input.numel(), input.shape[1], dtype=input.dtype, device=input.device)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
        return input.reshape(-1), offsets, per_sample_weights, False
    if input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        return input, offsets, per_sample_weights, include_last_offset
    raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")


def _bag_of_each(xp, n: int, offsets, include_last_offset: bool):
    """The bag number of each of the n indices, and the number of bags."""
    offs = offsets.astype(np.int64)
    if offs.size and int(offs[0]) != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                           f"position 0. However, got {int(offs[0])}")
    n_bags = offs.size - 1 if include_last_offset else offs.size
    # the last bag runs to the end of the input (PyTorch does not stop it at a final offset)
    bag = xp.searchsorted(offs[:n_bags], xp.arange(n), side="right") - 1
    return bag, max(n_bags, 0)


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean",
                  sparse: bool = False, per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """(bags, dim): the sum/mean/max of each bag's rows of weight (num_embeddings, dim)."""
    from .functional import embedding

    if weight._data.dtype.kind in "iu" and input.dtype.is_floating_point:
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage `embedding_bag(weight, "
                      "input, ...)` is deprecated, and should now be `embedding_bag(input, weight, ...)`.",
                      stacklevel=2)
        weight, input = input, weight
    if per_sample_weights is not None and input.shape != per_sample_weights.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it "
                         f"must have the same shape as the input ({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    input, offsets, per_sample_weights, include_last_offset = _flatten(input, offsets, per_sample_weights,
                                                                       include_last_offset)
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    elif mode not in ("sum", "mean"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request "
                                  "on GitHub.")
    n_rows, dim = weight.shape
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n_rows
    xp, dev = weight.device.xp, weight.device
    bag, n_bags = _bag_of_each(xp, input.numel(), offsets._data, include_last_offset)
    used = bag >= 0
    if padding_idx is not None:
        used &= input._data != padding_idx
    rows = embedding(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq)  # (n, dim)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(-1)
    if mode == "max":
        return _bag_max(rows, bag, used, n_bags)
    rows = rows.masked_fill(_make(~used[:, None], dev), 0.0)
    target = _make(xp.broadcast_to(xp.where(used, bag, 0)[:, None], rows._data.shape), dev)
    zeros = _make(xp.zeros((n_bags, dim), dtype=rows._data.dtype), dev)
    out = scatter_add(zeros, 0, target, rows)
    if mode == "mean":
        counts = xp.bincount(bag[used], minlength=n_bags)[:n_bags]
        out = out / _make(xp.maximum(counts, 1).astype(rows._data.dtype)[:, None], dev)
    return out


def _bag_max(rows: Tensor, bag, used, n_bags: int) -> Tensor:
    """Each bag's elementwise maximum, over a (bags, longest bag, dim) table of its rows (-inf where none)."""
    xp, dev = rows.device.xp, rows.device
    n, dim = rows._data.shape
    start = xp.searchsorted(bag, xp.arange(n_bags))  # bags are contiguous runs of the flat input
    within = xp.arange(n) - start[xp.where(used, bag, 0)]
    width = int(within[used].max()) + 1 if used.any() else 1
    table = xp.full((n_bags, width), n, dtype=np.int64)  # n: the -inf row appended below
    table[bag[used], within[used]] = xp.arange(n)[used]
    padded = cat([rows, _make(xp.full((1, dim), -xp.inf, dtype=rows._data.dtype), dev)])
    best = padded[_make(table, dev)].max(1)[0]
    empty = xp.bincount(bag[used], minlength=n_bags)[:n_bags] == 0
    return best.masked_fill(_make(empty[:, None], dev), 0.0) if empty.any() else best
