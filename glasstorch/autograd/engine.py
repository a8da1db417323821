"""The backward pass: run the graph's nodes in reverse topological order, without recursion."""
from __future__ import annotations

import warnings

from .graph import AccumulateGrad, Node, _GradMode
from ..amp import autocast_mode as _autocast


def _dependencies(roots) -> dict:
    """How many edges point at each node reachable from `roots` (iterative DFS). The roots start
    in the table at 0, so each node is expanded once: when it first enters the table."""
    deps = dict.fromkeys(roots, 0)
    stack = list(deps)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            if nxt in deps:
                deps[nxt] += 1
            else:
                deps[nxt] = 1
                stack.append(nxt)
    return deps


def _needed(roots, targets) -> set:
    """The nodes with a path to one of `targets`: autograd.grad runs only those (post-order DFS)."""
    needed, seen = set(), set()
    stack = [(r, False) for r in roots]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            if node in targets or any(n in needed for n, _ in node.next_functions):
                needed.add(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((n, False) for n, _ in node.next_functions if n is not None and n not in seen)
    return needed


def _accumulate(grads: dict, node, g) -> None:
    old = grads.get(node)
    grads[node] = g if old is None else old + g


# The backward formulas are written for real inputs (complex ones need PyTorch's conjugate Wirtinger
# calculus), so a complex leaf stops backward rather than receive a wrong gradient.
_COMPLEX_BACKWARD = ("glasstorch does not implement backward through complex tensors: a complex leaf "
                     "requires grad. Differentiate with respect to its real and imaginary parts "
                     "(torch.view_as_real / torch.complex) instead.")


def run_backward(roots, root_grads, *, retain_graph: bool, create_graph: bool, capture=None):
    """Propagate `root_grads` from the nodes `roots` down to the leaves.

    With `capture` (a dict node -> None) the gradients reaching those nodes are returned in it
    and leaves' `.grad` is left alone (autograd.grad); otherwise leaves accumulate into `.grad`.
    """
    from .._ops import deferred  # (imported here: the ops package imports autograd first)

    deferred.flush()  # leaves' .grad may be accumulated in place
    deps = _dependencies(roots)
    grads: dict = {}
    for node, g in zip(roots, root_grads):
        if g is not None:  # None: the root is a later output, already handed to its node (see _roots)
            _accumulate(grads, node, g)
    ready = [n for n in dict.fromkeys(roots) if deps.get(n, 0) == 0]
    needed = _needed(roots, capture) if capture is not None else None

    checked = _GradMode.anomaly
    prev_mode = _GradMode.enabled
    _GradMode.enabled = create_graph
    # backward formulas are written with forward ops, which autocast would cast; PyTorch's backward
    # kernels are in none of its autocast lists, so gradients keep their forward dtypes: suspend it
    prev_autocast = _autocast.suspend()
    try:
        while ready:
            node = ready.pop()
            g = grads.pop(node, None)
            if g is not None and node._pre_hooks:
                g = _run_pre_hooks(node, g)
            if capture is not None:
                if node in capture:
                    capture[node] = g
                if node not in needed:  # leads to no requested input: skip its backward
                    g = None
            if type(node) is AccumulateGrad:
                if node.variable._data.dtype.kind == "c":
                    raise NotImplementedError(_COMPLEX_BACKWARD)
                if capture is None and g is not None:
                    node.variable._accumulate_grad(g, create_graph)
                continue
            if g is None and node._out_grads is None:  # no gradient reached this node
                in_grads = (None,) * len(node.next_functions)
            else:
                if checked or node._post_hooks:
                    in_grads = _call_checked(node, g) if checked else _call(node, g)
                else:  # the common case, inlined: this loop runs once per node of the graph
                    in_grads = node.backward(g)
                    if not isinstance(in_grads, tuple):
                        in_grads = (in_grads,)
                if not retain_graph:
                    node.release()
            for (nxt, nr), gi in zip(node.next_functions, in_grads):
                if nxt is None:
                    continue
                if gi is not None:
                    if nr:  # output 1, 2, ... of a multi-output custom Function
                        nxt._add_output_grad(nr, gi)
                    else:  # sum the gradients reaching one node (inlined _accumulate: the hot path)
                        old = grads.get(nxt)
                        grads[nxt] = gi if old is None else old + gi
                left = deps[nxt] - 1
                deps[nxt] = left
                if left == 0:
                    ready.append(nxt)
            in_grads = gi = old = None  # drop our references: a leaf steals a gradient only nobody else holds
    finally:
        _GradMode.enabled = prev_mode
        _autocast.resume(prev_autocast)


def _run_pre_hooks(node: Node, g):
    """The gradient reaching `node` after its pre-hooks (tensor hooks) saw it and maybe replaced it."""
    for hook in list(node._pre_hooks.values()):
        out = hook(g)
        if out is not None:
            g = out
    return g


def _call(node: Node, g):
    """Run one node's backward (and its post-hooks): the gradients for its inputs."""
    in_grads = node.backward(g)
    if not isinstance(in_grads, tuple):
        in_grads = (in_grads,)
    if node._post_hooks:
        for hook in list(node._post_hooks.values()):
            out = hook(in_grads, (g,))
            if out is not None:
                in_grads = tuple(out)
    return in_grads


def _call_checked(node: Node, g):
    """_call under anomaly detection: errors and NaN gradients point at the forward call."""
    try:
        in_grads = _call(node, g)
        if _GradMode.check_nan:
            for i, gi in enumerate(in_grads):
                if gi is not None and bool(gi.isnan().any()):
                    raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
    except Exception:
        trace = getattr(node, "_trace", None)
        if trace:
            warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n"
                          f"{trace}", UserWarning, stacklevel=2)
        raise
    return in_grads
