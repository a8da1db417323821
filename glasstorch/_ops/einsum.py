"""torch.einsum: Einstein summation over any equation (ellipsis, diagonals, implicit output).

The equation is parsed once into integer labels per operand (letters 0..51, ellipsis dims 52..),
operands whose dims have size 1 where the label is wider are broadcast with `expand` (whose own
backward sums the gradient back), and `_contract` computes the sum with the backend's einsum.

The gradient of operand i is itself an einsum: the output gradient contracted with every other
operand, producing operand i's labels. Two cases need a step more: a label that occurs only in
operand i (summed away in the forward) comes back by broadcasting, and a label repeated in
operand i (a diagonal) is written back onto that diagonal of a zero tensor.
"""
from __future__ import annotations

import string

from .._dtype import int64
from ..amp.autocast_mode import autocast_op
from ._util import Node, Tensor, _GradMode, _make, not_implemented, record, type_word

__all__ = ["einsum"]

_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # the implicit output's order: A..Z, a..z
_ELLIPSIS0 = len(_LETTERS)  # labels of ellipsis dims start here


def _parse_term(term: str, offset: int, operand: int, ndim: int | None) -> list:
    """Labels of one operand's subscripts; the ellipsis becomes the marker -1 (expanded later)."""
    labels, i = [], 0
    seen_ellipsis = False
    while i < len(term):
        ch = term[i]
        if ch == ".":
            if term[i:i + 3] != "..." or seen_ellipsis:
                what = "operand" if ndim is not None else "output"
                where = f" {operand}" if ndim is not None else ""
                if seen_ellipsis and term[i:i + 3] == "...":
                    raise RuntimeError(f"einsum(): found '.' for {what}{where} for which an ellipsis was already found")
                tail = "" if ndim is not None else " (...)"
                raise RuntimeError(f"einsum(): found '.' for {what}{where} that is not part of any ellipsis{tail}")
            labels.append(-1)
            seen_ellipsis = True
            i += 3
            continue
        if ch not in _LETTERS:
            raise RuntimeError(f"einsum(): invalid subscript given at index {offset + i} in the equation string, "
                               "subscripts must be in [a-zA-Z]")
        labels.append(_LETTERS.index(ch))
        i += 1
    return labels


def _parse(equation: str, shapes: list):
    """Per-operand label lists, the output labels, and every label's size."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    n_ell = 0
    subs, offset = [], 0
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        raw = _parse_term(term, offset, k, len(shape))
        offset += len(term) + 1
        named = len(raw) - raw.count(-1)
        if -1 not in raw and named != len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) does not match the "
                               f"number of dimensions ({len(shape)}) for operand {k} and no ellipsis was given")
        if -1 in raw and named > len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) is more than the "
                               f"number of dimensions ({len(shape)}) for operand {k}")
        subs.append(raw)
        if -1 in raw:
            n_ell = max(n_ell, len(shape) - named)
    ell = list(range(_ELLIPSIS0, _ELLIPSIS0 + n_ell))
    # the ellipsis of an operand with fewer dims stands for the LAST of the broadcast ellipsis dims
    subs = [_expand_ellipsis(raw, ell[n_ell - (len(shape) - len(raw) + 1):] if -1 in raw else [])
            for raw, shape in zip(subs, shapes)]
    sizes = _label_sizes(subs, shapes)
    if arrow:
        out_raw = _parse_term(rhs, len(lhs) + 2, 0, None)
        out = _expand_ellipsis(out_raw, ell)
        for lab in out_raw:
            if lab >= 0 and out_raw.count(lab) > 1:
                raise RuntimeError(f"einsum(): output subscript {_LETTERS[lab]} appears more than once in the output")
            if lab >= 0 and lab not in sizes:
                raise RuntimeError(f"einsum(): output subscript {_LETTERS[lab]} does not appear in the equation for "
                                   "any input operand")
    else:  # implicit: the ellipsis dims, then the letters used exactly once, in alphabetical order
        counts = {}
        for s in subs:
            for lab in s:
                counts[lab] = counts.get(lab, 0) + 1
        out = ell + sorted(lab for lab, c in counts.items() if c == 1 and lab < _ELLIPSIS0)
    return subs, out, sizes


def _expand_ellipsis(raw: list, ell: list) -> list:
    if -1 not in raw:
        return raw
    i = raw.index(-1)
    return raw[:i] + list(ell) + raw[i + 1:]


def _label_sizes(subs: list, shapes: list) -> dict:
    """Each label's size: sizes of 1 broadcast; a repeated label within one operand must match exactly."""
    sizes = {}
    for k, (labels, shape) in enumerate(zip(subs, shapes)):
        own = {}
        for lab, n in zip(labels, shape):
            if lab in own and own[lab] != n:
                raise RuntimeError(f"einsum(): subscript {_name(lab)} is repeated for operand {k} but the sizes "
                                   f"don't match, {n} != {own[lab]}")
            own[lab] = n
        for lab, n in own.items():
            seen = sizes.get(lab)
            if seen is None or seen == 1:
                sizes[lab] = n
            elif n != 1 and n != seen:
                raise RuntimeError(f"einsum(): subscript {_name(lab)} has size {n} for operand {k} which does not "
                                   f"broadcast with previously seen size {seen}")
    return sizes


def _name(lab: int) -> str:
    return _LETTERS[lab] if lab < _ELLIPSIS0 else "..."


# ---- the contraction and its gradient ---------------------------------------------------------------
class EinsumBackward0(Node):
    """The gradient of each operand is an einsum of the output gradient with the other operands."""

    def __init__(self, tensors, subs, out, sizes):
        super().__init__(tensors, tensors)
        self.subs, self.out, self.sizes = subs, out, sizes

    def backward(self, g):
        ops = self.saved_tensors
        grads = []
        for i, (fn, _) in enumerate(self.next_functions):
            grads.append(None if fn is None else self._grad_of(i, g, ops))
        return tuple(grads)

    def _grad_of(self, i: int, g: Tensor, ops) -> Tensor:
        labels = self.subs[i]
        others = [g] + [t for j, t in enumerate(ops) if j != i]
        other_subs = [self.out] + [s for j, s in enumerate(self.subs) if j != i]
        present = set(lab for s in other_subs for lab in s)
        unique = list(dict.fromkeys(labels))
        kept = [lab for lab in unique if lab in present]
        grad = _contract(others, other_subs, kept, self.sizes)
        if len(kept) < len(unique):  # labels summed away by operand i alone: broadcast back
            shape = [self.sizes[lab] if lab in present else 1 for lab in unique]
            grad = grad.reshape(shape).expand([self.sizes[lab] for lab in unique])
        if len(unique) < len(labels):  # a diagonal: write the gradient onto it
            grad = _onto_diagonal(grad, labels, unique, self.sizes)
        return grad


def _onto_diagonal(grad: Tensor, labels: list, unique: list, sizes: dict) -> Tensor:
    """zeros(operand shape) with grad (indexed by the unique labels) on the positions where repeated labels agree."""
    from .indexing import index_into_zeros

    xp = grad.device.xp
    n = len(unique)
    index = []
    for lab in labels:
        axis = unique.index(lab)
        shape = [1] * n
        shape[axis] = sizes[lab]
        index.append(xp.arange(sizes[lab]).reshape(shape))
    return index_into_zeros(grad, tuple(index), tuple(sizes[lab] for lab in labels))


def _contract(tensors: list, subs: list, out: list, sizes: dict) -> Tensor:
    """The einsum of tensors whose dims already have their labels' sizes (diagonals allowed)."""
    used = set(lab for s in subs for lab in s) | set(out)
    # ellipsis labels borrow letters the equation does not use
    spare = iter(c for c in _LETTERS[::-1] if _LETTERS.index(c) not in used)
    names = {lab: (_LETTERS[lab] if lab < _ELLIPSIS0 else next(spare)) for lab in sorted(used)}
    eq = ",".join("".join(names[lab] for lab in s) for s in subs) + "->" + "".join(names[lab] for lab in out)
    arrays = [t._data for t in tensors]
    xp = tensors[0].device.xp
    half = arrays[0].dtype.itemsize == 2 and arrays[0].dtype.kind in "fV"
    if half:  # float16/bfloat16: summed in float32 and rounded once, as PyTorch's CPU kernels do
        arrays = [a.astype("float32") for a in arrays]
    data = xp.asarray(xp.einsum(eq, *arrays, optimize=len(arrays) > 1))
    if half:
        data = data.astype(tensors[0]._data.dtype)
    # a pure permutation or diagonal comes back as a view of an operand: the result owns its memory
    if not data.flags.c_contiguous or any(xp.may_share_memory(data, a) for a in arrays):
        data = data.copy()
    out_t = _make(data, tensors[0].device)
    if _GradMode.enabled and any(t._requires_grad for t in tensors):
        record(out_t, EinsumBackward0(tuple(tensors), subs, out, sizes))
    return out_t


def _check_dtypes(operands) -> None:
    first = operands[0]._data.dtype
    for t in operands[1:]:
        if t._data.dtype != first:
            raise RuntimeError(f"expected scalar type {type_word(first)} but found {type_word(t._data.dtype)}")


def _integer_rules(operands, subs: list, out: list):
    """PyTorch's einsum on integers and bools: a lone operand's sum is int64 (as torch.sum's), products
    stay in the dtype, and bools cannot be multiplied and summed (there is no boolean matrix product)."""
    kind = operands[0]._data.dtype.kind
    summed = any(lab not in out for s in subs for lab in s)
    if kind not in "biu" or not summed:
        return operands
    if len(operands) == 1:
        return (operands[0].to(int64),)
    if kind == "b":
        raise not_implemented("bmm", operands[0]._data.dtype)
    return operands


def _subscript(n) -> str:
    """A letter for an integer subscript of the sublist form: 0..25 are A..Z, 26..51 are a..z."""
    if n is Ellipsis:
        return "..."
    if not 0 <= n < len(_LETTERS):
        raise ValueError("einsum(): subscript in subscript list is not within the valid range [0, 52)")
    return _LETTERS[n]


def _from_sublists(args) -> tuple:
    """einsum(a, [0, 1], b, [1, 2], [0, 2]) as ("Ab,bC->AC"-style equation, operands)."""
    terms = ",".join("".join(_subscript(n) for n in sub) for sub in args[1::2])
    if len(args) % 2:
        return terms + "->" + "".join(_subscript(n) for n in args[-1]), args[:-1:2]
    return terms, args[::2]


@autocast_op("einsum")
def einsum(*args) -> Tensor:
    """Sum of products of operand elements over the labels the equation leaves out of the output.

    einsum("ij,jk->ik", a, b) is a @ b; einsum("ii", a) is the trace; "...ij->...ji" transposes.
    Operands may also be passed as one list, or interleaved with integer subscript lists.
    """
    if not args:
        raise ValueError("einsum(): must specify the equation string and at least one operand, or at least one "
                         "operand and its subscripts list")
    if isinstance(args[0], Tensor):
        equation, operands = _from_sublists(args)
    else:
        equation, operands = args[0], args[1:]
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str) or not operands:
        raise ValueError("einsum(): must specify the equation string and at least one operand, or at least one "
                         "operand and its subscripts list")
    shapes = [t._data.shape for t in operands]
    subs, out, sizes = _parse(equation, shapes)
    if len(operands) > 1:
        _check_dtypes(operands)
    operands = _integer_rules(operands, subs, out)
    xs = []
    for t, labels in zip(operands, subs):
        full = tuple(sizes[lab] for lab in labels)
        xs.append(t if t._data.shape == full else t.expand(full))
    return _contract(xs, subs, list(out), sizes)
