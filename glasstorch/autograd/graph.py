"""Graph nodes. Every differentiable op records one `Node` (its `grad_fn`) on its output.

A node knows where its inputs' gradients go (`next_functions`: one `(node, output_nr)` edge per
input, `(None, 0)` for inputs that need none) and the tensors its backward formula needs (`saved`,
with their version numbers, so that an in-place change made since is an error). Leaves that
require grad are represented in the graph by an `AccumulateGrad` node, which adds the incoming
gradient to `leaf.grad`.

A node that needs its own output saves a graph-free alias of it (marked `_out_alias`): holding
the output itself would make a reference cycle. Under create_graph the alias is handed to the
backward formula as output 0 of the node again, so second derivatives see the dependency.
"""
from __future__ import annotations

import os
import re
import traceback
import weakref


class _GradMode:
    """Global switches read on every op (attribute lookups on a class are cheap)."""

    enabled = True
    anomaly = False
    check_nan = True
    inference = False


def is_grad_enabled() -> bool:
    return _GradMode.enabled


_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


class Node:
    """A backward function. Subclasses set `backward(grad) -> tuple of input gradients`."""

    __slots__ = ("next_functions", "_saved", "_versions", "_trace", "__weakref__", "__dict__")

    # Rarely set, so class-level defaults rather than per-node writes (a node is built per op):
    _out_grads = None  # gradients of outputs 1, 2, ... (only multi-output custom Functions have them)
    _pre_hooks = None  # {id: hook(grad)} once a hook is registered on this node or its tensor
    _post_hooks = None  # {id: hook(grad_inputs, grad_outputs)}

    def __init__(self, inputs, saved=()):
        """`inputs`: the op's inputs (Tensors, or plain numbers and None, which get no gradient);
        `saved`: the tensors backward needs (None in a place whose tensor it does not need)."""
        # This runs once per recorded op, so it is written out flat: explicit loops (cheaper than
        # comprehensions in CPython) and no helper calls.
        edges = []
        for t in inputs:  # (node, output_nr): where the gradient of input t goes (see `edge`)
            fn = getattr(t, "grad_fn", None)
            if fn is not None:
                edges.append((fn, t._output_nr))
            elif getattr(t, "_requires_grad", False):  # a leaf: its AccumulateGrad (grad_accumulator, inlined)
                ref = t._grad_acc
                acc = ref() if ref is not None else None
                edges.append((acc if acc is not None else grad_accumulator(t), 0))
            else:
                edges.append(_NO_EDGE)
        self.next_functions = tuple(edges)
        self._saved = saved
        self._versions = None  # stays None when no tensor was saved (only Nones): nothing to check
        if saved:
            versions = []
            for t in saved:
                if t is None:
                    versions.append(0)
                else:
                    versions.append(t._vc[0])
                    self._versions = versions
        if _GradMode.anomaly:
            self._trace = _user_stack()

    # -- identity --------------------------------------------------------------------------------
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    # -- saved values ----------------------------------------------------------------------------
    @property
    def saved_tensors(self) -> tuple:
        """The saved tensors, after checking none was modified in place since it was saved."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(_FREED)
        if self._versions is not None:
            for t, v in zip(saved, self._versions):
                if t is not None and t._vc[0] != v:
                    _raise_modified(self, t, v)
        if _GradMode.enabled:  # create_graph: a saved output must lead back to this node
            saved = tuple([_reattach(t, self) for t in saved])
        return saved

    # Subclasses holding extra saved arrays define `_release_extra(self)` to drop them (left None
    # here rather than an empty method: release() runs once per node of every backward).
    _release_extra = None

    def release(self) -> None:
        """Drop saved values once backward has used them (retain_graph=False)."""
        if self._saved:
            self._saved = None
        if self._release_extra is not None:
            self._release_extra()

    def backward(self, grad):  # pragma: no cover - every op overrides it
        raise NotImplementedError

    # -- hooks -----------------------------------------------------------------------------------
    def register_prehook(self, fn):
        if self._pre_hooks is None:
            self._pre_hooks = {}
        return _Handle(self._pre_hooks, fn)

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) called after this node ran."""
        if self._post_hooks is None:
            self._post_hooks = {}
        return _Handle(self._post_hooks, fn)


class AccumulateGrad(Node):
    """The graph node of a leaf tensor: adds incoming gradients to `variable.grad`."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.next_functions = ()
        self._saved = ()
        self._versions = None
        self._pre_hooks = variable._hooks  # the leaf's hooks, registered before or after this node
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def release(self) -> None:
        pass


class _Handle:
    """What register_hook returns: `.remove()` unregisters the hook."""

    _next_id = 0

    def __init__(self, table: dict, fn):
        _Handle._next_id += 1
        self.id = _Handle._next_id
        self._table = weakref.ref(table) if hasattr(table, "__weakref__") else (lambda: table)
        table[self.id] = fn

    def remove(self) -> None:
        table = self._table()
        if table is not None:
            table.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def post_order(roots, children) -> list:
    """Every node reachable from `roots`, each after the nodes `children(node)` gives (an iterative
    depth-first post-order: no recursion, so graphs of any depth)."""
    order, done, stack = [], set(), [(r, False) for r in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in done:
            continue
        done.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children(node) if id(c) not in done)
    return order


def edge(t):
    """The node a gradient for `t` flows into: its grad_fn, its AccumulateGrad, or None."""
    fn = getattr(t, "grad_fn", None)
    if fn is not None:
        return fn
    if getattr(t, "_requires_grad", False):
        return grad_accumulator(t)
    return None


# An edge is `(node, output_nr)` (output_nr > 0 only for the later outputs of a multi-output
# custom Function); an input that needs no gradient has this one.
_NO_EDGE = (None, 0)


def _reattach(t, node: Node):
    """Under create_graph, a saved output (stored graph-free to avoid a cycle) as output 0 of `node`."""
    if t is None or not getattr(t, "_out_alias", False):
        return t
    out = t.detach()
    out.grad_fn = node
    out._requires_grad = True
    return out


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _user_stack() -> str:
    """The current stack without glasstorch's own frames: where user code called the op."""
    frames = [f for f in traceback.extract_stack()[:-1] if not f.filename.startswith(_PACKAGE_DIR + os.sep)]
    return "".join(traceback.format_list(frames))


def grad_accumulator(t):
    """The (cached) AccumulateGrad node of leaf `t`; the leaf holds it only weakly."""
    ref = t._grad_acc
    acc = ref() if ref is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        t._grad_acc = weakref.ref(acc)
    return acc


def _raise_modified(node: Node, t, version: int):
    out = ""
    producer = node if getattr(t, "_out_alias", False) else t.grad_fn
    if producer is not None:  # PyTorch names the producing op without its "Backward0"
        out = f", which is output {t._output_nr} of {re.sub(r'Backward[0-9]*$', '', producer.name())},"
    shape = "[" + ", ".join(str(s) for s in t.shape) + "]"
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{t._type_name()} {shape}]{out} is at version {t._vc[0]}; expected version "
        f"{version} instead. Hint: enable anomaly detection to find the operation that failed to "
        "compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False)."
    )
