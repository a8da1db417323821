"""Recurrent layers: RNN, LSTM, GRU over whole sequences, and their one-step cells.

Every layer and direction runs as one fused op (`_ops/rnn.py::rnn_layer`) on the packed layout; a padded
(T, B, *) input is the packed case with B rows at every step. Parameters, their names, shapes and
initialisation, and the checks on inputs and states are PyTorch's.
"""
from __future__ import annotations

import math
import numbers
import warnings

from ..._ops._util import type_word
from ..._ops.creation import empty
from ..._ops.rnn import layer_op
from ..._ops.shape import cat, stack
from ..._tensor import Tensor
from .. import functional as F, init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    """What RNN, LSTM and GRU share: parameters weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}
    (and weight_hr_l{k} for a projected LSTM), '_reverse' for the second direction, and the stacked run."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          stacklevel=2)
        for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                                  ("input_size", input_size, int), ("hidden_size", hidden_size, int)):
            if not isinstance(value, kind):
                raise TypeError(f"{name} should be of type {kind.__name__}, got: {type(value).__name__}")
            if kind is int and value <= 0:
                raise ValueError(f"{name} must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                names = []
                for kind, shape in shapes:
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, Parameter(empty(shape, device=device, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """PyTorch packs the weights into one buffer for cuDNN; nothing to do here."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters per layer and direction: [[w_ih, w_hh, b_ih, b_hh(, w_hr)], ...]."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ---- checks (PyTorch's messages) ------------------------------------------------------------------------
    def check_input(self, input: Tensor, batch_sizes) -> None:
        weight = self._flat_weights[0]
        if input.dtype != weight.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). "
                             f"Convert input: input.to({weight.dtype}), or convert model: model.to({input.dtype})")
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.size(-1)}")

    def get_expected_hidden_size(self, input: Tensor, batch_sizes) -> tuple[int, int, int]:
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * directions, mini_batch, size)

    def check_hidden_size(self, hx: Tensor, expected_hidden_size: tuple,
                          msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input: Tensor, hidden: Tensor, batch_sizes) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        """The batch entries (dim 1) of a state reordered by `permutation` (a packed batch's sort order)."""
        if permutation is None or hx is None:
            return hx
        return hx.index_select(1, permutation)

    # ---- the run ------------------------------------------------------------------------------------------
    def _run(self, x: Tensor, batch_sizes: tuple, hx: Tensor | None, cx: Tensor | None, packed: bool = False):
        """All layers and directions over x, packed (N, input_size) or padded (T, B, input_size):
        (output (N or (T, B), D * P), h_n, c_n or None).

        hx (L * D, B, P) and cx (L * D, B, H) may be None (zeros)."""
        directions = 2 if self.bidirectional else 1
        names = self._all_weights
        layer_input = x
        run_layer = layer_op(self.mode, packed)
        hs, cs = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(directions):
                k = layer * directions + d
                w = [getattr(self, n) for n in names[k]]
                w_ih, w_hh = w[0], w[1]
                b_ih, b_hh = (w[2], w[3]) if self.bias else (None, None)
                w_hr = w[-1] if self.proj_size > 0 else None
                out, h_n, c_n = run_layer(self.mode, layer_input, batch_sizes, None if hx is None else hx[k],
                                          None if cx is None else cx[k], w_ih, w_hh, b_ih, b_hh, w_hr,
                                          reverse=d == 1)
                outs.append(out)
                hs.append(h_n)
                cs.append(c_n)
            layer_input = outs[0] if directions == 1 else cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        return layer_input, stack(hs, 0), (stack(cs, 0) if self.mode == "LSTM" else None)

    def _unpack(self, input):
        """(data, batch sizes (None unless packed), sorted_indices, unsorted_indices, whether batched)."""
        if isinstance(input, PackedSequence):
            bs = tuple(int(b) for b in input.batch_sizes.tolist())
            return input.data, bs, input.sorted_indices, input.unsorted_indices, True
        if input.dim() not in (2, 3):
            what = "tensor instead" if self.mode.startswith("RNN") else "instead"
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D {what}")
        return input, None, None, None, input.dim() == 3

    def _forward(self, input, hx, cx):
        """The shared forward of RNN and GRU (cx None) and LSTM, for padded and packed inputs."""
        data, batch_sizes, sorted_idx, unsorted_idx, is_batched = self._unpack(input)
        packed = batch_sizes is not None
        if packed:
            hx, cx = self.permute_hidden(hx, sorted_idx), self.permute_hidden(cx, sorted_idx)
            self._check_states(data, batch_sizes, hx, cx)
            out, h_n, c_n = self._run(data, batch_sizes, hx, cx, packed=True)
            result = PackedSequence(out, input.batch_sizes, sorted_idx, unsorted_idx)
            h_n = self.permute_hidden(h_n, unsorted_idx)
            c_n = None if c_n is None else self.permute_hidden(c_n, unsorted_idx)
            return result, h_n, c_n
        batch_dim = 0 if self.batch_first else 1
        if not is_batched:
            data = data.unsqueeze(batch_dim)
        self._check_states(data, None, hx, cx)
        if self.batch_first:
            data = data.transpose(0, 1)
        steps, batch = data.shape[0], data.shape[1]
        out, h_n, c_n = self._run(data, (batch,) * steps, hx, cx)  # padded: B rows at every step
        if self.batch_first:
            out = out.transpose(0, 1)
        if not is_batched:
            out = out.squeeze(batch_dim)
            h_n = h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        return out, h_n, c_n

    def _check_states(self, data, batch_sizes, hx, cx) -> None:
        if hx is None:
            self.check_input(data, batch_sizes)
        else:
            self.check_forward_args(data, hx, batch_sizes)

    def _single_state(self, input, hx):
        """RNN's and GRU's checks of hx's rank; an unbatched hx gets its batch dim."""
        if isinstance(input, PackedSequence) or hx is None:
            return hx
        if input.dim() == 2:
            if hx.dim() != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
            return hx.unsqueeze(1)
        if input.dim() == 3 and hx.dim() != 3:
            raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
        return hx

    def forward(self, input, hx: Tensor | None = None):
        if not isinstance(input, PackedSequence) and input.dim() not in (2, 3):
            self._unpack(input)  # raises PyTorch's error
        out, h_n, _ = self._forward(input, self._single_state(input, hx), None)
        return out, h_n


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.

    input (T, B, input_size) (or (B, T, ...) with batch_first, (T, input_size) unbatched, or a PackedSequence);
    returns (output (T, B, D * hidden_size), h_n (num_layers * D, B, hidden_size))."""

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.__dict__["nonlinearity"] = args[3]
            args = args[:3] + args[4:]
        else:
            self.__dict__["nonlinearity"] = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory, gates [i, f, g, o]; with proj_size > 0, h_t = (o * tanh(c_t)) W_hr^T.

    Returns (output (T, B, D * P), (h_n (L * D, B, P), c_n (L * D, B, hidden_size))), P = proj_size or
    hidden_size."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input: Tensor, batch_sizes) -> tuple[int, int, int]:
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        directions = 2 if self.bidirectional else 1
        return (self.num_layers * directions, mini_batch, self.hidden_size)

    def check_forward_args(self, input: Tensor, hidden, batch_sizes) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def _check_states(self, data, batch_sizes, hx, cx) -> None:
        if hx is None:
            self.check_input(data, batch_sizes)
        else:
            self.check_forward_args(data, (hx, cx), batch_sizes)

    def forward(self, input, hx: tuple[Tensor, Tensor] | None = None):
        if isinstance(input, PackedSequence) or hx is None:
            h0, c0 = (None, None) if hx is None else hx
        else:
            if input.dim() not in (2, 3):
                self._unpack(input)  # raises PyTorch's error
            h0, c0 = hx
            if input.dim() == 3:
                if h0.dim() != 3 or c0.dim() != 3:
                    raise RuntimeError("For batched 3-D input, hx and cx should also be 3-D but got "
                                       f"({h0.dim()}-D, {c0.dim()}-D) tensors")
            else:
                if h0.dim() != 2 or c0.dim() != 2:
                    raise RuntimeError("For unbatched 2-D input, hx and cx should also be 2-D but got "
                                       f"({h0.dim()}-D, {c0.dim()}-D) tensors")
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
        out, h_n, c_n = self._forward(input, h0, c0)
        return out, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit, gates [r, z, n]: n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)),
    h' = (1 - z) * n + z * h. Returns (output (T, B, D * hidden_size), h_n (L * D, B, hidden_size))."""

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# ---- cells ----------------------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """One step: weight_ih (G * hidden, input), weight_hh (G * hidden, hidden), bias_ih, bias_hh (G * hidden)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), device=device, dtype=dtype))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _check_ranks(self, input: Tensor, states: tuple, names: tuple) -> None:
        cls = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{cls}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for state, name in zip(states, names):
            if state is not None and state.dim() not in (1, 2):
                raise ValueError(f"{cls}: Expected {name} to be 1D or 2D, got {state.dim()}D instead")

    def _check_step(self, input: Tensor, states: tuple) -> None:
        """The checks of PyTorch's cell kernels: input width, each state's batch and width, dtypes."""
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected {self.input_size}")
        for i, h in enumerate(states):
            if input.size(0) != h.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{i} batch size {h.size(0)}")
            if h.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {h.size(1)}, expected "
                                   f"{self.hidden_size}")
        if input.dtype != self.weight_ih.dtype:
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {type_word(input._data.dtype)} "
                               f"and {type_word(self.weight_ih._data.dtype)}")

    def _step(self, mode: str, input: Tensor, hx, cx):
        """One step of `mode` on batched input (B, input_size): (h', c' or None)."""
        out, _, c = layer_op(mode, cell=True)(mode, input, (input.shape[0],), hx, cx, self.weight_ih,
                                              self.weight_hh, self.bias_ih, self.bias_hh)
        return out, c


class RNNCell(RNNCellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh); input (B, input_size) or (input_size,)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        self._check_ranks(input, (hx,), ("hidden",))
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
            hx = None if hx is None else hx.unsqueeze(0)
        self._check_step(input, () if hx is None else (hx,))
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        h, _ = self._step("RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU", input, hx, None)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: (h', c') from input (B, input_size) and (h, c) (zeros if not given)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        self._check_ranks(input, tuple(hx) if hx is not None else (), ("hx[0]", "hx[1]"))
        batched = input.dim() == 2
        h0, c0 = (None, None) if hx is None else hx
        if not batched:
            input = input.unsqueeze(0)
            if hx is not None:
                h0, c0 = h0.unsqueeze(0), c0.unsqueeze(0)
        self._check_step(input, () if hx is None else (h0, c0))
        h, c = self._step("LSTM", input, h0, c0)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: h' from input (B, input_size) and h (zeros if not given)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        self._check_ranks(input, (hx,), ("hidden",))
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
            hx = None if hx is None else hx.unsqueeze(0)
        self._check_step(input, () if hx is None else (hx,))
        h, _ = self._step("GRU", input, hx, None)
        return h if batched else h.squeeze(0)
