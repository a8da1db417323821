"""What every backend computes the same way about views, given its array namespace."""
from __future__ import annotations


def view_positions(xp, view, base, offset_bytes: int):
    """For each element of `view` (a view into `base`, starting `offset_bytes` after it), its index in
    base.reshape(-1): the positions an in-place write through the view touches in its base."""
    if not base.flags.c_contiguous:
        raise RuntimeError("in-place operation on a view of a non-contiguous tensor that requires grad: "
                           "call .contiguous() on the base tensor first")
    item = base.itemsize
    flat = xp.arange(base.size, dtype=xp.int64)
    strides = tuple(s // item * flat.itemsize for s in view.strides)
    return xp.lib.stride_tricks.as_strided(flat[offset_bytes // item:], view.shape, strides).copy()
