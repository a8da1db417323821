"""Record every op a piece of code runs: `with glasstorch.viz.trace() as t: ...`.

How it sees the ops without costing anything when off: while a trace is active, a profile function
(`sys.setprofile`) watches Python calls. A call into glasstorch made from code outside glasstorch
(the user's line `b = a + 5` calling `Tensor.__add__`) is one step: its tensor arguments are the
inputs, its returned tensors the outputs, the calling frame gives the file and line. Calls glasstorch
makes internally are not steps, so a step is an op as the user wrote it. While `backward()` runs,
the engine's calls of each node's `backward` (and of a leaf's gradient accumulation) are recorded too,
which gives the gradient that reached every recorded tensor. No trace active: no profile function,
so the library's hot path has not even a flag to test.

Values are copied when recorded: whole for tensors of at most `max_values` elements, otherwise
statistics plus the first `sample` elements.

A trace watches the thread that entered it (profile functions are per thread), and it takes the
place of any profiler set there (cProfile) until it ends.
"""
from __future__ import annotations

import linecache
import os
import sys
import weakref
import numpy as np

from .._tensor import Tensor
from ..autograd import engine as _engine
from ..autograd.graph import Node
from ..nn.modules.module import Module

_LIB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

# Calls into glasstorch that are not ops: accessors, conversions, printing, module plumbing.
_NOT_OPS = frozenset("""
    <module> <genexpr> <listcomp> <dictcomp> <lambda> __init__ __new__ __del__ __repr__ __str__ __format__
    __len__ __bool__ __hash__ __iter__ __next__ __contains__ __enter__ __exit__ __getattr__ __setattr__
    __delattr__ __array__ __index__ __int__ __float__ __eq__ __ne__ __reduce__ __reduce_ex__ __getstate__
    __setstate__ __deepcopy__ __copy__
    grad data shape size dim ndim numel item tolist numpy dtype device is_leaf requires_grad grad_fn
    retains_grad next_functions name is_cuda is_floating_point element_size stride storage_offset
    parameters named_parameters buffers named_buffers children named_children modules named_modules
    state_dict load_state_dict zero_grad train eval register_forward_hook register_forward_pre_hook
    register_hook register_buffer register_parameter add_module apply extra_repr manual_seed
    is_grad_enabled set_grad_enabled no_grad enable_grad inference_mode get_default_dtype
    set_default_dtype is_tensor
""".split())

_MODULE_CALL = Module.__call__.__code__
_CO_VARARGS, _CO_VARKEYWORDS, _CO_GENERATORS = 0x04, 0x08, 0x20 | 0x100 | 0x200


def summarize(t: Tensor, max_values: int = 64, sample: int = 8) -> dict:
    """A JSON-able copy of `t`: shape, dtype, device, and its values (all of them up to
    `max_values` elements; else min/max/mean/std and the first `sample`)."""
    arr = t._data
    if hasattr(arr, "get"):  # CuPy: bring it to the host
        arr = arr.get()
    arr = np.asarray(arr)
    out = {"shape": list(arr.shape), "dtype": str(t.dtype).replace("torch.", ""), "device": str(t.device),
           "numel": int(arr.size)}
    if arr.dtype.kind == "c":
        arr = arr.astype(str)
    if arr.size <= max_values:
        out["values"] = arr.tolist()
        return out
    flat = arr.reshape(-1)
    out["sample"] = flat[:sample].tolist()
    if arr.dtype.kind in "fiub" and arr.size:
        f = flat.astype(np.float64)
        out["stats"] = {"min": float(f.min()), "max": float(f.max()), "mean": float(f.mean()), "std": float(f.std())}
    return out


def _tensors_in(value) -> list:
    """The tensors in a call's argument or result (one level of tuples/lists/dicts)."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [v for v in value if isinstance(v, Tensor)]
    if isinstance(value, dict):
        return [v for v in value.values() if isinstance(v, Tensor)]
    return []


class Trace:
    """What `trace()` recorded: `steps` (ops in call order) and `tensors` (their values).

    A step is a dict: index, name (the function or module called), grad_fn, file, line, phase
    ('forward' or 'backward'), parent (the enclosing step, for a user-defined module's forward),
    inputs and outputs (ids into `tensors`). A backward step (kind 'node') is one graph node run by
    the engine; it names the forward tensor whose gradient it received (`grad_of`).
    A tensor is a `summarize` dict plus id, producer step, grad_fn, requires_grad, and `grad` once
    backward has reached it.
    """

    def __init__(self, max_ops: int | None = None, max_values: int = 64, sample: int = 8,
                 only_lines: tuple[int, int] | None = None, only_file: str | None = None):
        if max_ops is not None and max_ops < 1:
            raise ValueError(f"max_ops must be positive, got {max_ops}")
        if max_values < 0 or sample < 0:
            raise ValueError(f"max_values and sample must be non-negative, got {max_values} and {sample}")
        self.max_ops, self.max_values, self.sample = max_ops, max_values, sample
        self.only_lines = only_lines
        self.only_file = os.path.abspath(only_file) if only_file else None
        self.steps: list[dict] = []
        self.tensors: list[dict] = []
        self.skipped_lines = 0  # ops outside `only_lines`
        self.truncated = False  # max_ops reached: recording stopped there
        self._lib: dict = {}  # code object -> is it glasstorch's own code
        self._stack: list = []  # (frame, step) of the steps in progress, innermost last
        self._known: dict = {}  # id(tensor) -> (weakref, version, tensor id): a tensor already recorded
        self._by_node: dict = {}  # id(node) -> (weakref to node, tensor id of its output)
        self._engine_codes = {_engine.run_backward.__code__, _engine._call.__code__, _engine._call_checked.__code__}
        self._prev_profile = None
        self._active = False

    # -- starting and stopping ---------------------------------------------------------------------
    def __enter__(self) -> "Trace":
        self._prev_profile = sys.getprofile()
        self._active = True
        sys.setprofile(self._event)
        return self

    def __exit__(self, *exc) -> None:
        self._stop()
        self._refresh_grads()
        self._known.clear()
        self._by_node.clear()

    def _stop(self) -> None:
        if self._active:
            sys.setprofile(self._prev_profile)
            self._active = False
            self._stack.clear()

    # -- the profile function: runs on every Python call and return while tracing ------------------
    def _is_lib(self, code) -> bool:
        lib = self._lib.get(code)
        if lib is None:
            lib = self._lib[code] = code.co_filename.startswith(_LIB_DIR)
        return lib

    def _event(self, frame, event, arg) -> None:
        if event == "call":
            code = frame.f_code
            if not self._is_lib(code):
                return
            caller = frame.f_back
            if caller is None:
                return
            if not self._is_lib(caller.f_code):
                if code.co_name not in _NOT_OPS and not code.co_flags & _CO_GENERATORS:
                    self._begin(frame, caller)
            elif code is _MODULE_CALL and self._stack and self._stack[-1][1] and self._stack[-1][1]["kind"] == "module":
                self._begin(frame, None)  # a layer inside a built-in container (Sequential): show it too
            elif caller.f_code in self._engine_codes:
                if code.co_name == "backward":
                    self._begin_node(frame)
                elif code.co_name == "_accumulate_grad":
                    self._stack.append((frame, None))
        elif event == "return":
            stack = self._stack
            if stack and frame is stack[-1][0]:
                _, step = stack.pop()
                if step is None:  # a leaf's gradient was accumulated
                    self._leaf_grad(frame.f_locals.get("self"))
                elif step["kind"] == "node":
                    self._end_node(step, arg)
                else:
                    self._end(step, frame, arg)
                if self.truncated and not stack:  # max_ops reached and back in user code: stop watching
                    self._stop()

    def _arguments(self, frame) -> list:
        code = frame.f_code
        n = code.co_argcount + code.co_kwonlyargcount
        n += bool(code.co_flags & _CO_VARARGS) + bool(code.co_flags & _CO_VARKEYWORDS)
        local = frame.f_locals
        return [local.get(name) for name in code.co_varnames[:n]]

    def _begin(self, frame, caller) -> None:
        """A step starts: `frame` is the glasstorch function called, `caller` the user's frame (None
        for a layer inside a built-in container: it takes the container's line)."""
        if caller is None:
            outer = self._stack[-1][1]
            file, line = outer["file"], outer["line"]
        else:
            file, line = os.path.abspath(caller.f_code.co_filename), caller.f_lineno
        if self.truncated:  # max_ops reached inside a step still running: record nothing more
            self._stack.append((frame, {"kind": "skip"}))
            return
        lo, hi = self.only_lines or (0, 0)
        if self.only_lines is not None and not ((self.only_file is None or file == self.only_file) and lo <= line <= hi):
            self.skipped_lines += 1
            self._stack.append((frame, {"kind": "skip"}))
            return
        args = self._arguments(frame)
        name = frame.f_code.co_name
        module = args[0] if args and name in ("__call__", "forward") and hasattr(args[0], "_parameters") else None
        inputs = [t for a in args for t in _tensors_in(a)]
        if module is not None:
            name = type(module).__name__
            inputs += [p for p in module._parameters.values() if p is not None]
        elif name.startswith("__") and name.endswith("__"):
            name = name.strip("_")  # __add__ -> add, as torch.add
        phase = "backward" if any(s.get("phase_root") for _, s in self._stack if s) else "forward"
        parent = next((s["index"] for _, s in reversed(self._stack) if s and "index" in s), None)
        step = {"index": len(self.steps), "kind": "module" if module is not None else "op", "name": name,
                "grad_fn": None, "file": file, "line": line, "phase": phase, "parent": parent,
                "inputs": [self._tensor_id(t) for t in inputs], "outputs": []}
        if name == "backward":  # Tensor.backward or autograd.backward: what runs inside is backward
            step["phase_root"], step["phase"] = True, "backward"
        if module is not None:  # name the module's parameters after it: "Linear.weight"
            for pname, p in module._parameters.items():
                if p is not None:
                    self.tensors[self._tensor_id(p)].setdefault("name", f"{type(module).__name__}.{pname}")
        self.steps.append(step)
        self._stack.append((frame, step))
        if self.max_ops is not None and len(self.steps) >= self.max_ops:
            self.truncated = True

    def _end(self, step, frame, result) -> None:
        if step["kind"] == "skip":
            return
        outs = _tensors_in(result)
        if not outs and (step["name"] == "setitem" or step["name"].endswith("_")):  # in place: the result is self
            outs = [frame.f_locals.get("self")] if isinstance(frame.f_locals.get("self"), Tensor) else []
        step["outputs"] = [self._tensor_id(t, step["index"]) for t in outs]
        fn = outs[0].grad_fn if outs else None
        step["grad_fn"] = fn.name() if fn is not None else None
        if step.pop("phase_root", False):
            self._refresh_grads()
        elif not outs and not step["inputs"] and self.steps[-1] is step:  # no tensor in or out: not an op
            self.steps.pop()

    def _begin_node(self, frame) -> None:
        node = frame.f_locals.get("self")
        grads = [a for a in self._arguments(frame)[1:2] if isinstance(a, Tensor)]
        entry = self._by_node.get(id(node))
        target = entry[1] if entry is not None and entry[0]() is node else None
        where = self.steps[self.tensors[target]["producer"]] if target is not None else None
        step = {"index": len(self.steps), "kind": "node", "name": node.name() if isinstance(node, Node) else "?",
                "grad_fn": None, "file": where["file"] if where else None, "line": where["line"] if where else None,
                "phase": "backward", "parent": None, "grad_of": target,
                "grad": summarize(grads[0], self.max_values, self.sample) if grads else None,
                "inputs": [], "outputs": []}
        if target is not None and grads:
            self.tensors[target]["grad"] = step["grad"]
        self.steps.append(step)
        self._stack.append((frame, step))

    def _end_node(self, step, result) -> None:
        grads = result if isinstance(result, tuple) else (result,)
        step["input_grads"] = [summarize(g, self.max_values, self.sample) if isinstance(g, Tensor) else None
                               for g in grads]

    def _leaf_grad(self, leaf) -> None:
        if isinstance(leaf, Tensor) and leaf._grad is not None:
            entry = self._known.get(id(leaf))
            if entry is not None and entry[0]() is leaf:
                self.tensors[entry[2]]["grad"] = summarize(leaf._grad, self.max_values, self.sample)

    # -- tensors -------------------------------------------------------------------------------------
    def _tensor_id(self, t: Tensor, producer: int | None = None) -> int:
        """The id of `t`'s record; a new record (a copy of its value, made by step `producer`) unless
        this very tensor was recorded before at the same version (an op that returned its input)."""
        entry = self._known.get(id(t))
        if entry is not None and entry[0]() is t and entry[1] == t._vc[0]:
            return entry[2]
        rec = summarize(t, self.max_values, self.sample)
        rec.update(id=len(self.tensors), producer=producer, requires_grad=bool(t._requires_grad),
                   grad_fn=t.grad_fn.name() if t.grad_fn is not None else None, grad=None)
        if getattr(t, "_name", None):
            rec["name"] = t._name
        self.tensors.append(rec)
        self._known[id(t)] = (weakref.ref(t), t._vc[0], rec["id"])
        if t.grad_fn is not None:
            self._by_node[id(t.grad_fn)] = (weakref.ref(t.grad_fn), rec["id"])
        return rec["id"]

    def _refresh_grads(self) -> None:
        """Copy the .grad of every recorded leaf or retain_grad tensor still alive."""
        for ref, _, tid in self._known.values():
            t = ref()
            if t is not None and t._grad is not None and (t.grad_fn is None or getattr(t, "_retains_grad", False)):
                self.tensors[tid]["grad"] = summarize(t._grad, self.max_values, self.sample)

    # -- reading the trace ---------------------------------------------------------------------------
    def lines(self) -> dict:
        """{(file, line): [step indices]}: what each traced source line computed."""
        out: dict = {}
        for s in self.steps:
            if s["file"] is not None:
                out.setdefault((s["file"], s["line"]), []).append(s["index"])
        return out

    def sources(self) -> dict:
        """{file: text} of the user files the steps came from."""
        out = {}
        for s in self.steps:
            f = s["file"]
            if f is not None and f not in out:
                out[f] = "".join(linecache.getlines(f))
        return out

    def graph(self):
        """The recorded forward ops as a `render.Graph` (nodes: ops and input tensors; edges: tensors)."""
        from .render import Graph

        return Graph.from_trace(self)

    def to_dot(self) -> str:
        return self.graph().to_dot()

    def to_svg(self) -> str:
        return self.graph().to_svg()

    def to_html(self, path: str | os.PathLike, title: str = "glasstorch trace") -> None:
        """Write the trace as one self-contained page (source, graph, steps), atomically."""
        from .html import write_page

        write_page(path, self, title=title)

    def __repr__(self) -> str:
        cut = ", truncated" if self.truncated else ""
        return f"Trace({len(self.steps)} steps, {len(self.tensors)} tensors{cut})"


def trace(max_ops: int | None = None, max_values: int = 64, sample: int = 8,
          only_lines: tuple[int, int] | None = None, only_file: str | None = None) -> Trace:
    """Record the ops run inside a `with` block:

        with glasstorch.viz.trace() as t:
            y = (2 * x + 5) ** 3
            y.backward()
        t.to_html("trace.html")

    max_ops: stop recording after this many steps (the rest of the block runs untraced);
    max_values: tensors up to this many elements are kept whole, larger ones as statistics plus
    `sample` first elements; only_lines=(a, b): record only ops called from lines a..b (of
    `only_file`, when given).
    """
    return Trace(max_ops=max_ops, max_values=max_values, sample=sample, only_lines=only_lines, only_file=only_file)
