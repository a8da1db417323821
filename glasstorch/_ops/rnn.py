"""Recurrent layers: one layer and one direction of an Elman RNN, an LSTM or a GRU over a whole sequence.

Layout. A sequence batch is *packed*: the rows of time step t are rows `offsets[t] : offsets[t] + batch_sizes[t]`
of an (N, features) array, with batch_sizes non-increasing (longest sequences first). A padded (T, B) batch is
the special case batch_sizes = (B,) * T, so one code path serves both. At step t only the first batch_sizes[t]
rows of the running state are updated and the others keep their value. That is what both directions need:
going forward, a finished sequence keeps its last state (its h_n); going in reverse, a sequence that has not
started yet still holds its h0 when it joins.

Speed. The input projection x @ W_ih.T (+ biases) of every step is one matrix product before the loop; each
step then does one (b, H) @ (H, G*H) product and the gate arithmetic (`NumpyCells`, a few in-place array
ops; with numba, `backends/cpu_rnn.py` runs the same arithmetic as compiled loops, to the same bits).
Backward walks the steps in the opposite order, keeping d(state) in two arrays, and stores each step's gate
gradients, so the weight gradients are again one matrix product each after the loop. The whole layer is one
graph node.

Gate layout, as PyTorch's weights: LSTM rows [i, f, g, o]; GRU rows [r, z, n] with
n = tanh(x W_in + b_in + r * (h W_hn + b_hn)); h' = (1 - z) * n + z * h.
"""
from __future__ import annotations

from .. import _dtype
from ..amp.autocast_mode import autocast_op
from ..backends import cpu as _cpu, cpu_rnn
from ._util import Node, Tensor, _GradMode, _make, record, type_word

__all__ = ["rnn_layer", "layer_op", "MODES"]

MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _errstate(xp):
    """exp overflows harmlessly to inf in a saturated sigmoid; NumPy would warn."""
    import contextlib

    return xp.errstate(over="ignore") if hasattr(xp, "errstate") else contextlib.nullcontext()


def _work(xp, shape: tuple, dtype):
    """An uninitialised work array; on the CPU one an earlier layer call gave back (backends/cpu.py)."""
    return _cpu.work_array(shape, dtype) if xp is _cpu.xp else xp.empty(shape, dtype)


def _sigmoid_(xp, a) -> None:
    """a <- 1 / (1 + exp(-a)), in place."""
    xp.negative(a, out=a)
    xp.exp(a, out=a)
    a += 1
    xp.reciprocal(a, out=a)


def _recurrent(xp, w, h, buf):
    """h @ w.T for one step's state h (b, P), computed as (w @ h.T).T into `buf`: with the batch small,
    BLAS splits w's long dimension over its threads this way, and w needs no transposed copy."""
    out = buf[:w.shape[0] * h.shape[0]].reshape(w.shape[0], h.shape[0])
    return xp.matmul(w, h.T, out=out).T


def _recurrent_grad(xp, g, w, out, buf) -> None:
    """out[...] = g @ w for one step's gate gradients g (b, G*H) and w (G*H, P), formed as (w.T @ g.T).T in
    `buf` and copied: OpenBLAS runs that form ~15% faster at a small batch (20 x 1024 x 256: 75 vs 88 us)."""
    t = buf[:w.shape[1] * g.shape[0]].reshape(w.shape[1], g.shape[0])
    xp.matmul(w.T, g.T, out=t)
    out[...] = t.T


class _Steps:
    """The (offset, rows) of every time step of a packed batch, in processing order."""

    def __init__(self, batch_sizes: tuple, reverse: bool):
        offsets, s = [], 0
        for b in batch_sizes:
            offsets.append(s)
            s += b
        order = list(zip(offsets, batch_sizes))
        self.forward = order[::-1] if reverse else order
        self.backward = self.forward[::-1]


# ---- Elman RNN: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh) ------------------------------------------------
def _rnn_forward(xp, a, h, steps, w_hh, relu: bool, keep: bool):
    """a: (N, H) input projections, overwritten by the outputs; h: (B, H) state, updated in place."""
    hprev = xp.empty_like(a) if keep else None
    buf = xp.empty(a.shape[1] * h.shape[0], a.dtype)
    for s, b in steps.forward:
        hp = h[:b]
        if keep:
            hprev[s:s + b] = hp
        g = a[s:s + b]
        g += _recurrent(xp, w_hh, hp, buf)
        if relu:
            xp.maximum(g, 0, out=g)
        else:
            xp.tanh(g, out=g)
        h[:b] = g
    return a, {"hprev": hprev, "deriv": ((a > 0).astype(a.dtype) if relu else 1 - a * a) if keep else None}


def _rnn_backward(xp, saved, dout, dh, dc, steps, w_hh):
    """d(pre-activations) (N, H) for every step; dh (B, H) becomes d h0."""
    deriv = saved["deriv"]
    dg = xp.empty_like(deriv)
    buf = xp.empty(dh.size, dh.dtype)
    for s, b in steps.backward:
        dhs = dh[:b]
        if dout is not None:
            dhs += dout[s:s + b]
        g = dg[s:s + b]
        xp.multiply(dhs, deriv[s:s + b], out=g)
        _recurrent_grad(xp, g, w_hh, dhs, buf)
    return dg, dg  # the same gradient reaches the input and the recurrent projection


# ---- the gate arithmetic of one step ------------------------------------------------------------------------
class NumpyCells:
    """One step's gate arithmetic written with array calls: the readable reference, and the path on CuPy, for
    other dtypes, without numba or with GLASSTORCH_FUSED=0. backends/cpu_rnn.py has the same methods (same
    arguments, same operations in the same order, NumPy's exp/tanh), the rest compiled into loops.

    b is the step's batch rows, H the hidden size; the small scratch buffers stay in cache across steps."""

    def __init__(self, xp, dtype, batch: int, hidden: int, width: int):
        self.xp = xp
        self.deriv = xp.empty((batch, width), dtype)  # the activations' derivatives, (B, G*H)
        self.small = xp.empty((batch, hidden), dtype)

    def lstm_forward(self, g, r, c, tc, h1, h2) -> None:
        """g: (b, 4H) input projections, overwritten by the activations [i, f, g, o]; r: (b, 4H) the recurrent
        product h @ W_hh^T; c: (b, H) cell state, updated to f * c + i * g; tc gets tanh(c'); h1 and h2 (the
        output rows and the running state, or the same array twice) get o * tanh(c')."""
        xp, hid = self.xp, c.shape[1]
        gs, tg = slice(2 * hid, 3 * hid), self.small[:c.shape[0]]
        g += r
        xp.tanh(g[:, gs], out=tg)
        _sigmoid_(xp, g)  # all four gates at once (contiguous), then g's tanh put back
        g[:, gs] = tg
        c *= g[:, hid:2 * hid]
        c += g[:, :hid] * g[:, gs]
        xp.tanh(c, out=tc)
        xp.multiply(g[:, 3 * hid:], tc, out=h1)
        if h2 is not h1:
            h2[...] = h1

    def lstm_backward(self, dh, dout, act, tc, cprev, dc, dg) -> None:
        """dh: (b, H) d(o * tanh(c')), plus dout (b, H) unless None (dh may be overwritten); act: (b, 4H)
        the step's activations; tc: tanh(c'); cprev: c before the step; dc: (b, H) d c', becomes d c_prev;
        dg: (b, 4H) gets d(gate pre-activations). The derivatives s (1 - s) of the sigmoid gates and
        1 - g^2 are formed here, in a small buffer, rather than stored as (N, 4H) arrays."""
        xp, hid = self.xp, dc.shape[1]
        gs, d, dt = slice(2 * hid, 3 * hid), self.deriv[:dc.shape[0]], self.small[:dc.shape[0]]
        if dout is not None:
            dh += dout
        xp.multiply(tc, tc, out=dt)  # dc += dh * o * (1 - tanh(c)^2)
        xp.subtract(1, dt, out=dt)
        dt *= act[:, 3 * hid:]
        dt *= dh
        dc += dt
        xp.multiply(dc, act[:, gs], out=dg[:, :hid])  # d i = dc * g
        xp.multiply(dc, cprev, out=dg[:, hid:2 * hid])  # d f = dc * c_prev
        xp.multiply(dc, act[:, :hid], out=dg[:, gs])  # d g = dc * i
        xp.multiply(dh, tc, out=dg[:, 3 * hid:])  # d o = dh * tanh(c)
        xp.subtract(1, act, out=d)
        d *= act
        xp.multiply(act[:, gs], act[:, gs], out=d[:, gs])
        xp.subtract(1, d[:, gs], out=d[:, gs])
        dg *= d
        dc *= act[:, hid:2 * hid]

    def gru_forward(self, g, hh, bias, h, out, hhn) -> None:
        """g: (b, 3H) input projections (with b_ih), overwritten by the gates [r, z, n]; hh: (b, 3H) the
        recurrent product h @ W_hh^T (overwritten); bias: b_hh (3H,) or None; h: (b, H) state, updated;
        out: (b, H) gets h' = (1 - z) n + z h; hhn: (b, H) gets h W_hn^T + b_hn unless None."""
        xp, hid = self.xp, h.shape[1]
        if bias is not None:
            hh += bias
        rz = g[:, :2 * hid]
        rz += hh[:, :2 * hid]
        _sigmoid_(xp, rz)
        nn = g[:, 2 * hid:]
        if hhn is not None:
            hhn[...] = hh[:, 2 * hid:]
        nn += g[:, :hid] * hh[:, 2 * hid:]
        xp.tanh(nn, out=nn)
        xp.subtract(h, nn, out=out)  # h' = n + z (h - n)
        out *= g[:, hid:2 * hid]
        out += nn
        h[...] = out

    def gru_backward(self, dh, dout, act, hprev, hhn, dg, dgh, dhz) -> None:
        """dh: (b, H) d h', plus dout (b, H) unless None (dh may be overwritten); act: (b, 3H) [r, z, n];
        hprev: h before the step; hhn: h W_hn^T + b_hn; dg, dgh: (b, 3H) get d of the input projections and
        of the recurrent ones (the same for r and z, times r for n); dhz: (b, H) gets the gradient reaching
        h_prev through z * h, to which the caller adds dgh @ W_hh."""
        xp, hid = self.xp, dhz.shape[1]
        d = self.deriv[:dhz.shape[0]]
        if dout is not None:
            dh += dout
        rz, nn = act[:, :2 * hid], act[:, 2 * hid:]
        xp.subtract(1, rz, out=d[:, :2 * hid])  # s (1 - s) for r and z
        d[:, :2 * hid] *= rz
        xp.multiply(nn, nn, out=d[:, 2 * hid:])  # 1 - n^2 for n
        xp.subtract(1, d[:, 2 * hid:], out=d[:, 2 * hid:])
        xp.multiply(dh, act[:, hid:2 * hid], out=dhz)  # the path h -> z * h
        dn = dg[:, 2 * hid:]
        xp.subtract(dh, dhz, out=dn)  # dh * (1 - z)
        dn *= d[:, 2 * hid:]
        dz = dg[:, hid:2 * hid]
        xp.subtract(hprev, nn, out=dz)  # d z = dh * (h - n)
        dz *= dh
        xp.multiply(dn, hhn, out=dg[:, :hid])  # d r = dn * (h W_hn + b_hn)
        dg[:, :2 * hid] *= d[:, :2 * hid]
        dgh[:, :2 * hid] = dg[:, :2 * hid]
        xp.multiply(dn, act[:, :hid], out=dgh[:, 2 * hid:])


def _cells(xp, a, batch: int, hidden: int):
    """The compiled step kernels for the gate array `a` (N, G*H) where they apply, else the NumPy reference."""
    return cpu_rnn.cells(a, batch, hidden) or NumpyCells(xp, a.dtype, batch, hidden, a.shape[1])


# ---- LSTM ---------------------------------------------------------------------------------------------------
def _lstm_forward(xp, a, h, c, steps, w_hh, w_hr, keep: bool):
    """a: (N, 4H) input projections, overwritten by the gate activations [i, f, g, o];
    h: (B, P) and c: (B, H) states, updated in place. Returns the (N, P) outputs."""
    hid = c.shape[1]
    n, batch = a.shape[0], h.shape[0]
    cells = _cells(xp, a, batch, hid)
    out = xp.empty((n, h.shape[1]), a.dtype)
    tc_all = _work(xp, (n, hid), a.dtype)  # tanh(c) of every step
    hprev = cprev = hu_all = None
    if keep:
        hprev, cprev = _work(xp, out.shape, a.dtype), _work(xp, (n, hid), a.dtype)
    if w_hr is not None:  # h before the projection: every step's when kept for backward, else one step's
        hu_all = xp.empty((n if keep else batch, hid), a.dtype)
    r_t = w_hr.T if w_hr is not None else None
    buf = xp.empty(a.shape[1] * batch, a.dtype)  # h @ W_hh^T of one step
    for s, b in steps.forward:
        hp, cp = h[:b], c[:b]
        if keep:
            hprev[s:s + b] = hp
            cprev[s:s + b] = cp
        r = _recurrent(xp, w_hh, hp, buf)
        if r_t is None:
            cells.lstm_forward(a[s:s + b], r, cp, tc_all[s:s + b], out[s:s + b], hp)
        else:
            hu = hu_all[s:s + b] if keep else hu_all[:b]
            cells.lstm_forward(a[s:s + b], r, cp, tc_all[s:s + b], hu, hu)
            hn = out[s:s + b]
            xp.matmul(hu, r_t, out=hn)
            hp[...] = hn
    if not keep:
        return out, None
    return out, {"hprev": hprev, "cprev": cprev, "tc": tc_all, "hu": hu_all, "gates": a}


def _lstm_backward(xp, saved, dout, dh, dc, steps, w_hh, w_hr):
    """d(gate pre-activations) (N, 4H), and for a projection d h (N, P); dh, dc become d h0, d c0."""
    a, tc_all, cprev = saved["gates"], saved["tc"], saved["cprev"]
    cells = _cells(xp, a, dc.shape[0], dc.shape[1])
    dg = _work(xp, a.shape, a.dtype)
    dh_all = xp.empty((a.shape[0], dh.shape[1]), a.dtype) if w_hr is not None else None
    buf = xp.empty(dh.size, dh.dtype)
    for s, b in steps.backward:
        dhs, dcs = dh[:b], dc[:b]
        douts = None if dout is None else dout[s:s + b]
        if w_hr is not None:  # through the projection first: d hu = dh @ W_hr
            if douts is not None:
                dhs += douts
            dh_all[s:s + b] = dhs
            dhs, douts = dhs @ w_hr, None
        g = dg[s:s + b]
        cells.lstm_backward(dhs, douts, a[s:s + b], tc_all[s:s + b], cprev[s:s + b], dcs, g)
        _recurrent_grad(xp, g, w_hh, dh[:b], buf)
    return dg, dg, dh_all


# ---- GRU ----------------------------------------------------------------------------------------------------
def _gru_forward(xp, a, h, steps, w_hh, b_hh, keep: bool):
    """a: (N, 3H) input projections (with b_ih), overwritten by the gates [r, z, n]; h: (B, H) state."""
    hid = h.shape[1]
    cells = _cells(xp, a, h.shape[0], hid)
    out = xp.empty((a.shape[0], hid), a.dtype)
    hprev = xp.empty_like(out) if keep else None
    hhn = xp.empty_like(out) if keep else None  # h W_hn^T + b_hn, which r multiplies
    buf = xp.empty(a.shape[1] * h.shape[0], a.dtype)
    for s, b in steps.forward:
        hp = h[:b]
        if keep:
            hprev[s:s + b] = hp
        hh = _recurrent(xp, w_hh, hp, buf)
        cells.gru_forward(a[s:s + b], hh, b_hh, hp, out[s:s + b], hhn[s:s + b] if keep else None)
    return out, {"hprev": hprev, "hhn": hhn, "gates": a}


def _gru_backward(xp, saved, dout, dh, dc, steps, w_hh):
    """(d input projections, d recurrent projections), each (N, 3H); dh becomes d h0."""
    a, hprev, hhn = saved["gates"], saved["hprev"], saved["hhn"]
    cells = _cells(xp, a, dh.shape[0], dh.shape[1])
    dg = xp.empty_like(a)  # d of x W_ih^T + b_ih
    dgh = xp.empty_like(a)  # d of h W_hh^T + b_hh: the same for r and z, times r for n
    dhz = xp.empty_like(dh)
    buf = xp.empty(dh.size, dh.dtype)
    for s, b in steps.backward:
        dhs = dh[:b]
        gh = dgh[s:s + b]
        cells.gru_backward(dhs, None if dout is None else dout[s:s + b], a[s:s + b], hprev[s:s + b], hhn[s:s + b],
                           dg[s:s + b], gh, dhz[:b])
        _recurrent_grad(xp, gh, w_hh, dhs, buf)
        dhs += dhz[:b]
    return dg, dgh


# ---- the op -------------------------------------------------------------------------------------------------
def _arr(t):
    return None if t is None else t._data


def _rows(a):
    """An (N, features) view of a packed (N, F) or padded (T, B, F) array."""
    return a if a.ndim == 2 else a.reshape(-1, a.shape[-1])


def rnn_layer(mode: str, x: Tensor, batch_sizes: tuple, h0: Tensor | None, c0: Tensor | None, w_ih: Tensor,
              w_hh: Tensor, b_ih: Tensor | None = None, b_hh: Tensor | None = None, w_hr: Tensor | None = None,
              reverse: bool = False):
    """One layer, one direction, over a packed sequence.

    x: (N, I) packed input, or (T, B, I) padded (then batch_sizes is (B,) * T); batch_sizes: rows per step
    (summing to N); h0: (B, P) or None (zeros); c0: (B, H) or None (LSTM only); w_ih (G*H, I),
    w_hh (G*H, P), biases (G*H,), w_hr (P, H) (LSTM projection).
    Returns (output (N, P) or (T, B, P), h_n (B, P), c_n (B, H) or None).
    """
    if not batch_sizes:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    for state in (h0, c0):
        if state is not None and state._data.dtype != w_hh._data.dtype:
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {type_word(state._data.dtype)} "
                               f"and {type_word(w_hh._data.dtype)}")
    if x.dtype in (_dtype.bfloat16, _dtype.float16):
        return _layer_in_float32(mode, x, batch_sizes, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse=reverse)
    xp = x.device.xp
    xd, wih, whh = _rows(x._data), w_ih._data, w_hh._data
    dt = xd.dtype
    batch = batch_sizes[0]
    hid = whh.shape[0] // _GATES[mode]
    p = whh.shape[1]
    steps = _Steps(batch_sizes, reverse)
    inputs = (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)
    keep = _GradMode.enabled and any(t is not None and t._requires_grad for t in inputs)
    # every step's input projection at once
    a = xp.matmul(xd, wih.T, out=_work(xp, (xd.shape[0], wih.shape[0]), dt)) if wih.dtype == dt else xd @ wih.T
    if b_ih is not None:  # b_ih + b_hh summed first: one pass over the (N, G*H) array instead of two
        # the GRU's b_hn sits inside r * (...): added per step
        a += b_ih._data if mode == "GRU" else b_ih._data + b_hh._data
    h = xp.zeros((batch, p), dt) if h0 is None else h0._data.astype(dt, copy=True)
    c = None
    with _errstate(xp):
        if mode == "LSTM":
            c = xp.zeros((batch, hid), dt) if c0 is None else c0._data.astype(dt, copy=True)
            out, saved = _lstm_forward(xp, a, h, c, steps, whh, _arr(w_hr), keep)
        elif mode == "GRU":
            out, saved = _gru_forward(xp, a, h, steps, whh, _arr(b_hh), keep)
        else:
            out, saved = _rnn_forward(xp, a, h, steps, whh, mode == "RNN_RELU", keep)
    dev = x.device
    out = out.reshape(x._data.shape[:-1] + out.shape[-1:])
    outs = (_make(out, dev), _make(h, dev), None if c is None else _make(c, dev))
    if keep:
        node = _NODES[mode](inputs, saved, batch_sizes, reverse)
        for nr, t in enumerate(outs):
            if t is not None:
                record(t, node)
                if nr:
                    t._output_nr = nr
    else:
        work = {"gates": a}
        del a
        _cpu.give_back(work)  # for the next call (see backends/cpu.py)
    return outs


def _layer_in_float32(mode: str, x: Tensor, batch_sizes: tuple, *args, reverse: bool):
    """rnn_layer on 16-bit tensors: the layer runs in float32 and its results are rounded once, the rule of
    glasstorch's half-precision matrix products (NumPy's bfloat16 matmul returns float32, and the step
    kernels take float32/float64 only). The casts are recorded ops, so gradients reach the 16-bit inputs
    in their own dtype."""
    up = tuple(None if t is None else t.float() for t in args)
    outs = rnn_layer(mode, x.float(), batch_sizes, *up, reverse=reverse)
    return tuple(None if t is None else t.to(x.dtype) for t in outs)


# The layer as autocast sees it, under PyTorch's op names. PyTorch 2.13's CPU autocast lists `lstm` for padded
# input (its packed overload `lstm.data` is not listed: float32 results); rnn_tanh/rnn_relu are not listed,
# but they decompose into linear, which is, so every result is low precision: the lower policy's effect.
# `gru` is in no list and its cell adds the float32 state, so GRU results stay float32. Of the cells, RNNCell
# comes out low precision, LSTMCell and GRUCell float32 (live torch 2.13 CPU; tests/test_amp.py checks).
_LSTM_PADDED = autocast_op("lstm")(rnn_layer)
_HOOKED = {"RNN_TANH": autocast_op("rnn_tanh")(rnn_layer), "RNN_RELU": autocast_op("rnn_relu")(rnn_layer)}
_HOOKED_CELL = {"RNN_TANH": autocast_op("rnn_tanh_cell")(rnn_layer),
                "RNN_RELU": autocast_op("rnn_relu_cell")(rnn_layer)}


def layer_op(mode: str, packed: bool = False, cell: bool = False):
    """rnn_layer, hooked for autocast as PyTorch's op for `mode` (packed input, a single-step cell) is."""
    if cell:
        return _HOOKED_CELL.get(mode, rnn_layer)
    if mode == "LSTM":
        return rnn_layer if packed else _LSTM_PADDED
    return _HOOKED.get(mode, rnn_layer)


class _RnnLayerBackward(Node):
    """The node of one rnn_layer call. Three outputs: output (0), h_n (1), c_n (2, LSTM).

    Inputs (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr); the gradients of h_n and c_n arrive through
    `_add_output_grad`, the output's as backward's argument (any of them may be missing)."""

    mode = ""
    _out_hooks = None  # {output_nr: {id: hook}} for h_n and c_n

    def __init__(self, inputs, saved: dict, batch_sizes: tuple, reverse: bool):
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = inputs
        super().__init__(inputs, (x, w_ih, w_hh, w_hr))
        self.arrays = saved
        # initial states that record no graph (created inside a model), for torch.onnx.export
        self.constant_states = tuple(None if s is None or s._requires_grad else s._data for s in (h0, c0))
        self.batch_sizes, self.reverse = batch_sizes, reverse

    def _release_extra(self) -> None:
        arrays, self.arrays = self.arrays, None
        if arrays:  # the saved work arrays serve the next call (each kept only if nothing else holds it)
            _cpu.give_back(arrays)

    def _add_output_grad(self, nr: int, g) -> None:
        slots = self._out_grads
        if slots is None:
            slots = self._out_grads = [None, None, None]
        slots[nr] = g if slots[nr] is None else slots[nr] + g

    def _output_hook_table(self, nr: int) -> dict:
        """The hooks registered on output nr's gradient (h_n.register_hook, c_n.retain_grad)."""
        if self._out_hooks is None:
            self._out_hooks = {}
        return self._out_hooks.setdefault(nr, {})

    def _output_grads(self, g) -> list:
        """[d output, d h_n, d c_n] (None where no gradient arrived), after their tensors' hooks."""
        slots, self._out_grads = self._out_grads, None
        grads = [g] + (slots[1:] if slots is not None else [None, None])
        for nr, hooks in (self._out_hooks or {}).items():
            for hook in list(hooks.values()):
                if grads[nr] is not None:
                    res = hook(grads[nr])
                    grads[nr] = grads[nr] if res is None else res
        return grads

    def backward(self, g):
        x, w_ih, w_hh, w_hr = self.saved_tensors
        slots = self._output_grads(g)
        g = slots[0]
        xp = x.device.xp
        xd, whh = _rows(x._data), w_hh._data
        dt = xd.dtype
        batch = self.batch_sizes[0]
        hid = whh.shape[0] // _GATES[self.mode]
        # contiguous rows (a broadcast gradient is copied once), so per-step slices are plain row blocks
        dout = None if g is None else xp.ascontiguousarray(_rows(g._data))
        dh = xp.zeros((batch, whh.shape[1]), dt) if slots[1] is None else slots[1]._data.astype(dt, copy=True)
        dc = None
        steps = _Steps(self.batch_sizes, self.reverse)
        if self.mode == "LSTM":
            dc = xp.zeros((batch, hid), dt) if slots[2] is None else slots[2]._data.astype(dt, copy=True)
            dgx, dgh, dh_all = _lstm_backward(xp, self.arrays, dout, dh, dc, steps, whh, _arr(w_hr))
        elif self.mode == "GRU":
            (dgx, dgh), dh_all = _gru_backward(xp, self.arrays, dout, dh, dc, steps, whh), None
        else:
            (dgx, dgh), dh_all = _rnn_backward(xp, self.arrays, dout, dh, dc, steps, whh), None
        need = [e[0] is not None for e in self.next_functions]
        db_x = dgx.sum(0) if need[5] or need[6] else None
        db_h = (db_x.copy() if dgh is dgx else dgh.sum(0)) if need[6] else None  # LSTM, RNN: the same sum
        grads = [
            (dgx @ w_ih._data).reshape(x._data.shape) if need[0] else None,
            dh if need[1] else None,
            dc if need[2] else None,
            dgx.T @ xd if need[3] else None,
            dgh.T @ self.arrays["hprev"] if need[4] else None,
            db_x if need[5] else None,
            db_h,
            dh_all.T @ self.arrays["hu"] if need[7] else None,
        ]
        dev = x.device
        out = tuple(None if a is None else _make(a, dev) for a in grads)
        work = {"d gates": dgx, "d recurrent gates": dgh, "d projected": dh_all}
        del dgx, dgh, dh_all, grads
        _cpu.give_back(work)  # for the next call (see backends/cpu.py)
        if _GradMode.enabled:  # create_graph: these gradients are not themselves differentiable
            from ..autograd.function import DelayedError

            depends = [t for t in (g, slots[1], slots[2], x, w_ih, w_hh, w_hr) if t is not None and t._requires_grad]
            if depends:
                msg = f"the derivative of {self.name()} is not implemented (no double backward through RNN layers)"
                out = tuple(None if t is None else record(t, DelayedError(depends, msg)) for t in out)
        return out


class MkldnnRnnLayerBackward0(_RnnLayerBackward):
    """An LSTM layer (PyTorch's CPU LSTM records one node of this name per layer and direction)."""

    mode = "LSTM"


class GruLayerBackward0(_RnnLayerBackward):
    """A GRU layer (PyTorch composes it from small ops; glasstorch records this one node)."""

    mode = "GRU"


class RnnTanhLayerBackward0(_RnnLayerBackward):
    mode = "RNN_TANH"


class RnnReluLayerBackward0(_RnnLayerBackward):
    mode = "RNN_RELU"


_NODES = {"LSTM": MkldnnRnnLayerBackward0, "GRU": GruLayerBackward0, "RNN_TANH": RnnTanhLayerBackward0,
          "RNN_RELU": RnnReluLayerBackward0}
