"""`summary(model, input_size)`: a torchinfo-style table of a model's layers, output shapes and parameters."""
from __future__ import annotations

from typing import Sequence

_WIDTHS = (40, 25, 25)  # torchinfo's default column widths (first column wider for the tree)


class ModelSummary:
    """The table (`str(s)`) and its numbers: `rows` (name, depth, index, output shape, params),
    `total_params`, `trainable_params`."""

    def __init__(self, rows: list, total: int, trainable: int):
        self.rows, self.total_params, self.trainable_params = rows, total, trainable

    def __str__(self) -> str:
        rule = "=" * sum(_WIDTHS)
        out = [rule, _row("Layer (type:depth-idx)", "Output Shape", "Param #"), rule]
        for name, depth, idx, shape, params in self.rows:
            label = name if depth == 0 else "│    " * (depth - 1) + f"├─{name}: {depth}-{idx}"
            out.append(_row(label, "--" if shape is None else str(shape), "--" if params is None else f"{params:,}"))
        out += [rule, f"Total params: {self.total_params:,}", f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.total_params - self.trainable_params:,}", rule]
        return "\n".join(out)

    __repr__ = __str__


def _row(*cells) -> str:
    return "".join(c.ljust(w) for c, w in zip(cells, _WIDTHS)).rstrip()


def _shape_of(out):
    """[batch, ...] of a module's output (the first tensor of a tuple, as torchinfo shows)."""
    from .._tensor import Tensor

    if isinstance(out, (tuple, list)) and out:
        out = out[0]
    return list(out.shape) if isinstance(out, Tensor) else None


def summary(model, input_size: Sequence[int] | Sequence[Sequence[int]] | None = None, input_data=None,
            dtypes=None, device=None) -> ModelSummary:
    """Run `model` once on zeros of `input_size` (batch dimension included, as torchinfo) or on
    `input_data`, and tabulate every submodule: its output shape and its own parameter count."""
    import glasstorch as gt

    from ..nn.modules.module import Module

    if not isinstance(model, Module):
        raise TypeError(f"summary(): expected an nn.Module, got {type(model).__name__}")
    if input_data is None:
        if input_size is None:
            raise ValueError("summary(): give input_size (with the batch dimension) or input_data")
        sizes = [input_size] if all(isinstance(s, int) for s in input_size) else list(input_size)
        if any(not all(isinstance(d, int) and d >= 0 for d in s) for s in sizes):
            raise ValueError(f"summary(): input_size must be a tuple of non-negative ints, got {input_size!r}")
        dtypes = dtypes or [gt.float32] * len(sizes)
        if device is None:
            p = next(iter(model.parameters()), None)
            device = p.device if p is not None else "cpu"
        input_data = [gt.zeros(*s, dtype=dt, device=device) for s, dt in zip(sizes, dtypes)]
    args = input_data if isinstance(input_data, (list, tuple)) else [input_data]

    # the module tree in order: (module, name, depth, index among siblings), walked without recursion
    tree, stack = [], [(model, type(model).__name__, 0, 0)]
    while stack:
        mod, name, depth, idx = stack.pop()
        tree.append((mod, name, depth, idx))
        children = list(mod._modules.values())
        below = [(c, type(c).__name__, depth + 1, i + 1) for i, c in enumerate(children) if c is not None]
        stack.extend(reversed(below))

    shapes: dict = {}
    handles = [mod.register_forward_hook(lambda m, i, o: shapes.__setitem__(id(m), _shape_of(o))) for mod, *_ in tree]
    try:
        with gt.no_grad():
            model(*args)
    finally:
        for h in handles:
            h.remove()

    rows, seen = [], set()
    for mod, name, depth, idx in tree:
        own = [p for p in mod._parameters.values() if p is not None and id(p) not in seen]
        seen.update(id(p) for p in own)
        rows.append((name, depth, idx, shapes.get(id(mod)), sum(p.numel() for p in own) if own else None))
    params = {id(p): p for p in model.parameters()}.values()
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    return ModelSummary(rows, total, trainable)
