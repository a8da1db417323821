"""Whole-model checkpoints: torch.save(model), load(weights_only=False), and the safe-globals allow-list.

Real torch is the reference for the refusal text, for loading files torch wrote, and for outputs.
"""
from __future__ import annotations

import io
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import glasstorch
import glasstorch.serialization as serialization
from glasstorch import nn


class Net(nn.Module):
    """A small model with a submodule tree, a buffer, a plain attribute and a function attribute."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.LayerNorm(4))
        self.head = nn.Linear(4, 2)
        self.register_buffer("scale", glasstorch.full((2,), 0.5))
        self.note = {"epochs": 3, "dtype": glasstorch.float64}

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


NET_CLASSES = [Net, nn.Sequential, nn.Linear, nn.Tanh, nn.LayerNorm]


def _touch(path):
    """What a malicious pickle would run: leaves a marker file."""
    open(path, "w").close()
    return "ran"


class Evil:
    """Unpickles as a call to _touch: any code path that runs it leaves the marker."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (_touch, (str(self.marker),))


@pytest.fixture(autouse=True)
def no_leftover_safe_globals():
    serialization.clear_safe_globals()
    yield
    serialization.clear_safe_globals()


def saved(obj) -> io.BytesIO:
    buf = io.BytesIO()
    glasstorch.save(obj, buf)
    buf.seek(0)
    return buf


def test_whole_model_round_trip_with_weights_only_false():
    glasstorch.manual_seed(0)
    net = Net().double()
    x = glasstorch.randn(5, 3, dtype=glasstorch.float64)
    back = glasstorch.load(saved(net), weights_only=False)
    assert type(back) is Net and back is not net
    assert repr(back) == repr(net) and back.note == net.note
    assert back.state_dict().keys() == net.state_dict().keys()
    np.testing.assert_array_equal(back(x).detach().numpy(), net(x).detach().numpy())
    assert isinstance(back.head.weight, nn.Parameter) and back.head.weight.requires_grad
    back(x).sum().backward()  # the loaded model trains
    assert back.head.weight.grad is not None and net.head.weight.grad is None


def test_arbitrary_picklable_objects_round_trip():
    glasstorch.manual_seed(0)
    t = glasstorch.randn(2, 3)
    obj = {"array": np.arange(4.0), "set": {1, 2}, "tensors": [t, t], "od": OrderedDict(a=1), "frozen": frozenset("ab")}
    back = glasstorch.load(saved(obj), weights_only=False)
    np.testing.assert_array_equal(back["array"], obj["array"])
    assert back["set"] == {1, 2} and back["od"] == obj["od"] and back["frozen"] == obj["frozen"]
    assert back["tensors"][0] is back["tensors"][1]  # one tensor saved twice stays one
    np.testing.assert_array_equal(back["tensors"][0].numpy(), t.numpy())


def test_whole_model_refused_by_default_with_torchs_message():
    buf = saved(Net())
    with pytest.raises(pickle.UnpicklingError) as ours:
        glasstorch.load(buf)
    # real torch refuses the same file at the same GLOBAL (the first one: this module's Net): same text
    with pytest.raises(pickle.UnpicklingError) as theirs:
        torch.load(io.BytesIO(buf.getvalue()))
    assert str(ours.value) == str(theirs.value)
    assert f"GLOBAL {__name__}.Net was not an allowed global" in str(ours.value)


def test_safe_globals_context_manager_allows_only_inside():
    glasstorch.manual_seed(1)
    net = Net()
    x = glasstorch.randn(2, 3)
    data = saved(net).getvalue()
    with serialization.safe_globals(NET_CLASSES):
        assert set(serialization.get_safe_globals()) == set(NET_CLASSES)
        back = glasstorch.load(io.BytesIO(data))
    np.testing.assert_array_equal(back(x).detach().numpy(), net(x).detach().numpy())
    assert serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        glasstorch.load(io.BytesIO(data))


def test_partial_allow_list_names_the_first_missing_class():
    # Net and Sequential allowed, Linear not: refused at Linear, the next class the pickle names
    with serialization.safe_globals([Net, nn.Sequential]):
        with pytest.raises(pickle.UnpicklingError,
                           match=r"GLOBAL glasstorch\.nn\.modules\.linear\.Linear was not an allowed global"):
            glasstorch.load(saved(Net()))


def test_add_get_clear_safe_globals():
    serialization.add_safe_globals(NET_CLASSES)
    serialization.add_safe_globals([Net])  # a set, as torch keeps it: no duplicates
    assert sorted(map(repr, serialization.get_safe_globals())) == sorted(map(repr, NET_CLASSES))
    assert type(glasstorch.load(saved(Net()))) is Net
    serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError):
        glasstorch.load(saved(Net()))
    # a (class, "module.name") pair allows a class pickled under another name
    serialization.add_safe_globals([(Net, f"{__name__}.Net")] + NET_CLASSES[1:])
    assert type(glasstorch.load(saved(Net()))) is Net


def test_bad_safe_globals_entries_fail_when_the_list_is_read():
    # as torch: accepted by add_safe_globals, refused when a load first consults the list
    data = saved(Net()).getvalue()
    for bad, error in (((Net,), ValueError), ((Net, 3), TypeError)):
        serialization.add_safe_globals([bad])
        torch.serialization.add_safe_globals([bad])
        try:
            assert glasstorch.load(saved({"a": 1})) == {"a": 1}  # no GLOBAL outside the defaults: not read
            with pytest.raises(error) as ours:
                glasstorch.load(io.BytesIO(data))
            with pytest.raises(error) as theirs:
                torch.load(io.BytesIO(data))
            assert str(ours.value) == str(theirs.value)
        finally:
            serialization.clear_safe_globals()
            torch.serialization.clear_safe_globals()


def test_nothing_outside_the_allow_list_runs(tmp_path):
    marker = tmp_path / "marker"
    data = saved({"x": Evil(marker)}).getvalue()
    with pytest.raises(pickle.UnpicklingError, match=f"GLOBAL {__name__}._touch"):
        glasstorch.load(io.BytesIO(data))
    with serialization.safe_globals([Evil]):  # the class is allowed, but the pickle names only _touch
        with pytest.raises(pickle.UnpicklingError, match="_touch was not an allowed global"):
            glasstorch.load(io.BytesIO(data))
    assert not marker.exists()
    # the payload is live: weights_only=False (trusted files only) runs it, as torch.load does
    assert glasstorch.load(io.BytesIO(data), weights_only=False) == {"x": "ran"}
    assert marker.exists()


def test_allow_list_admits_only_what_it_names(tmp_path):
    # a class outside the list is refused at its GLOBAL, even next to an allowed class of the same module
    payload = b"\x80\x02c" + f"{__name__}\nEvil\n".encode() + b")\x81."
    with serialization.safe_globals([Net]):
        with pytest.raises(pickle.UnpicklingError, match="Evil was not an allowed global"):
            glasstorch.load(io.BytesIO(_zip_of(payload)))
    # an allowed function is not a class: NEWOBJ refuses it (only REDUCE may call it), nothing runs
    marker = tmp_path / "marker"
    payload = (b"\x80\x02c" + f"{__name__}\n_touch\n".encode() + b"X" + len(str(marker)).to_bytes(4, "little")
               + str(marker).encode() + b"\x85\x81.")
    with serialization.safe_globals([_touch]):
        with pytest.raises(pickle.UnpicklingError, match="Can only create new object for classes allowlisted"):
            glasstorch.load(io.BytesIO(_zip_of(payload)))
    assert not marker.exists()
    # BUILD on an object whose class is not allowed (a dtype) stays refused
    payload = b"\x80\x02ctorch\nfloat32\n}X\x02\x00\x00\x00npX\x01\x00\x00\x00xsb."
    with serialization.safe_globals([Net]):
        with pytest.raises(pickle.UnpicklingError, match="Can only BUILD"):
            glasstorch.load(io.BytesIO(_zip_of(payload)))


def _zip_of(pickled: bytes) -> bytes:
    """A zip checkpoint around a hand-made pickle (torch.save's layout, no storages)."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", pickled)
        zf.writestr("archive/version", "3\n")
    return buf.getvalue()


def torch_saved(module: torch.nn.Module) -> bytes:
    buf = io.BytesIO()
    torch.save(module, buf)
    return buf.getvalue()


def test_loads_whole_modules_torch_saved():
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).double()
    x = np.random.default_rng(0).standard_normal((5, 3))
    data = torch_saved(ref)
    expected = ref(torch.from_numpy(x)).detach().numpy()
    back = glasstorch.load(io.BytesIO(data), weights_only=False)
    assert type(back) is nn.Sequential and type(back[0]) is nn.Linear  # torch.nn.X mapped to glasstorch's
    # float64, one small product chain: agreement to rounding
    np.testing.assert_allclose(back(glasstorch.from_numpy(x)).detach().numpy(), expected, rtol=1e-12, atol=1e-14)
    # the allow-list takes glasstorch's classes for the torch names in the file
    with serialization.safe_globals([nn.Sequential, nn.Linear, nn.ReLU]):
        again = glasstorch.load(io.BytesIO(data))
    np.testing.assert_allclose(again(glasstorch.from_numpy(x)).detach().numpy(), expected, rtol=1e-12, atol=1e-14)


def test_loads_torch_saved_lstm_and_embedding():
    torch.manual_seed(0)
    ref = torch.nn.ModuleDict({"emb": torch.nn.Embedding(7, 4), "lstm": torch.nn.LSTM(4, 5, batch_first=True)})
    ref = ref.double()
    tokens = np.array([[1, 2, 3], [4, 5, 6]])
    out, _ = ref["lstm"](ref["emb"](torch.from_numpy(tokens)))
    back = glasstorch.load(io.BytesIO(torch_saved(ref)), weights_only=False)
    ours, _ = back["lstm"](back["emb"](glasstorch.from_numpy(tokens)))
    np.testing.assert_allclose(ours.detach().numpy(), out.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_whole_lstm_and_transformer_round_trip():
    glasstorch.manual_seed(0)
    models = [nn.LSTM(4, 5, num_layers=2, batch_first=True),
              nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True), 2,
                                    enable_nested_tensor=False)]
    x = glasstorch.randn(2, 3, 4)
    for model in models:
        back = glasstorch.load(saved(model), weights_only=False)
        out, ref = back(x), model(x)
        out, ref = (out[0], ref[0]) if isinstance(out, tuple) else (out, ref)
        np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())


def test_weights_only_false_refuses_foreign_pickle_module():
    with pytest.raises(RuntimeError, match="Can not safely load weights when explicit pickle_module"):
        glasstorch.load(saved({}), pickle_module=pickle)
    assert glasstorch.load(saved({"a": 1}), pickle_module=pickle, weights_only=False) == {"a": 1}
