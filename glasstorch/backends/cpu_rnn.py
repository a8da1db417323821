"""Compiled per-step gate arithmetic for the LSTM and GRU layers on CPU (NumPy) arrays: the optional extra `fast`.

One recurrent step of `_ops/rnn.py` is a matrix product (left to BLAS) and then the gate arithmetic: for an
LSTM four activations, the cell update and tanh(c) forward, and about twenty products and differences
backward. Written with NumPy calls (the reference, `_ops/rnn.py::NumpyCells`) that is 13 passes over small
(batch, 4H) arrays per step forward and 17 backward, each paying a call and a trip through memory. Here the
arithmetic between the nonlinearities is a loop over the (batch, hidden) elements compiled by numba, which
reads every input once and writes every result once: backward is one loop per step, forward two or three
around NumPy's exp and tanh. Those stay NumPy's: its SIMD exp/tanh are several times faster than the scalar
libm calls a numba loop makes (measured: the whole LSTM step 5x slower with exp and tanh inside the loop).

The arithmetic is the reference's operation by operation and in its order, in the arrays' own precision,
with no reassociation or contraction into fused multiply-adds, and the exp/tanh are the same NumPy calls on
the same values: the two paths give the same numbers bit for bit (tests/test_rnn_fused.py checks).

This module imports numba only on first use (cpu_fused.py is the other one). Without numba, or with
GLASSTORCH_FUSED=0, `cells()` returns None and the layers run the NumPy reference.
"""
from __future__ import annotations

import os

import numpy as np

from . import cpu_fused

ENABLED = os.environ.get("GLASSTORCH_FUSED", "1") != "0"  # tests flip this to compare both paths
_compiled = None  # name -> compiled function, filled by _compile(); False when numba is unavailable


# ---- the element loops (plain Python; numba compiles them) -----------------------------------------
# `one` arrives in the arrays' dtype, so float32 arithmetic stays in float32 (a Python 1 would promote it).
# Gate layout as PyTorch's: LSTM [i, f, g, o], GRU [r, z, n], each H columns wide. A sigmoid is the
# reference's 1 / (exp(-x) + 1) with exp(-x) from NumPy in between two loops.

def _lstm_pre(g, r, e, tg):
    """x = g + r (input + recurrent projections, (b, 4H)); e (b, 3H) gets -x of the sigmoid gates [i, f, o]
    (for exp), tg (b, H) gets x of the g gate (for tanh)."""
    b, hid = tg.shape
    for k in range(b):
        # one 1-D view per gate: plain unit-stride loops, which the compiler vectorises (2-3x faster
        # than indexing the 2-D arrays at computed columns)
        gi, gf, gg, go = g[k, :hid], g[k, hid:2 * hid], g[k, 2 * hid:3 * hid], g[k, 3 * hid:]
        ri, rf, rg, ro = r[k, :hid], r[k, hid:2 * hid], r[k, 2 * hid:3 * hid], r[k, 3 * hid:]
        ei, ef, eo, tk = e[k, :hid], e[k, hid:2 * hid], e[k, 2 * hid:], tg[k]
        for j in range(hid):
            ei[j] = -(gi[j] + ri[j])
            ef[j] = -(gf[j] + rf[j])
            tk[j] = gg[j] + rg[j]
            eo[j] = -(go[j] + ro[j])


def _lstm_cell(g, e, tg, c, one):
    """e: exp(-x) of [i, f, o], tg: tanh of the g gate; g (b, 4H) gets the activations [i, f, g, o];
    c (b, H) becomes f * c + i * g."""
    b, hid = c.shape
    for k in range(b):
        i_, f_, g_, o_ = g[k, :hid], g[k, hid:2 * hid], g[k, 2 * hid:3 * hid], g[k, 3 * hid:]
        ei, ef, eo, tk, ck = e[k, :hid], e[k, hid:2 * hid], e[k, 2 * hid:], tg[k], c[k]
        for j in range(hid):
            ig = one / (ei[j] + one)
            fg = one / (ef[j] + one)
            gg = tk[j]
            i_[j], f_[j], g_[j], o_[j] = ig, fg, gg, one / (eo[j] + one)
            ck[j] = ck[j] * fg + ig * gg


def _lstm_backward(dh, dout, has_dout, act, tc, cprev, dc, dg, one):
    """One LSTM step backward. dh: (b, H) d(o * tanh(c)) (plus dout's rows when has_dout); act: (b, 4H)
    the step's activations; tc: tanh(c'); cprev: c before the step; dc: (b, H) d c', becomes d c_prev;
    dg: (b, 4H) gets d(gate pre-activations)."""
    b, hid = dc.shape
    for k in range(b):
        i_, f_, g_, o_ = act[k, :hid], act[k, hid:2 * hid], act[k, 2 * hid:3 * hid], act[k, 3 * hid:]
        di, df, dgg, do = dg[k, :hid], dg[k, hid:2 * hid], dg[k, 2 * hid:3 * hid], dg[k, 3 * hid:]
        dhk, dok, tk, cpk, dck = dh[k], dout[k], tc[k], cprev[k], dc[k]
        for j in range(hid):
            d = dhk[j] + dok[j] if has_dout else dhk[j]
            ig, fg, gg, og, t = i_[j], f_[j], g_[j], o_[j], tk[j]
            dcs = dck[j] + (one - t * t) * og * d
            di[j] = dcs * gg * ((one - ig) * ig)
            df[j] = dcs * cpk[j] * ((one - fg) * fg)
            dgg[j] = dcs * ig * (one - gg * gg)
            do[j] = d * t * ((one - og) * og)
            dck[j] = dcs * fg


def _gru_pre(g, hh, bias, has_bias, e, hhn):
    """hh (b, 3H) = h @ W_hh^T, plus b_hh when has_bias; e (b, 2H) gets -(g + hh) of [r, z] (for exp),
    hhn (b, H) gets hh of n (which r multiplies)."""
    b, hid = hhn.shape
    for k in range(b):
        gk, hk, ek, nk = g[k], hh[k], e[k], hhn[k]
        for j in range(hid):
            hr, hz, hn = hk[j], hk[hid + j], hk[2 * hid + j]
            if has_bias:
                hr, hz, hn = hr + bias[j], hz + bias[hid + j], hn + bias[2 * hid + j]
            ek[j] = -(gk[j] + hr)
            ek[hid + j] = -(gk[hid + j] + hz)
            nk[j] = hn


def _gru_gates(g, e, hhn, one):
    """e: exp(-x) of [r, z]; g (b, 3H) gets r and z, and n's pre-activation g_n + r * hhn (for tanh)."""
    b, hid = hhn.shape
    for k in range(b):
        r_, z_, n_ = g[k, :hid], g[k, hid:2 * hid], g[k, 2 * hid:]
        er, ez, nk = e[k, :hid], e[k, hid:], hhn[k]
        for j in range(hid):
            rg = one / (er[j] + one)
            r_[j] = rg
            z_[j] = one / (ez[j] + one)
            n_[j] = n_[j] + rg * nk[j]


def _gru_update(g, h, out):
    """h' = (h - n) z + n, written to the output rows and the state h (b, H)."""
    b, hid = h.shape
    for k in range(b):
        z_, n_, hk, ok = g[k, hid:2 * hid], g[k, 2 * hid:], h[k], out[k]
        for j in range(hid):
            hn = (hk[j] - n_[j]) * z_[j] + n_[j]
            ok[j] = hn
            hk[j] = hn


def _gru_backward(dh, dout, has_dout, act, hprev, hhn, dg, dgh, dhz, one):
    """One GRU step backward. dh: (b, H) d h' (plus dout's rows when has_dout); act: (b, 3H) [r, z, n];
    hprev: h before the step; hhn: h W_hn^T + b_hn; dg, dgh: (b, 3H) get d of the input and recurrent
    projections; dhz: (b, H) gets the gradient reaching h_prev through z * h (the caller adds dgh @ W_hh)."""
    b, hid = dhz.shape
    for k in range(b):
        r_, z_, n_ = act[k, :hid], act[k, hid:2 * hid], act[k, 2 * hid:]
        dr_, dz_, dn_ = dg[k, :hid], dg[k, hid:2 * hid], dg[k, 2 * hid:]
        hr_, hz_, hn_ = dgh[k, :hid], dgh[k, hid:2 * hid], dgh[k, 2 * hid:]
        dhk, dok, hpk, nk, zk = dh[k], dout[k], hprev[k], hhn[k], dhz[k]
        for j in range(hid):
            d = dhk[j] + dok[j] if has_dout else dhk[j]
            rg, zg, ng = r_[j], z_[j], n_[j]
            z_part = d * zg
            dn = (d - z_part) * (one - ng * ng)
            dr = dn * nk[j] * ((one - rg) * rg)
            dz = (hpk[j] - ng) * d * ((one - zg) * zg)
            dr_[j], dz_[j], dn_[j] = dr, dz, dn
            hr_[j], hz_[j], hn_[j] = dr, dz, dn * rg
            zk[j] = z_part


# ---- compilation and the interface ----------------------------------------------------------------

_LOOPS = (_lstm_pre, _lstm_cell, _lstm_backward, _gru_pre, _gru_gates, _gru_update, _gru_backward)


def _compile():
    """Wrap the loops with numba on first use (each compiles at its first call per dtype and layout, cached
    on disk by numba across processes); False if numba is missing."""
    global _compiled
    numba = cpu_fused.load_numba()
    if numba is None:
        _compiled = False
        return _compiled
    # Serial loops: a step is ~20k elements, where waking a second thread costs more than it saves and
    # would take the core BLAS needs for the next product.
    _compiled = {loop.__name__[1:]: numba.njit(**cpu_fused.NUMBA_OPTIONS)(loop) for loop in _LOOPS}
    return _compiled


def available() -> bool:
    """Whether the compiled kernels are in use: numba importable and GLASSTORCH_FUSED is not 0."""
    if not ENABLED:
        return False
    return bool(_compiled if _compiled is not None else cpu_fused.compile_once(_compile, lambda: _compiled))


class Cells:
    """One layer's step arithmetic, compiled: the methods and arguments of the NumPy reference
    `_ops/rnn.py::NumpyCells` (whose docstrings give the shapes), and its numbers."""

    def __init__(self, dtype, batch: int, hidden: int, gates: int):
        self.one = dtype.type(1)
        self.e = np.empty((batch, (gates - 1) * hidden), dtype)  # exp(-x) of the sigmoid gates
        self.t = np.empty((batch, hidden), dtype)  # LSTM: tanh of the g gate; GRU: h W_hn^T + b_hn

    def lstm_forward(self, g, r, c, tc, h1, h2) -> None:
        b, hid = c.shape
        e, tg = self.e[:b], self.t[:b]
        k = _compiled
        k["lstm_pre"](g, r, e, tg)
        np.exp(e, out=e)
        np.tanh(tg, out=tg)
        k["lstm_cell"](g, e, tg, c, self.one)
        np.tanh(c, out=tc)
        np.multiply(g[:, 3 * hid:], tc, out=h1)
        if h2 is not h1:
            h2[...] = h1

    def lstm_backward(self, dh, dout, act, tc, cprev, dc, dg) -> None:
        _compiled["lstm_backward"](dh, dh if dout is None else dout, dout is not None, act, tc, cprev, dc, dg,
                                   self.one)

    def gru_forward(self, g, hh, bias, h, out, hhn) -> None:
        b, hid = h.shape
        e, hn = self.e[:b], self.t[:b] if hhn is None else hhn
        k = _compiled
        k["gru_pre"](g, hh, g[0] if bias is None else bias, bias is not None, e, hn)
        np.exp(e, out=e)
        k["gru_gates"](g, e, hn, self.one)
        nn = g[:, 2 * hid:]
        np.tanh(nn, out=nn)
        k["gru_update"](g, h, out)

    def gru_backward(self, dh, dout, act, hprev, hhn, dg, dgh, dhz) -> None:
        _compiled["gru_backward"](dh, dh if dout is None else dout, dout is not None, act, hprev, hhn, dg, dgh,
                                  dhz, self.one)


def cells(a, batch: int, hidden: int) -> Cells | None:
    """The compiled step arithmetic for a layer whose gate array is `a` (N, G*H), or None when the NumPy
    reference must run (switched off, numba missing, not a NumPy array, not float32/float64)."""
    if type(a) is not np.ndarray or a.dtype not in (np.float32, np.float64) or not available():
        return None
    return Cells(a.dtype, batch, hidden, a.shape[1] // hidden)
