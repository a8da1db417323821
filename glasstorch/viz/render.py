"""One picture of a computation, drawn three ways: DOT text, SVG (through Graphviz), an HTML page.

A `Graph` has op nodes (one per recorded op, or per autograd node) and tensor nodes (inputs that no
recorded op produced: leaves, constants); its edges are the tensors flowing from op to op. Every node
carries the value it produced and the gradient that reached it, as `trace.summarize` dicts, so each
renderer can label it micrograd-style: name | data | grad.
"""
from __future__ import annotations

import os

from .._tensor import Tensor
from .trace import summarize

_X_STEP, _Y_STEP, _MARGIN = 190, 80, 30  # HTML layout: column and row spacing, in pixels


def fmt_value(s: dict | None, limit: int = 6) -> str:
    """A short text for a value summary: '370.4638', '[1.0000, 2.0000]', 'shape [64, 784] mean 0.1300'."""
    if s is None:
        return "None"
    v = s.get("values")
    if v is None:
        st = s.get("stats")
        extra = f" mean {_num(st['mean'])}" if st else ""
        return f"shape {s['shape']}{extra}"
    if not isinstance(v, list):
        return _num(v)
    flat = _flatten(v)
    body = ", ".join(_num(x) for x in flat[:limit]) + (", ..." if len(flat) > limit else "")
    return f"[{body}]" if len(s["shape"]) == 1 else f"shape {s['shape']} [{body}]"


def _num(x) -> str:
    if isinstance(x, bool) or isinstance(x, int) or isinstance(x, str):
        return str(x)
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-4):
        return f"{x:.4e}"
    return f"{x:.4f}"


def _flatten(v) -> list:
    out, stack = [], [v]
    while stack:  # iterative: nested lists can be as deep as a tensor has dims
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def _dot_escape(text: str) -> str:
    for ch in "\\{}|<>\"":
        text = text.replace(ch, "\\" + ch)
    return text


class Graph:
    """Nodes (dicts: id, kind 'op' or 'tensor', label, sub, data, grad, step, line, file; and `tensor`,
    the id of the trace's tensor record shown, for a trace's graph) and edges (dicts: src, dst, tensor,
    label)."""

    def __init__(self, title: str = "graph"):
        self.title = title
        self.nodes: list[dict] = []
        self.edges: list[dict] = []

    def add_node(self, id: str, kind: str, label: str, sub: str | None = None, data=None, grad=None,
                 step: int | None = None, file: str | None = None, line: int | None = None) -> dict:
        node = {"id": id, "kind": kind, "label": label, "sub": sub, "data": data, "grad": grad, "step": step,
                "file": file, "line": line}
        self.nodes.append(node)
        return node

    def add_edge(self, src: str, dst: str, tensor: int | None = None, label: str = "") -> None:
        self.edges.append({"src": src, "dst": dst, "tensor": tensor, "label": label})

    # -- building ------------------------------------------------------------------------------------
    @classmethod
    def from_trace(cls, t) -> "Graph":
        """The forward ops of a Trace: innermost steps only (a user module's own ops, not the module)."""
        g = cls("trace")
        has_children = {s["parent"] for s in t.steps if s["parent"] is not None}
        made_by: dict = {}  # tensor id -> graph node id of the op that produced it
        for s in t.steps:
            if s["phase"] != "forward" or s["kind"] == "node" or s["index"] in has_children or not s["outputs"]:
                continue
            node_id = f"s{s['index']}"
            for tid in s["inputs"]:
                if tid not in made_by:
                    rec = t.tensors[tid]
                    made_by[tid] = f"t{tid}"
                    g.add_node(f"t{tid}", "tensor", rec.get("name") or ("leaf" if rec["requires_grad"] else "input"),
                               data=rec, grad=rec.get("grad"))["tensor"] = tid
                g.add_edge(made_by[tid], node_id, tid, _shape_text(t.tensors[tid]))
            out = t.tensors[s["outputs"][0]]
            g.add_node(node_id, "op", s["name"], sub=s["grad_fn"], data=out, grad=out.get("grad"), step=s["index"],
                       file=s["file"], line=s["line"])["tensor"] = s["outputs"][0]
            for tid in s["outputs"]:
                made_by[tid] = node_id
        return g

    @classmethod
    def from_tensor(cls, root: Tensor, max_values: int = 64, sample: int = 8) -> "Graph":
        """The autograd graph behind `root`: one node per grad_fn (AccumulateGrad for leaves)."""
        g = cls("autograd graph")
        snap = lambda x: summarize(x, max_values, sample) if isinstance(x, Tensor) else None  # noqa: E731
        if root.grad_fn is None:
            g.add_node("n0", "tensor", "tensor", data=snap(root), grad=snap(root._grad))
            return g
        ids = {root.grad_fn: "n0"}
        order, stack = [root.grad_fn], [root.grad_fn]
        while stack:  # iterative walk: graphs can be deeper than Python's recursion limit
            node = stack.pop()
            for nxt, _ in node.next_functions:
                if nxt is not None and nxt not in ids:
                    ids[nxt] = f"n{len(ids)}"
                    order.append(nxt)
                    stack.append(nxt)
        for node in reversed(order):  # inputs first: the picture reads left to right
            var = getattr(node, "variable", None)
            if var is not None:
                g.add_node(ids[node], "tensor", "AccumulateGrad", sub=getattr(var, "_name", None) or None,
                           data=snap(var), grad=snap(var._grad))
            else:
                is_root = node is root.grad_fn
                g.add_node(ids[node], "op", node.name(), data=snap(root) if is_root else None,
                           grad=snap(root._grad) if is_root else None)
        for node in order:
            for nxt, _ in node.next_functions:
                if nxt is not None:
                    g.add_edge(ids[nxt], ids[node])
        return g

    # -- layout --------------------------------------------------------------------------------------
    def layout(self) -> dict:
        """{node id: (x, y)}: columns by longest path from an input (left to right), rows in order."""
        incoming: dict = {n["id"]: [] for n in self.nodes}
        outgoing: dict = {n["id"]: [] for n in self.nodes}
        for e in self.edges:
            incoming[e["dst"]].append(e["src"])
            outgoing[e["src"]].append(e["dst"])
        waiting = {k: len(v) for k, v in incoming.items()}
        rank = {}
        ready = [n["id"] for n in self.nodes if waiting[n["id"]] == 0]
        while ready:  # Kahn's topological order
            nid = ready.pop()
            rank[nid] = max((rank[s] + 1 for s in incoming[nid]), default=0)
            for d in outgoing[nid]:
                waiting[d] -= 1
                if waiting[d] == 0:
                    ready.append(d)
        rows: dict = {}
        pos = {}
        for n in self.nodes:
            r = rank.get(n["id"], 0)
            pos[n["id"]] = (_MARGIN + r * _X_STEP, _MARGIN + rows.get(r, 0) * _Y_STEP)
            rows[r] = rows.get(r, 0) + 1
        return pos

    # -- rendering -----------------------------------------------------------------------------------
    def to_dot(self) -> str:
        """Graphviz DOT text, left to right, micrograd-style record labels: name | data | grad."""
        lines = ["digraph G {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
        for n in self.nodes:
            head = n["label"] + (f" ({n['sub']})" if n["sub"] else "")
            fields = [head]
            if n["data"] is not None:
                fields.append("data " + fmt_value(n["data"]))
            if n["grad"] is not None:
                fields.append("grad " + fmt_value(n["grad"]))
            label = "{ " + " | ".join(_dot_escape(f) for f in fields) + " }"
            style = ', style="rounded,filled", fillcolor="#e8f0fe"' if n["kind"] == "op" else ""
            lines.append(f'  "{n["id"]}" [shape=record, label="{label}"{style}];')
        for e in self.edges:
            lab = f' [label="{_dot_escape(e["label"])}"]' if e["label"] else ""
            lines.append(f'  "{e["src"]}" -> "{e["dst"]}"{lab};')
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_svg(self) -> str:
        """SVG drawn by Graphviz (needs `pip install glasstorch[viz]` and Graphviz's `dot` program)."""
        try:
            import graphviz
        except ImportError:
            raise ImportError("to_svg needs the graphviz package: pip install 'glasstorch[viz]' "
                              "(and Graphviz's dot program, e.g. apt-get install graphviz)") from None
        try:
            return graphviz.Source(self.to_dot()).pipe(format="svg").decode("utf-8")
        except graphviz.ExecutableNotFound:
            raise RuntimeError("to_svg needs Graphviz's dot program on PATH (e.g. apt-get install graphviz); "
                               "to_dot() and to_html() work without it") from None

    def _repr_svg_(self) -> str:  # Jupyter draws a Graph inline
        return self.to_svg()

    def to_html(self, path: str | os.PathLike, title: str | None = None) -> None:
        """Write the graph as one self-contained interactive page, atomically."""
        from .html import write_page

        write_page(path, None, graph=self, title=title or f"glasstorch {self.title}")

    def __repr__(self) -> str:
        return f"Graph({len(self.nodes)} nodes, {len(self.edges)} edges)"


def _shape_text(rec: dict) -> str:
    return f"{rec['dtype']}{rec['shape']}"


def graph(tensor: Tensor, max_values: int = 64, sample: int = 8) -> Graph:
    """The autograd graph behind `tensor` (grad_fn names as PyTorch prints them):

        g = glasstorch.viz.graph(loss)
        g.to_dot(); g.to_svg(); g.to_html("graph.html")
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"graph(): expected a Tensor, got {type(tensor).__name__}")
    return Graph.from_tensor(tensor, max_values=max_values, sample=sample)
