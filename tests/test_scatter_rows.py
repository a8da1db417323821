"""The CPU backend's row scatter-add (backends/cpu.py::scatter_add): whole rows added in passes instead of
np.add.at. It must give np.add.at's sums bit for bit (same values added to each row in the same order), never
lose a repeated index, and fall back to np.add.at where it does not apply."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import glasstorch
from glasstorch.backends import cpu

from _compare import EXACT, assert_same


def _reference(target, index, values):
    out = target.copy()
    np.add.at(out, index, values)
    return out


# (index shape, number of rows, whether the pass loop applies): few repeats (the word-LM case), ~10 repeats,
# a tiny vocabulary (hundreds of repeats: the np.add.at fallback), one index, none
CASES = [((35, 20), 1000, True), ((35, 20), 120, True), ((700,), 3, False), ((1,), 5, True), ((0,), 4, True)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,rows,passes", CASES)
def test_bit_identical_to_add_at(dtype, shape, rows, passes):
    rng = np.random.default_rng(0)
    index = rng.integers(-rows, rows, shape)  # negative indices name the same rows as positive ones
    values = rng.standard_normal(shape + (2, 24)).astype(dtype)
    target = rng.standard_normal((rows, 2, 24)).astype(dtype)  # nonzero: the order target + v0 + v1 + ... counts
    ours = cpu.scatter_add(target.copy(), (index,), values)
    np.testing.assert_array_equal(ours, _reference(target, (index,), values))
    assert cpu._add_rows(target.copy(), index, values) == passes  # the case exercises the path it claims


def test_fast_path_taken_and_int32_index():
    rng = np.random.default_rng(1)
    index = rng.integers(0, 200, (35, 20)).astype(np.int32)
    values = rng.standard_normal((35, 20, 64)).astype(np.float32)
    target = np.zeros((200, 64), np.float32)
    assert cpu._row_index(target, (index,), values) is index
    assert cpu._add_rows(target, index, values)  # 700 draws of 200 rows: fewer than _MAX_PASSES repeats
    np.testing.assert_array_equal(target, _reference(np.zeros((200, 64), np.float32), (index,), values))


def test_not_applicable_goes_to_add_at():
    target = np.zeros((4, 40))
    assert cpu._row_index(target, (np.array([0, 1]), np.array([2, 3])), np.ones(2)) is None  # 2 index arrays
    assert cpu._row_index(np.zeros((4, 3)), (np.array([0]),), np.ones((1, 3))) is None  # narrow rows
    assert cpu._row_index(target, (np.array([0]),), np.ones((1, 40), np.float32)) is None  # dtype differs
    assert cpu._row_index(target, (np.array([0]),), np.ones(40)) is None  # broadcast values
    assert cpu._row_index(target, (np.array([0, 0]),), target[1:3]) is None  # values alias the target
    out = cpu.scatter_add(np.zeros((4, 40)), (np.array([1, 1]),), np.ones(40))
    np.testing.assert_array_equal(out[1], np.full(40, 2.0))


@pytest.mark.parametrize("bad", [4, -5])
def test_out_of_range_raises_before_writing(bad):
    target = np.zeros((4, 40))
    with pytest.raises(IndexError, match=f"index {bad} is out of bounds for axis 0 with size 4"):
        cpu.scatter_add(target, (np.array([0, bad]),), np.ones((2, 40)))
    assert not target.any()


@pytest.mark.parametrize("vocab", [1000, 40, 2])
def test_embedding_repeats_count_exactly(vocab):
    """Gradient of sum(): each row gets its count, exact in any summation order, so compared with torch
    exactly. With 2 rows for 700 tokens (hundreds of repeats) any lost repeat would show."""
    tokens = np.random.default_rng(2).integers(0, vocab, (35, 20))
    grads = []
    for m in (glasstorch, torch):
        m.manual_seed(0)
        emb = m.nn.Embedding(vocab, 64)
        emb(m.tensor(tokens)).sum().backward()
        grads.append(emb.weight.grad)
    assert_same(grads[0], grads[1], tol=EXACT)
    np.testing.assert_array_equal(grads[0].numpy()[:, 0], np.bincount(tokens.ravel(), minlength=vocab))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_embedding_backward_matches_torch(dtype):
    """Random output gradients, a vocabulary of 90 for 700 tokens (~8 repeats per row). torch may sum a
    row's values in another order: k terms of size ~1 differ by at most ~k * eps * sum|v| in the worst case,
    typically sqrt(k) * eps * |v|, i.e. ~1e-6 in float32 and ~1e-15 in float64: the usual tolerances hold."""
    rng = np.random.default_rng(3)
    tokens = rng.integers(0, 90, (35, 20))
    g = rng.standard_normal((35, 20, 48))
    grads = []
    for m in (glasstorch, torch):
        m.manual_seed(0)
        emb = m.nn.Embedding(90, 48, padding_idx=3).to(getattr(m, dtype))
        emb(m.tensor(tokens)).backward(m.tensor(g, dtype=getattr(m, dtype)))
        grads.append(emb.weight.grad)
    assert_same(grads[0], grads[1])
    assert not grads[0].numpy()[3].any()
