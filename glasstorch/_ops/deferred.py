"""Deferred arithmetic: no-grad elementwise ops on large CPU arrays wait, and run as one compiled loop.

A hand-written optimizer step (seed 004 writes its own Adam) is ~15 tensor ops per parameter, each a
NumPy call that streams the whole parameter through memory. With the compiled-kernel extra (`fast`,
numba) installed, while no gradient is being recorded, `+ - * /`, negation, sqrt and squares of
float tensors with at least MIN_SIZE elements (same shape and dtype, or a Python number) return a
*deferred* tensor: it holds the op and its operands instead of an array. When a deferred tensor's
array is first needed (`t._data`, which every other op, printing, .numpy() and .item() read),
the whole chain of deferred ops behind it is evaluated in one pass by a loop compiled for that
chain (backends/cpu_expr.py), and `p -= chain` writes into p inside the same loop. The values are
the eager ops' bit for bit: each step is the same correctly rounded operation in the same dtype.

What makes waiting safe:
- A deferred op reads its operands' arrays later, so no array it reads may change before then.
  Every in-place write in glasstorch passes `before_write(t)` (in-place ops, indexing assignment,
  random fills, out=, batch-norm's running statistics); optimizer steps, backward and collective
  ops call `flush()`. Each computes the deferred results that read the memory about to change.
- Arrays shared with NumPy (torch.from_numpy, Tensor.numpy()) can change without glasstorch seeing
  it, so ops on them never wait; only arrays glasstorch itself allocated do.
- As a last guard each operand's version counter is checked when the chain runs; a change that
  slipped past the rules above raises RuntimeError rather than give a wrong value.

A deferred tensor is an instance of `_Deferred`, a Tensor whose `_data` is a property; once computed
it becomes a plain Tensor again. Without numba, or with GLASSTORCH_FUSED=0, nothing here is used and
every op runs eagerly (the reference path; tests check both give the same bits).
"""
from __future__ import annotations

import itertools
import weakref

import numpy as np

from .._device import CPU
from .._tensor import Tensor, _make
from ..autograd.grad_mode import NO_VERSION, check_inplace_allowed
from ..backends import cpu_expr

MIN_SIZE = 1 << 15  # below this the Python work of deferring costs more than the passes it saves
MAX_STEPS = 32  # a longer chain is computed at once (also bounds a loop that never reads its result)
MAX_INPUTS = 8  # arrays one loop reads

ON = cpu_expr.cpu_fused.ENABLED  # False once numba is found missing
_SLOT = Tensor.__dict__["_data"]  # the array slot itself, under the property
_pending: list = []  # nodes of live deferred tensors that are not computed yet
_exported: dict = {}  # id(array) -> weak reference, for arrays NumPy code may write behind our back
_created = itertools.count()  # node creation order: operands are always older than the ops on them
_compiler = [False]  # whether cpu_expr.available() said yes (asked once)


class _Node:
    """One value of a chain: a computed array (`value`), or an op on earlier nodes and numbers."""

    __slots__ = ("op", "args", "value", "shape", "dtype", "steps", "owner", "version", "reads", "seq")

    def __init__(self, op, args, value, shape, dtype, steps, root=None):
        self.op, self.args, self.value = op, args, value
        self.shape, self.dtype, self.steps = shape, dtype, steps
        self.owner = None  # weak reference to the deferred tensor holding this node
        self.version = None  # (version counter, its value) of the tensor whose array `value` is
        self.seq = next(_created)
        # what a write must not change before this node is computed: the ids of the arrays its chain
        # reads, and of the uncomputed nodes in it (an evaluation updates the sets it makes stale)
        if value is not None:
            self.reads = {id(root if root is not None else _root(value))}
        else:
            _track_reads(self)


class _Deferred(Tensor):
    """A tensor whose array is computed on first use (see the module docstring)."""

    __slots__ = ()

    @property
    def _data(self):
        node = _SLOT.__get__(self)
        if node.value is None:
            _evaluate(node)
        return _settle(self, node.value)

    @_data.setter
    def _data(self, value):
        _settle(self, value)


_Deferred.__name__ = _Deferred.__qualname__ = "Tensor"  # type(t) prints as for any tensor
_Deferred.__module__ = Tensor.__module__


def _settle(t: Tensor, value):
    _SLOT.__set__(t, value)
    t.__class__ = Tensor
    return value


def _root(a: np.ndarray):
    return a if a.base is None else a.base


# ---- making deferred tensors ------------------------------------------------------------------------
def _operand(x):
    """x as a chain operand: a node, a Python number, or None when x cannot wait."""
    t = type(x)
    if t is _Deferred:
        return _SLOT.__get__(x)
    if t is float or t is int:
        return x
    if not isinstance(x, Tensor) or x.device is not CPU:
        return None
    d = x._data
    if d.size < MIN_SIZE or d.dtype.char not in "fd" or not d.flags.c_contiguous:  # (float32, float64)
        return None
    root = d if d.base is None else d.base
    if type(root) is not np.ndarray or not root.flags.owndata or id(root) in _exported:
        return None
    node = _Node(None, (), d, d.shape, d.dtype, 0, root)
    if x._vc is not NO_VERSION:
        node.version = (x._vc, x._vc[0])
    return node


def defer(op: str, *operands):
    """A deferred tensor for op(*operands) (op: add, sub, mul, div, neg, sqrt, square), or None when they
    cannot wait (the caller runs the op)."""
    global ON
    nodes = []
    first = None
    steps = 1
    for x in operands:
        n = _operand(x)
        if n is None:
            return None
        if type(n) is _Node:
            if first is None:
                first = n
            elif n.shape != first.shape or n.dtype != first.dtype:
                return None  # broadcasting and promotion stay with the eager ops
            steps += n.steps
        nodes.append(n)
    if first is None or steps > MAX_STEPS:
        return None
    if not cpu_expr.cpu_fused.ENABLED:  # (switched off at run time: the reference path)
        return None
    if not _compiler[0]:
        if not cpu_expr.available():
            ON = False  # numba is missing: stop asking
            return None
        _compiler[0] = True
    node = _Node(op, tuple(nodes), None, first.shape, first.dtype, steps)
    t = _make(node, CPU)
    t.__class__ = _Deferred
    node.owner = weakref.ref(t)
    if len(_pending) > 64:  # forget nodes whose tensors are gone (or computed) now and then
        _pending[:] = [n for n in _pending if n.value is None and n.owner() is not None]
    _pending.append(node)
    return t


def update_in_place(t: Tensor, op: str, other) -> bool:
    """t op= other for a deferred `other`, inside other's loop; False if t cannot take part."""
    target = _operand(t)
    if type(target) is not _Node:
        return False
    src = _SLOT.__get__(other)
    if src.shape != target.shape or src.dtype != target.dtype or src.steps >= MAX_STEPS:
        return False
    # `other` is usually the statement's temporary: it is not stored, and stays deferred in case it is read
    _evaluate(_Node(op, (target, src), None, src.shape, src.dtype, src.steps + 1), into=t._data, keep=src)
    return True


# ---- computing them ---------------------------------------------------------------------------------
def _evaluate(target: _Node, into=None, keep=None) -> None:
    """Compute `target` (into the array `into` when given), and with it the other deferred tensors of
    its chain, except those one step from computed arrays (recomputing those later is as cheap as
    storing them now, and they are often never read: `m_hat = m / c` above)."""
    order = _chain(target)
    inputs = _inputs(order)
    outputs = []
    stored = set()
    for n in order:
        if n is target or n is not keep and _live(n) and _far_from_arrays(n, stored):
            stored.add(id(n))
            outputs.append(n)
    if into is not None:
        target.value = into
    if len(order) == 1 or len(inputs) > MAX_INPUTS:  # (one op alone is one pass either way: no loop to build)
        _evaluate_numpy(order, outputs)
    else:
        _evaluate_compiled(order, inputs, outputs)
    for n in outputs:
        n.args, n.steps = (), 0
        n.version = _version_of(n.owner()) if _live(n) else None
        n.reads = {id(_root(n.value))}
    # what the other deferred tensors read changed: computed arrays instead of the chains behind them
    done = {id(n) for n in outputs}
    affected = [p for p in _pending if p.value is None and not done.isdisjoint(p.reads)]
    if affected:
        for n in _chain(affected):
            _track_reads(n)


def _track_reads(n: _Node) -> None:
    reads = set()
    for a in n.args:
        if type(a) is _Node:
            reads |= a.reads
            if a.value is None:
                reads.add(id(a))
    n.reads = reads


def _far_from_arrays(n: _Node, stored: set) -> bool:
    """Whether some operand of n is neither a number, nor a computed array, nor stored in this pass."""
    for a in n.args:
        if type(a) is _Node and a.value is None and id(a) not in stored:
            return True
    return False


def _live(n: _Node) -> bool:
    return n.owner is not None and n.owner() is not None


def _version_of(t: Tensor):
    return None if t._vc is NO_VERSION else (t._vc, t._vc[0])


def _chain(targets) -> list:
    """The uncomputed nodes the targets (a node or a list) need, each after its operands (creation order
    is such an order)."""
    stack = targets if type(targets) is list else [targets]
    found = {id(n): n for n in stack}
    stack = list(stack)
    while stack:
        for a in stack.pop().args:
            if type(a) is _Node and a.value is None and id(a) not in found:
                found[id(a)] = a
                stack.append(a)
    return sorted(found.values(), key=_seq)


def _seq(n: _Node) -> int:
    return n.seq


def _inputs(order: list) -> list:
    """The computed arrays the chain reads, each once, after checking nobody changed them since."""
    arrays = {}
    for n in order:
        for a in n.args:
            if type(a) is _Node and a.value is not None:
                if a.version is not None and a.version[0][0] != a.version[1]:
                    raise RuntimeError("an array that a deferred glasstorch result reads was modified in place "
                                       "before the result was computed; compute it first (e.g. with .clone())")
                arrays.setdefault(id(a.value), a.value)
    return list(arrays.values())


def _evaluate_compiled(order: list, inputs: list, outputs: list) -> None:
    slot = {id(a): i for i, a in enumerate(inputs)}
    step_of = {id(n): j for j, n in enumerate(order)}
    consts, steps = [], []
    for n in order:
        operands = []
        for a in n.args:
            if type(a) is not _Node:
                operands.append(("c", len(consts)))
                consts.append(a)
            elif a.value is not None:
                operands.append(("x", slot[id(a.value)]))
            else:
                operands.append(("t", step_of[id(a)]))
        steps.append((n.op, tuple(operands)))
    stores, fresh = [], []
    for n in outputs:
        if n.value is not None:  # the in-place target: an input of its own loop
            i = slot.get(id(n.value))
            if i is None:
                i = len(inputs)
                inputs.append(n.value)
            stores.append((step_of[id(n)], ("x", i)))
        else:
            n.value = np.empty(n.shape, n.dtype)
            stores.append((step_of[id(n)], ("y", len(fresh))))
            fresh.append(n.value)
    key = (tuple(steps), len(inputs), tuple(stores))
    text = _texts.get(key)
    if text is None:  # (a loop runs the same chain every step: its text is made once)
        text = _texts[key] = cpu_expr.source(steps, len(inputs), stores, len(consts))
    cpu_expr.run(text, [a.reshape(-1) for a in inputs], [a.reshape(-1) for a in fresh], consts)


_texts: dict = {}  # chain shape -> kernel text


_UFUNCS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide, "neg": np.negative,
           "sqrt": np.sqrt, "square": np.square}


def _evaluate_numpy(order: list, outputs: list) -> None:
    """The chain op by op with NumPy: what the eager ops compute (the reference for the compiled loop)."""
    values = {}
    for n in order:
        args = [values[id(a)] if type(a) is _Node and id(a) in values else a.value if type(a) is _Node else a
                for a in n.args]
        out = n.value if n in outputs and n.value is not None else None
        values[id(n)] = _UFUNCS[n.op](*args, out=out) if out is not None else _UFUNCS[n.op](*args)
    for n in outputs:
        n.value = values[id(n)]


def begin_write(t: Tensor) -> None:
    """The gate of every in-place write: refuse an inference tensor outside inference mode (as PyTorch
    does), then compute the deferred results that read t's memory."""
    check_inplace_allowed(t)
    if _pending:
        before_write(t)


def before_write(t: Tensor) -> None:
    """Compute the deferred results that read t's memory: t is about to be written in place."""
    if not _pending:
        return
    d = t._data  # (a deferred t is computed here, before what reads it)
    if type(d) is not np.ndarray:
        return
    rid = id(_root(d))
    for n in list(_pending):
        if n.value is None and rid in n.reads and _live(n):
            _evaluate(n)
    _pending[:] = [n for n in _pending if n.value is None and _live(n)]


def flush() -> None:
    """Compute every deferred result (before code that writes arrays without before_write)."""
    while _pending:
        n = _pending.pop()
        if n.value is None and _live(n):
            _evaluate(n)


def exported(t: Tensor) -> None:
    """t's array is handed to NumPy code (Tensor.numpy(), torch.from_numpy): it may change unseen, so
    what reads it now is computed, and later ops on it run eagerly."""
    if _pending:
        before_write(t)
    d = _SLOT.__get__(t)
    root = _root(d) if type(d) is np.ndarray else None
    if type(root) is np.ndarray:  # (memory NumPy does not own, e.g. bytes, never waits anyway)
        key = id(root)
        if key not in _exported:
            _exported[key] = weakref.ref(root, lambda _, key=key: _exported.pop(key, None))
