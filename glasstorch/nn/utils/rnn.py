"""Variable-length sequences: padding, and PackedSequence, the layout recurrent layers run on.

A packed batch stores the rows of every time step one after another, longest sequences first: step t holds
`batch_sizes[t]` rows (the sequences longer than t), so no work is spent on padding. `sorted_indices`
records the order the batch was sorted into (None if it came sorted), `unsorted_indices` its inverse.
Every function here is built from differentiable tensor ops (index, cat), so gradients flow through them.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from ..._ops._util import broadcast_error
from ..._tensor import Tensor, _make

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


def _gt():
    import glasstorch

    return glasstorch


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """(data (N, *), batch_sizes (T,) int64 on the CPU, sorted_indices, unsorted_indices).

    Made by pack_padded_sequence / pack_sequence, or from a (data, batch_sizes) pair."""

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        elif batch_sizes.device.type != "cpu":
            raise ValueError(
                "batch_sizes should always be on CPU. Instances of PackedSequence should never be created "
                "manually. They should be instantiated by functions like pack_sequence and pack_padded_sequences "
                "in nn.utils.rnn. https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """data converted as Tensor.to; the index tensors follow it to its device (batch_sizes stays)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self

        def move(t):
            return None if t is None else t.to(data.device)

        return type(self)(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    def cuda(self, *args, **kwargs) -> PackedSequence:
        return type(self)(self.data.cuda(*args, **kwargs), self.batch_sizes,
                          *(None if t is None else t.cuda(*args, **kwargs)
                            for t in (self.sorted_indices, self.unsorted_indices)))

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def double(self) -> PackedSequence:
        return self.to(dtype=_gt().float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=_gt().float32)

    def half(self) -> PackedSequence:
        return self.to(dtype=_gt().float16)

    def long(self) -> PackedSequence:
        return self.to(dtype=_gt().int64)

    def int(self) -> PackedSequence:
        return self.to(dtype=_gt().int32)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation p' with p'[p[i]] = i (None stays None)."""
    if permutation is None:
        return None
    perm = permutation._data
    xp = permutation.device.xp
    out = xp.empty_like(perm)
    out[perm] = xp.arange(perm.shape[0], dtype=perm.dtype)
    return _make(out, permutation.device)


def _lengths_array(lengths) -> np.ndarray:
    if isinstance(lengths, Tensor):
        return np.asarray(lengths.cpu().numpy(), dtype=np.int64).reshape(-1)
    return np.asarray([int(n) for n in lengths], dtype=np.int64)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded (T, B, *) (or (B, T, *) with batch_first) batch whose sequence b has lengths[b] steps.

    With enforce_sorted=False the batch is first sorted by decreasing length (stable order for ties)."""
    gt = _gt()
    lengths = _lengths_array(lengths)
    sorted_indices = None
    batch_dim = 0 if batch_first else 1
    if not enforce_sorted:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = gt.from_numpy(order.astype(np.int64)).to(input.device)
        input = input.index_select(batch_dim, sorted_indices)
    shape = tuple(input.shape)
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    batch, steps = shape[batch_dim], shape[1 - batch_dim]
    if lengths.shape[0] != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.shape[0]} "
                           f"(batch_size={batch})")
    if lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if (np.diff(lengths) > 0).any():
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                           "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep "
                           "this requirement if you do not need ONNX exportability.")
    # rows (t, b) with t < lengths[b], step-major: within a step the longest sequences come first
    t_idx, b_idx = np.nonzero(np.arange(steps)[:, None] < lengths[None, :])
    flat = b_idx * steps + t_idx if batch_first else t_idx * batch + b_idx
    rows = gt.from_numpy(flat.astype(np.int64)).to(input.device)
    data = input.reshape((batch * steps,) + shape[2:])[rows]
    batch_sizes = gt.from_numpy(np.bincount(t_idx, minlength=int(min(lengths[0], steps))).astype(np.int64))
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """The inverse of pack_padded_sequence: (padded (T, B, *) or (B, T, *), lengths (B,) int64)."""
    gt = _gt()
    bs = sequence.batch_sizes.numpy().astype(np.int64)
    steps = bs.shape[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {steps}")
        steps = total_length
    data = sequence.data
    batch = int(bs[0])
    n = data.shape[0]
    # where each padded cell reads from: its packed row, or row n, a padding row appended to the data
    present = np.arange(batch)[None, :] < bs[:, None]  # (T, B): step t of sequence b exists
    lengths = present.sum(0)
    src = np.full((steps, batch), n, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(bs)[:-1]])
    t_idx, b_idx = np.nonzero(present)
    src[t_idx, b_idx] = offsets[t_idx] + b_idx
    if batch_first:
        src = src.T
    pad = gt.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    padded = gt.cat([data, pad], 0)[gt.from_numpy(np.ascontiguousarray(src)).to(data.device)]
    lengths_t = gt.from_numpy(lengths.astype(np.int64))
    if sequence.unsorted_indices is not None:
        unsorted = sequence.unsorted_indices
        padded = padded.index_select(0 if batch_first else 1, unsorted)
        lengths_t = lengths_t[unsorted.cpu()]
    return padded, lengths_t


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of shapes (L_i, *) into (L_max, B, *) (or (B, L_max, *)), padding with padding_value."""
    gt = _gt()
    if not isinstance(sequences, Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}")
    sequences = tuple(sequences)
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    first = sequences[0]
    trailing = tuple(first.shape[1:])
    lens = [s.shape[0] for s in sequences]
    parts = []
    for s in sequences:  # each is copied into its slot of shape (L_i, *trailing): it may broadcast
        slot = (s.shape[0],) + trailing
        if tuple(s.shape) != slot:
            try:
                np.broadcast_shapes(tuple(s.shape), slot)
            except ValueError:
                raise broadcast_error(slot, tuple(s.shape)) from None
            s = s.expand(slot)
        parts.append(s if s.dtype == first.dtype else s.to(first.dtype))
    longest = max(lens)
    total = sum(lens)
    # each padded cell reads from a row of all sequences stacked, or from the padding row after them
    src = np.full((len(sequences), longest), total, dtype=np.int64)
    start = 0
    for i, n in enumerate(lens):
        cols = slice(0, n) if padding_side == "right" else slice(longest - n, longest)
        src[i, cols] = np.arange(start, start + n)
        start += n
    if not batch_first:
        src = src.T
    parts.append(gt.full((1,) + trailing, padding_value, dtype=first.dtype, device=first.device))
    return gt.cat(parts, 0)[gt.from_numpy(np.ascontiguousarray(src)).to(first.device)]


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list[Tensor]:
    """The sequences of a padded batch, each cut to its length: a list of (lengths[b], *) tensors.

    (PyTorch's version also transposes its argument in place when batch_first=False; this one leaves it alone.)"""
    out = []
    for b, n in enumerate(_lengths_array(lengths).tolist()):
        seq = padded_sequences[b] if batch_first else padded_sequences[:, b]
        out.append(seq[:n])
    return out


def pack_sequence(sequences: list[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) sequences (sorted by decreasing length unless enforce_sorted=False)."""
    lengths = [s.size(0) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences a PackedSequence holds, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
