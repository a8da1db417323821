"""The backward pass: run the graph's nodes in reverse topological order, without recursion."""
from __future__ import annotations

from .graph import AccumulateGrad, Node, _GradMode


def _dependencies(roots) -> dict:
    """How many edges point at each node reachable from `roots` (iterative DFS)."""
    deps: dict = {}
    stack = list(roots)
    seen = set(stack)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return deps


def _accumulate(grads: dict, node, g) -> None:
    old = grads.get(node)
    grads[node] = g if old is None else old + g


def run_backward(roots, root_grads, *, retain_graph: bool, create_graph: bool, capture=None):
    """Propagate `root_grads` from the nodes `roots` down to the leaves.

    With `capture` (a dict node -> None) the gradients reaching those nodes are returned in it
    and leaves' `.grad` is left alone (autograd.grad); otherwise leaves accumulate into `.grad`.
    """
    deps = _dependencies(roots)
    grads: dict = {}
    for node, g in zip(roots, root_grads):
        _accumulate(grads, node, g)
    ready = [n for n in dict.fromkeys(roots) if deps.get(n, 0) == 0]

    prev_mode = _GradMode.enabled
    _GradMode.enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            g = grads.pop(node, None)
            if g is not None and node._pre_hooks:
                for hook in list(node._pre_hooks.values()):
                    out = hook(g)
                    if out is not None:
                        g = out
            if capture is not None and node in capture:
                capture[node] = g
            if type(node) is AccumulateGrad:
                if capture is None and g is not None:
                    node.variable._accumulate_grad(g, create_graph)
                continue
            if g is None:
                in_grads = (None,) * len(node.next_functions)
            else:
                in_grads = _call(node, g)
                if not retain_graph:
                    node.release()
            for (nxt, _), gi in zip(node.next_functions, in_grads):
                if nxt is None:
                    continue
                if gi is not None:
                    _accumulate(grads, nxt, gi)
                left = deps[nxt] - 1
                deps[nxt] = left
                if left == 0:
                    ready.append(nxt)
    finally:
        _GradMode.enabled = prev_mode


def _call(node: Node, g):
    in_grads = node.backward(g)
    if not isinstance(in_grads, tuple):
        in_grads = (in_grads,)
    if node._post_hooks:
        for hook in list(node._post_hooks.values()):
            out = hook(in_grads, (g,))
            if out is not None:
                in_grads = tuple(out)
    if _GradMode.anomaly:
        _check_nan(node, in_grads)
    return in_grads


def _check_nan(node: Node, in_grads) -> None:
    for i, gi in enumerate(in_grads):
        if gi is not None and bool(gi.isnan().any()):
            trace = getattr(node, "_trace", None)
            where = f"\nThe forward call that created it:\n{trace}" if trace else ""
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.{where}")
