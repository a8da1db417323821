"""Work arrays kept between calls (backends/cpu.py work_array/give_back) and their use by the recurrent
layers: an array is reused only when nothing else holds it, and results do not change with reuse."""
import numpy as np
import pytest

import glasstorch as gt
from glasstorch.backends import cpu


@pytest.fixture(autouse=True)
def empty_spares():
    saved = dict(cpu._spares), cpu._spare_bytes[0]
    cpu._spares.clear()
    cpu._spare_bytes[0] = 0
    yield
    cpu._spares.clear()
    cpu._spares.update(saved[0])
    cpu._spare_bytes[0] = saved[1]


def test_an_array_nothing_else_holds_is_reused():
    work = {"w": np.empty((300, 7), np.float32)}
    first = work["w"]
    first_id = id(first)
    del first
    cpu.give_back(work)
    assert work == {}
    again = cpu.work_array((300, 7), np.dtype(np.float32))
    assert id(again) == first_id
    assert cpu.work_array((300, 7), np.dtype(np.float32)) is not again  # taken: a fresh one now


def test_held_arrays_and_views_are_not_kept():
    held = np.empty((50, 50))
    base = np.empty(100)
    cpu.give_back({"held": held, "view": base[10:], "other dtype": [1, 2]})
    assert cpu._spares.get(((50, 50), held.dtype)) in (None, [])
    assert cpu._spare_bytes[0] == 0
    same = np.empty(10)
    cpu.give_back({"a": same, "b": same})
    assert len(cpu._spares.get(((10,), same.dtype), [])) == 0  # (`same` is still held here)
    twice = {"a": np.empty(11)}
    twice["b"] = twice["a"]
    cpu.give_back(twice)  # one array under two keys (an LSTM's gate gradients): kept once
    assert len(cpu._spares[((11,), np.dtype(np.float64))]) == 1


def test_at_most_spare_bytes_are_kept(monkeypatch):
    monkeypatch.setattr(cpu, "SPARE_BYTES", 3 * 8000)
    for n in range(5):
        cpu.give_back({"w": np.empty(1000 + n)})  # 5 shapes of ~8 KB
    assert cpu._spare_bytes[0] <= 3 * 8000
    assert ((1000,), np.dtype(np.float64)) not in cpu._spares  # the oldest went first
    assert sum(a.nbytes for v in cpu._spares.values() for a in v) == cpu._spare_bytes[0]


@pytest.mark.parametrize("grad_mode", [True, False])
def test_lstm_chunks_reuse_work_arrays_and_match_pytorch(grad_mode):
    torch = pytest.importorskip("torch")
    gt.manual_seed(0)
    ours = gt.nn.LSTM(8, 16, 2)
    theirs = torch.nn.LSTM(8, 16, 2)
    theirs.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()})
    xs = np.random.default_rng(0).standard_normal((3, 12, 5, 8)).astype(np.float32)
    for x in xs:  # later chunks run on the arrays the first gave back
        ours.zero_grad()
        theirs.zero_grad()
        with (gt.enable_grad() if grad_mode else gt.no_grad()):
            out, (h, c) = ours(gt.tensor(x))
        want, (h2, c2) = theirs(torch.tensor(x))
        # float32 sums in different orders: a few ulps of the outputs (|values| < 1)
        np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy(), rtol=0, atol=2e-6)
        if grad_mode:
            (out.pow(2).sum() + c.sum()).backward()
            (want.pow(2).sum() + c2.sum()).backward()
            for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
                np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-5, err_msg=name)
    assert cpu._spare_bytes[0] > 0  # the layers gave their work arrays back
