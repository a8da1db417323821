"""glasstorch.nn against PyTorch: Module API, layers, losses, init and utils.

Layers and losses are checked forward and backward by copying the same weights into both
libraries (float32 to ~1e-5 relative, float64 to 1e-10).
"""
from __future__ import annotations

import contextlib
import copy
import io
import math
import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as tF

import glasstorch as gt
import glasstorch.nn as gnn
import glasstorch.nn.functional as gF
from _compare import matching_branch, seed_net_branches
from glasstorch._compare import compare_outputs

TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}
DTYPES = [np.float32, np.float64]
T_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}
G_DTYPE = {np.float32: gt.float32, np.float64: gt.float64}


def arr(t) -> np.ndarray:
    return np.asarray(t.detach().numpy())


def close(ours, theirs, dtype=np.float32, atol=None) -> None:
    a, b = arr(ours), arr(theirs)
    assert a.shape == b.shape, (a.shape, b.shape)
    tol = dict(TOL[dtype]) if atol is None else dict(TOL[dtype], atol=atol)
    np.testing.assert_allclose(a, b, **tol)


def pair(a: np.ndarray, requires_grad: bool = False):
    """The same values as a glasstorch leaf and a torch leaf."""
    return gt.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


def rand(*shape, dtype=np.float32, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def copy_weights(ours: gnn.Module, theirs: tnn.Module) -> None:
    ours.load_state_dict({k: gt.tensor(v.numpy()) for k, v in theirs.state_dict().items()})


def check_module(ours: gnn.Module, theirs: tnn.Module, x: np.ndarray, steps: int = 1) -> None:
    """Same weights in, same outputs, input grads, parameter grads and buffers out."""
    dtype = x.dtype.type
    theirs = theirs.to(T_DTYPE[dtype])
    ours = ours.to(G_DTYPE[dtype])
    copy_weights(ours, theirs)
    for step in range(steps):
        xg, xt = pair(x + step, requires_grad=True)
        yg, yt = ours(xg), theirs(xt)
        close(yg, yt, dtype)
        up = rand(*yt.shape, dtype=dtype, seed=step + 1)
        yg.backward(gt.tensor(up))
        yt.backward(torch.tensor(up))
        close(xg.grad, xt.grad, dtype)
        for (ng, pg), (nt, pt) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
            assert ng == nt
            close(pg.grad, pt.grad, dtype)
    for (ng, bg), (nt, bt) in zip(ours.named_buffers(), theirs.named_buffers(), strict=True):
        assert ng == nt
        if bt.dtype.is_floating_point:
            close(bg, bt, dtype)
        else:
            assert bg.tolist() == bt.tolist()


def raises_like(fn_ours, fn_theirs):
    """Both raise the same exception class with the same message."""
    with pytest.raises(Exception) as theirs:
        fn_theirs()
    with pytest.raises(type(theirs.value)) as ours:
        fn_ours()
    assert str(ours.value) == str(theirs.value)


# ==== the seed listings ===============================================================================
def _listing(name: str) -> str:
    """A seed listing from examples/seeds without its imports (run_listing supplies torch, nn, F)."""
    path = Path(__file__).resolve().parent.parent / "examples" / "seeds" / f"{name}.py"
    return "\n".join(line for line in path.read_text().splitlines() if not line.startswith("import "))


SEED_001 = _listing("s001_01_forward_pytorch") + "\nprint(model)\n"

SEED_003_STEP = '''
loss.backward()
print("dL/db2:", model.layer2.bias.grad)
with torch.no_grad():
    for p in model.parameters():
        p -= 0.1 * p.grad
model.zero_grad()
y_hat_new = model(x)
loss_new = torch.mean((y_hat_new - target) ** 2)
print(f"Loss: {loss.item():.4f} -> {loss_new.item():.6f}")
'''


def run_listing(code: str, lib: str) -> str:
    if lib == "torch":
        env = {"torch": torch, "nn": tnn, "F": tF}
    else:
        env = {"torch": gt, "nn": gnn, "F": gF}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, env)
    return out.getvalue()


def test_seed_001_prints_what_torch_prints():
    ours = run_listing(SEED_001, "glasstorch")
    # compare_outputs, not ==: tolist() prints float32 values in full, and the last digit of a short
    # dot product depends on the order the CPU's kernel adds it (see _compare.SEED_NET_BIAS)
    assert compare_outputs(run_listing(SEED_001, "torch"), ours) is None
    assert "MSE Loss:   0.8963" in ours
    assert "Parameters: 31" in ours
    assert "(layer1): Linear(in_features=4, out_features=3, bias=True)" in ours


def test_seed_003_one_sgd_step():
    """One SGD step crosses the seed network's knife edge: PyTorch's answer depends on the CPU, so
    glasstorch's must be one of the two correct ones (PyTorch's on either side), the same every run."""
    code = SEED_001 + SEED_003_STEP
    branches = [run_listing(c, "torch") for c in seed_net_branches(code)]
    assert "-> 0.721839" in branches[0] and "-> 0.725753" in branches[1]  # the nudge crossed the edge
    matching_branch(run_listing(code, "torch"), branches, "PyTorch's own output")
    ours = run_listing(code, "glasstorch")
    matching_branch(ours, branches, "glasstorch's output")
    assert run_listing(code, "glasstorch") == ours


def test_seed_004_forward_hooks_on_sequential():
    lines = []

    def print_activation(module, input, output):
        lines.append(f"{module.__class__.__name__}: {output.shape}")

    model = gnn.Sequential(gnn.Linear(784, 128), gnn.ReLU(), gnn.Linear(128, 10))
    for layer in model:
        layer.register_forward_hook(print_activation)
    model(gt.randn(64, 784))
    assert lines == ["Linear: torch.Size([64, 128])", "ReLU: torch.Size([64, 128])", "Linear: torch.Size([64, 10])"]


# ==== Parameter ======================================================================================
def test_parameter_is_a_tensor_sharing_data():
    data = gt.tensor([1.0, 2.0])
    p = gnn.Parameter(data)
    assert isinstance(p, gt.Tensor) and isinstance(p, gnn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    data.add_(1)
    assert p.tolist() == [2.0, 3.0]
    assert p._version == data._version
    assert repr(p) == repr(tnn.Parameter(torch.tensor([2.0, 3.0])))
    assert str(p) == str(tnn.Parameter(torch.tensor([2.0, 3.0])))
    assert repr(gnn.Parameter(gt.tensor([1.0]), requires_grad=False)) == repr(
        tnn.Parameter(torch.tensor([1.0]), requires_grad=False))
    assert repr(gnn.Parameter()) == repr(tnn.Parameter())


def test_operations_on_parameters_return_tensors():
    p = gnn.Parameter(gt.ones(2, 2))
    for out in (p * 2, p.detach(), p.data, p[0], p.clone(), p.to(gt.float64), p.sum()):
        assert type(out) is gt.Tensor
    assert type(p.to(gt.float32)) is gnn.Parameter  # no conversion: the parameter itself, as in torch
    assert (p * 2).grad_fn.name() == "MulBackward0"


def test_parameter_errors_copy_and_pickle():
    raises_like(lambda: gnn.Parameter(gt.tensor([1, 2])), lambda: tnn.Parameter(torch.tensor([1, 2])))
    assert gnn.Parameter(gt.tensor([1, 2]), requires_grad=False).dtype == gt.int64
    p = gnn.Parameter(gt.tensor([1.0, 2.0]))
    p.grad = gt.ones(2)
    q = copy.deepcopy(p)
    assert type(q) is gnn.Parameter and q.requires_grad and q.grad is None and q.tolist() == [1.0, 2.0]
    q.data.add_(1)
    assert p.tolist() == [1.0, 2.0]
    r = pickle.loads(pickle.dumps(gnn.Parameter(gt.tensor([3.0]), requires_grad=False)))
    assert type(r) is gnn.Parameter and not r.requires_grad and r.tolist() == [3.0]


def test_buffer_class_registers_buffers():
    m = gnn.Module()
    m.b = gnn.Buffer(gt.ones(2))
    m.c = gnn.Buffer(gt.zeros(1), persistent=False)
    assert isinstance(m.b, gnn.Buffer) and not isinstance(gt.ones(1), gnn.Buffer)
    assert [n for n, _ in m.named_buffers()] == ["b", "c"]
    assert list(m.state_dict()) == ["b"]


# ==== Module API ===================================================================================
def build_everything(nn, torch_mod):
    """One model using every layer (built with either library's nn)."""

    class Everything(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10, 4, padding_idx=0)
            self.flatten = nn.Flatten()
            self.unflatten = nn.Unflatten(1, (2, 8))
            self.body = nn.Sequential(
                nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.1),
                nn.Linear(16, 16, bias=False), nn.LayerNorm(16), nn.GELU(), nn.GELU(approximate="tanh"),
                nn.SiLU(), nn.LeakyReLU(0.2), nn.LeakyReLU(inplace=True), nn.Sigmoid(), nn.Tanh(), nn.Identity(),
                nn.ELU(), nn.ELU(alpha=0.5, inplace=True), nn.Softplus(), nn.Softplus(beta=2, threshold=10),
                nn.LogSigmoid(), nn.Hardtanh(), nn.Hardtanh(-2.0, 2.0), nn.ReLU6(), nn.ReLU(inplace=True),
                nn.Mish(), nn.Softsign(), nn.Threshold(0.1, 20.0), nn.Flatten(0, -1),
                nn.LayerNorm((2, 3), eps=1e-3, elementwise_affine=False), nn.LayerNorm(5, bias=False),
                nn.BatchNorm1d(3, eps=1e-3, momentum=None, affine=False, track_running_stats=False),
                nn.BatchNorm2d(4, bias=False), nn.Embedding(5, 2, max_norm=1.0, scale_grad_by_freq=True),
                nn.Dropout(p=0.3, inplace=True),
            )
            self.heads = nn.ModuleList([nn.Linear(16, 3) for _ in range(3)] + [nn.Linear(16, 2)])
            self.empty = nn.ModuleList()
            self.dict = nn.ModuleDict({"soft": nn.Softmax(dim=1), "log": nn.LogSoftmax(dim=-1), "min": nn.Softmin(1)})
            self.losses = nn.ModuleList([
                nn.MSELoss(), nn.L1Loss(reduction="sum"), nn.CrossEntropyLoss(weight=torch_mod.ones(3)),
                nn.NLLLoss(), nn.BCELoss(), nn.BCEWithLogitsLoss(pos_weight=torch_mod.ones(2)), nn.SmoothL1Loss(),
                nn.HuberLoss(), nn.KLDivLoss(reduction="batchmean")])
            self.nested = nn.Sequential(OrderedDict([("conv_like", nn.Linear(2, 2)), ("act", nn.ReLU())]))
            self.shared = self.heads[0]
            self.register_buffer("steps", torch_mod.zeros(1))
            self.register_buffer("scratch", torch_mod.zeros(1), persistent=False)
            self.register_buffer("absent", None)
            self.scale = nn.Parameter(torch_mod.ones(1))
            self.register_parameter("no_bias", None)

    return Everything()


def test_repr_and_names_match_torch_for_a_model_with_every_layer():
    ours, theirs = build_everything(gnn, gt), build_everything(tnn, torch)
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert dict(ours.state_dict()._metadata) == dict(theirs.state_dict()._metadata)
    assert [tuple(p.shape) for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert [n for n, _ in ours.named_parameters(remove_duplicate=False)] == [
        n for n, _ in theirs.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in ours.named_parameters(prefix="m", recurse=False)] == [
        n for n, _ in theirs.named_parameters(prefix="m", recurse=False)]
    assert repr(ours.heads) == repr(theirs.heads) and repr(ours.empty) == repr(theirs.empty)


def test_parameter_lists_and_dicts_match_torch():
    def build(nn, torch_mod):
        m = nn.Module()
        m.plist = nn.ParameterList([nn.Parameter(torch_mod.ones(3, 4)), torch_mod.zeros(2)])
        m.pdict = nn.ParameterDict({"a": nn.Parameter(torch_mod.ones(2, dtype=torch_mod.float64)),
                                    "b": torch_mod.zeros(1)})
        return m

    ours, theirs = build(gnn, gt), build(tnn, torch)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert isinstance(ours.plist[1], gnn.Parameter) and len(ours.plist) == 2 and list(ours.pdict) == ["a", "b"]


def test_attribute_registration_and_errors():
    m, tm = gnn.Linear(2, 3), tnn.Linear(2, 3)
    assert "weight" in m._parameters and "weight" not in m.__dict__
    raises_like(lambda: setattr(m, "weight", gt.ones(3, 2)), lambda: setattr(tm, "weight", torch.ones(3, 2)))
    raises_like(lambda: m.nothing, lambda: tm.nothing)
    raises_like(lambda: m.register_parameter("a.b", None), lambda: tm.register_parameter("a.b", None))
    raises_like(lambda: m.register_parameter("", None), lambda: tm.register_parameter("", None))
    raises_like(lambda: m.register_parameter("x", gt.ones(1)), lambda: tm.register_parameter("x", torch.ones(1)))
    raises_like(lambda: m.register_buffer("weight", gt.ones(1)), lambda: tm.register_buffer("weight", torch.ones(1)))
    raises_like(lambda: m.register_buffer("b", 3), lambda: tm.register_buffer("b", 3))
    raises_like(lambda: m.add_module("x", 3), lambda: tm.add_module("x", 3))
    raises_like(lambda: m.add_module("a.b", gnn.ReLU()), lambda: tm.add_module("a.b", tnn.ReLU()))
    fake = gnn.Parameter(gt.ones(1))
    fake.grad_fn = (gt.ones(1, requires_grad=True) * 2).grad_fn  # a "parameter" with a history
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor to parameter 'p'"):
        m.register_parameter("p", fake)

    class Early(gnn.Module):
        def __init__(self):
            self.w = gnn.Parameter(gt.ones(1))

    class EarlyT(tnn.Module):
        def __init__(self):
            self.w = tnn.Parameter(torch.ones(1))

    raises_like(Early, EarlyT)
    raises_like(lambda: gnn.Module(3), lambda: tnn.Module(3))
    raises_like(lambda: gnn.Module()(1), lambda: tnn.Module()(1))

    # re-assigning moves a name between tables; None keeps a declared slot
    m.extra = gnn.ReLU()
    assert "extra" in m._modules
    m.extra = gnn.Parameter(gt.ones(1))
    assert "extra" in m._parameters and "extra" not in m._modules
    m.bias = None
    assert m.bias is None and "bias" in m._parameters
    del m.extra
    assert "extra" not in m._parameters
    m.register_buffer("buf", gt.zeros(2))
    m.buf = gt.ones(2)  # a tensor assigned to a buffer name replaces the buffer
    assert m._buffers["buf"].tolist() == [1.0, 1.0]
    del m.buf
    assert not hasattr(m, "buf")
    m.plain = 5
    assert m.plain == 5 and "plain" in m.__dict__
    assert "weight" in dir(m) and "bias" in dir(m) and "forward" in dir(m)
    seq = gnn.Sequential(gnn.ReLU())
    assert "0" not in dir(seq)


def test_train_eval_zero_grad_requires_grad_apply():
    model = gnn.Sequential(gnn.Linear(3, 3), gnn.Dropout(), gnn.Sequential(gnn.BatchNorm1d(3)))
    assert all(m.training for m in model.modules())
    assert model.eval() is model and not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        model.train("yes")
    model(gt.randn(4, 3)).sum().backward()
    w = model[0].weight
    model.zero_grad(set_to_none=False)
    assert w.grad is not None and w.grad.abs().sum().item() == 0
    model.zero_grad()
    assert w.grad is None
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    visited = []
    model.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "Dropout", "BatchNorm1d", "Sequential", "Sequential"]

    def init(m):
        if isinstance(m, gnn.Linear):
            gnn.init.zeros_(m.weight)
    model.apply(init)
    assert model[0].weight.abs().sum().item() == 0


def test_to_and_float_double_keep_parameter_identity():
    model = gnn.Sequential(gnn.Linear(2, 2), gnn.BatchNorm1d(2))
    w = model[0].weight
    model(gt.randn(3, 2)).sum().backward()
    assert model.double() is model
    assert model[0].weight is w and w.dtype == gt.float64 and w.grad.dtype == gt.float64
    assert model[1].running_mean.dtype == gt.float64
    assert model[1].num_batches_tracked.dtype == gt.int64  # integer buffers keep their dtype
    model.to(gt.float32)
    assert w.dtype == gt.float32 and model[0].weight is w
    model.to("cpu").cpu()
    model.to(gt.zeros(1, dtype=gt.float64))
    assert w.dtype == gt.float64
    model.float()
    assert w.dtype == gt.float32
    raises_like(lambda: model.to(gt.int64), lambda: tnn.Linear(2, 2).to(torch.int64))
    # the optimizer's view stays valid: updates through the old reference reach the model
    with gt.no_grad():
        w.fill_(0.5)
    assert model[0].weight.tolist() == [[0.5, 0.5], [0.5, 0.5]]


def test_deepcopy_gives_an_independent_model():
    model = gnn.Sequential(gnn.Linear(2, 2), gnn.BatchNorm1d(2))
    model[0].register_forward_hook(lambda m, i, o: None)
    clone = copy.deepcopy(model)
    assert repr(clone) == repr(model)
    for (n1, p1), (n2, p2) in zip(model.named_parameters(), clone.named_parameters()):
        assert n1 == n2 and p1 is not p2 and isinstance(p2, gnn.Parameter) and p1.tolist() == p2.tolist()
    with gt.no_grad():
        clone[0].weight.fill_(7.0)
    assert model[0].weight.max().item() != 7.0
    clone(gt.randn(4, 2)).sum().backward()
    assert model[0].weight.grad is None
    assert clone[1].num_batches_tracked.item() == 1 and model[1].num_batches_tracked.item() == 0
    restored = pickle.loads(pickle.dumps(gnn.Sequential(gnn.Linear(2, 2))))
    assert isinstance(restored[0].weight, gnn.Parameter)


def test_state_dict_is_detached_and_shares_memory():
    model = gnn.Sequential(gnn.Linear(2, 2), gnn.BatchNorm1d(2))
    sd = model.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                        "1.num_batches_tracked"]
    assert type(sd["0.weight"]) is gt.Tensor and not sd["0.weight"].requires_grad
    with gt.no_grad():
        model[0].weight.fill_(3.0)
    assert sd["0.weight"].tolist() == [[3.0, 3.0], [3.0, 3.0]]
    kept = model.state_dict(keep_vars=True)
    assert kept["0.weight"] is model[0].weight
    assert list(model.state_dict(prefix="net.")) == ["net." + k for k in sd]


def test_load_state_dict_roundtrip_and_incompatible_keys():
    src, dst = gnn.Sequential(gnn.Linear(2, 3), gnn.LayerNorm(3)), gnn.Sequential(gnn.Linear(2, 3), gnn.LayerNorm(3))
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for a, b in zip(src.parameters(), dst.parameters()):
        assert a.tolist() == b.tolist() and a is not b
    sd = src.state_dict()
    del sd["1.bias"]
    sd["extra.weight"] = gt.ones(1)
    result = dst.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["1.bias"] and result.unexpected_keys == ["extra.weight"]
    tresult = tnn.Sequential(tnn.Linear(2, 3), tnn.LayerNorm(3)).load_state_dict(
        {k: torch.tensor(v.numpy()) for k, v in sd.items()}, strict=False)
    assert repr(result) == repr(tresult)
    w = dst[0].weight
    dst.load_state_dict(src.state_dict(), assign=True)
    assert dst[0].weight is not w and isinstance(dst[0].weight, gnn.Parameter) and dst[0].weight.requires_grad


class _NetT(tnn.Module):
    def __init__(self, out=3):
        super().__init__()
        self.fc = tnn.Linear(4, out)
        self.bn = tnn.BatchNorm1d(out)


class _NetG(gnn.Module):
    def __init__(self, out=3):
        super().__init__()
        self.fc = gnn.Linear(4, out)
        self.bn = gnn.BatchNorm1d(out)


# the class names must match for the messages to match
_NetT.__name__ = _NetG.__name__ = "Net"


@pytest.mark.parametrize("edit", ["missing", "unexpected", "both", "size", "size_and_missing", "nested_unexpected",
                                  "not_tensor"])
def test_load_state_dict_error_messages_match_torch(edit):
    def make(sd, lib):
        sd = OrderedDict(sd)
        if edit in ("missing", "both", "size_and_missing"):
            del sd["fc.bias"]
        if edit in ("unexpected", "both"):
            sd["fc.extra"] = lib.ones(2)
            sd["head.weight"] = lib.ones(2)
        if edit == "nested_unexpected":
            sd["bn.running_mean.x"] = lib.ones(1)
        if edit in ("size", "size_and_missing"):
            sd["fc.weight"] = lib.ones(2, 4)
            sd["bn.running_var"] = lib.ones(5)
        if edit == "not_tensor":
            sd["fc.weight"] = [1.0]
        return sd

    theirs, ours = _NetT(), _NetG()
    raises_like(lambda: ours.load_state_dict(make(ours.state_dict(), gt)),
                lambda: theirs.load_state_dict(make(theirs.state_dict(), torch)))
    if edit in ("size",):
        raises_like(lambda: ours.load_state_dict(make(ours.state_dict(), gt), strict=False),
                    lambda: theirs.load_state_dict(make(theirs.state_dict(), torch), strict=False))
    raises_like(lambda: ours.load_state_dict([1]), lambda: theirs.load_state_dict([1]))


def test_exact_missing_and_size_messages():
    with pytest.raises(RuntimeError) as e:
        _NetG().load_state_dict({k: v for k, v in _NetG().state_dict().items() if k != "fc.bias"})
    assert str(e.value).startswith(
        'Error(s) in loading state_dict for Net:\n\tMissing key(s) in state_dict: "fc.bias". ')
    sd = _NetG().state_dict()
    sd["fc.weight"] = gt.ones(3, 4)
    with pytest.raises(RuntimeError) as e:
        _NetG(out=2).load_state_dict(sd)
    assert ("size mismatch for fc.weight: copying a param with shape torch.Size([3, 4]) from checkpoint, the shape "
            "in current model is torch.Size([2, 4]).") in str(e.value)


def test_batchnorm_checkpoint_without_num_batches_tracked_loads():
    sd = _NetG().state_dict()
    del sd["bn.num_batches_tracked"]
    sd._metadata["bn"] = {"version": 1}
    model = _NetG()
    model.bn.num_batches_tracked.fill_(5)
    assert model.load_state_dict(sd).missing_keys == []
    assert model.bn.num_batches_tracked.item() == 5


def test_forward_hooks_pre_hooks_kwargs_and_removal():
    for nn, lib in ((gnn, gt), (tnn, torch)):
        lin = nn.Linear(2, 2)
        with lib.no_grad():
            lin.weight.copy_(lib.eye(2))
            lin.bias.zero_()
        calls = []
        h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        h2 = lin.register_forward_hook(lambda m, args, out: out + 1)
        h3 = lin.register_forward_hook(lambda m, args, out: calls.append("second"))
        h4 = lin.register_forward_hook(lambda m, args, out: calls.append("first"), prepend=True)
        assert lin(lib.ones(1, 2)).tolist() == [[3.0, 3.0]]
        assert calls == ["first", "second"]
        h1.remove()
        assert lin(lib.ones(1, 2)).tolist() == [[2.0, 2.0]]
        h2.remove(), h3.remove(), h4.remove()
        assert lin(lib.ones(1, 2)).tolist() == [[1.0, 1.0]]

        class Scaled(nn.Module):
            def forward(self, x, scale=1.0):
                return x * scale

        s = Scaled()
        s.register_forward_pre_hook(lambda m, args, kwargs: (args, {"scale": 3.0}), with_kwargs=True)
        seen = []
        s.register_forward_hook(lambda m, args, kwargs, out: seen.append(kwargs["scale"]), with_kwargs=True)
        assert s(lib.ones(1), scale=2.0).tolist() == [3.0] and seen == [3.0]
        bad = nn.Identity()
        bad.register_forward_pre_hook(lambda m, a, k: 5, with_kwargs=True)
        with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
            bad(lib.ones(1))
        with lin.register_forward_hook(lambda m, a, o: o * 0):
            assert lin(lib.ones(1, 2)).tolist() == [[0.0, 0.0]]
        assert lin(lib.ones(1, 2)).tolist() == [[1.0, 1.0]]


def test_global_module_hooks():
    from glasstorch.nn.modules.module import register_module_forward_hook

    seen = []
    handle = register_module_forward_hook(lambda m, i, o: seen.append(type(m).__name__))
    try:
        gnn.Sequential(gnn.ReLU())(gt.ones(1))
    finally:
        handle.remove()
    gnn.ReLU()(gt.ones(1))
    assert seen == ["ReLU", "Sequential"]


def test_get_submodule_parameter_buffer():
    model = gnn.Sequential(OrderedDict([("enc", gnn.Sequential(gnn.Linear(2, 2), gnn.BatchNorm1d(2)))]))
    assert model.get_submodule("enc.0") is model.enc[0]
    assert model.get_parameter("enc.0.bias") is model.enc[0].bias
    assert model.get_buffer("enc.1.running_var") is model.enc[1].running_var
    with pytest.raises(AttributeError):
        model.get_submodule("enc.5")


@pytest.mark.parametrize("call, target", [("get_parameter", "enc.0.nope"), ("get_parameter", "enc.1.running_var"),
                                          ("get_buffer", "enc.0.nope"), ("get_buffer", "enc.0.bias")])
def test_get_parameter_and_buffer_errors_match_torch(call, target):
    def build(nn):
        return nn.Sequential(OrderedDict([("enc", nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)))]))

    with pytest.raises(AttributeError) as theirs:
        getattr(build(tnn), call)(target)
    with pytest.raises(AttributeError) as ours:
        getattr(build(gnn), call)(target)
    assert str(ours.value) == str(theirs.value)


# ==== containers ===================================================================================
def test_sequential_indexing_and_editing_matches_torch():
    def build(nn):
        return nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 3), nn.Tanh())

    ours, theirs = build(gnn), build(tnn)
    assert len(ours) == 4 and type(ours[-1]) is gnn.Tanh and ours[0] is list(ours)[0]
    assert repr(ours[1:3]) == repr(theirs[1:3]) and type(ours[::2]) is gnn.Sequential
    raises_like(lambda: ours[4], lambda: theirs[4])
    raises_like(lambda: ours[-5], lambda: theirs[-5])
    for s in (ours, theirs):
        nn = gnn if s is ours else tnn
        s.append(nn.Sigmoid())
        s.insert(1, nn.Identity())
        s.insert(-1, nn.ELU())
        s.extend([nn.ReLU6()])
        del s[0]
        s[0] = nn.Softplus()
        s.pop(2)
        s += nn.Sequential(nn.GELU())
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    named = gnn.Sequential(OrderedDict([("lin", gnn.Linear(2, 2)), ("act", gnn.ReLU())]))
    assert named.lin is named[0] and list(named._modules) == ["lin", "act"]
    x = gt.randn(3, 2)
    assert gt.equal(named(x), gnn.functional.relu(named.lin(x)))
    assert len(gnn.Sequential(gnn.ReLU()) * 3) == 3


def test_module_list_and_dict_match_torch():
    def build(nn):
        lst = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
        lst.append(nn.Tanh())
        lst.extend([nn.Linear(2, 2), nn.Linear(2, 2)])
        lst.insert(1, nn.Sigmoid())
        del lst[0]
        d = nn.ModuleDict({"a": nn.ReLU()})
        d["b"] = nn.Linear(1, 1)
        d.update([("c", nn.Tanh())])
        d.pop("a")
        holder = nn.Module()
        holder.lst, holder.d = lst, d
        return holder

    ours, theirs = build(gnn), build(tnn)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(ours.d.keys()) == ["b", "c"] and "b" in ours.d and len(ours.d) == 2
    assert type(ours.lst[1:3]) is gnn.ModuleList and ours.lst[-1] is list(ours.lst)[-1]
    raises_like(lambda: ours.lst[10], lambda: theirs.lst[10])
    raises_like(lambda: ours.lst.extend(3), lambda: theirs.lst.extend(3))
    raises_like(lambda: ours.lst(gt.ones(1)), lambda: theirs.lst(torch.ones(1)))


# ==== layers against torch =======================================================================
LAYERS = [
    ("linear", lambda nn: nn.Linear(5, 3), (4, 5)),
    ("linear_nobias", lambda nn: nn.Linear(5, 3, bias=False), (2, 3, 5)),
    ("linear_1d", lambda nn: nn.Linear(5, 3), (5,)),
    ("identity", lambda nn: nn.Identity(3, k=1), (2, 3)),
    ("flatten", lambda nn: nn.Flatten(), (2, 3, 4)),
    ("flatten_0", lambda nn: nn.Flatten(0, 1), (2, 3, 4)),
    ("unflatten", lambda nn: nn.Unflatten(1, (3, 4)), (2, 12)),
    ("relu", lambda nn: nn.ReLU(), (4, 5)),
    ("leaky", lambda nn: nn.LeakyReLU(0.2), (4, 5)),
    ("sigmoid", lambda nn: nn.Sigmoid(), (4, 5)),
    ("tanh", lambda nn: nn.Tanh(), (4, 5)),
    ("gelu", lambda nn: nn.GELU(), (4, 5)),
    ("gelu_tanh", lambda nn: nn.GELU(approximate="tanh"), (4, 5)),
    ("silu", lambda nn: nn.SiLU(), (4, 5)),
    ("mish", lambda nn: nn.Mish(), (4, 5)),
    ("elu", lambda nn: nn.ELU(0.7), (4, 5)),
    ("softplus", lambda nn: nn.Softplus(beta=2.0, threshold=1.5), (4, 5)),
    ("logsigmoid", lambda nn: nn.LogSigmoid(), (4, 5)),
    ("hardtanh", lambda nn: nn.Hardtanh(-0.5, 0.8), (4, 5)),
    ("relu6", lambda nn: nn.ReLU6(), (4, 5)),
    ("softsign", lambda nn: nn.Softsign(), (4, 5)),
    ("threshold", lambda nn: nn.Threshold(0.1, -2.0), (4, 5)),
    ("softmax", lambda nn: nn.Softmax(dim=1), (4, 5)),
    ("softmax_0", lambda nn: nn.Softmax(dim=0), (4, 5)),
    ("softmin", lambda nn: nn.Softmin(dim=-1), (4, 5)),
    ("logsoftmax", lambda nn: nn.LogSoftmax(dim=-1), (2, 4, 5)),
    ("layernorm", lambda nn: nn.LayerNorm(5), (4, 5)),
    ("layernorm_2d", lambda nn: nn.LayerNorm((3, 5), eps=1e-3), (2, 3, 5)),
    ("layernorm_noaffine", lambda nn: nn.LayerNorm(5, elementwise_affine=False), (4, 5)),
    ("layernorm_nobias", lambda nn: nn.LayerNorm(5, bias=False), (3, 4, 5)),
    ("batchnorm_2d", lambda nn: nn.BatchNorm1d(5), (6, 5)),
    ("batchnorm_3d", lambda nn: nn.BatchNorm1d(3, momentum=0.3), (4, 3, 5)),
    ("batchnorm_noaffine", lambda nn: nn.BatchNorm1d(5, affine=False), (6, 5)),
    ("batchnorm_notrack", lambda nn: nn.BatchNorm1d(5, track_running_stats=False), (6, 5)),
    ("batchnorm_cumulative", lambda nn: nn.BatchNorm1d(5, momentum=None), (6, 5)),
    ("batchnorm2d", lambda nn: nn.BatchNorm2d(3), (2, 3, 4, 4)),
    ("inplace", lambda nn: nn.Sequential(nn.Linear(5, 4), nn.ReLU(inplace=True), nn.Linear(4, 4),
                                         nn.LeakyReLU(0.1, inplace=True), nn.Linear(4, 4), nn.ELU(inplace=True),
                                         nn.Linear(4, 4), nn.Hardtanh(-0.5, 0.5, inplace=True), nn.Linear(4, 4),
                                         nn.SiLU(inplace=True), nn.Dropout(0.0, inplace=True)), (3, 5)),
    ("mlp", lambda nn: nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.GELU(), nn.LayerNorm(8),
                                     nn.Linear(8, 4), nn.LogSoftmax(dim=1)), (5, 6)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name,make,shape", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_forward_backward_matches_torch(name, make, shape, dtype):
    torch.manual_seed(0), gt.manual_seed(0)  # fixed weights: the comparison must not depend on luck
    ours, theirs = make(gnn), make(tnn)
    assert repr(ours) == repr(theirs)
    check_module(ours, theirs, rand(*shape, dtype=dtype), steps=3 if "batchnorm" in name else 1)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_batchnorm_running_stats_and_eval(dtype):
    ours, theirs = gnn.BatchNorm1d(4, momentum=0.2), tnn.BatchNorm1d(4, momentum=0.2)
    check_module(ours, theirs, rand(8, 4, dtype=dtype), steps=4)
    assert ours.num_batches_tracked.item() == 4
    ours.eval(), theirs.eval()
    check_module(ours, theirs, rand(3, 4, dtype=dtype, seed=9))  # eval: running stats, not updated
    assert ours.num_batches_tracked.item() == 4
    # eval without running stats normalises with the batch's own statistics
    check_module(gnn.BatchNorm1d(4, track_running_stats=False).eval(),
                 tnn.BatchNorm1d(4, track_running_stats=False).eval(), rand(5, 4, dtype=dtype))


def test_batchnorm_errors_match_torch():
    raises_like(lambda: gnn.BatchNorm1d(3)(gt.randn(2, 3, 4, 5)), lambda: tnn.BatchNorm1d(3)(torch.randn(2, 3, 4, 5)))
    raises_like(lambda: gnn.BatchNorm1d(4)(gt.randn(2, 3)), lambda: tnn.BatchNorm1d(4)(torch.randn(2, 3)))
    raises_like(lambda: gnn.BatchNorm1d(3)(gt.randn(1, 3)), lambda: tnn.BatchNorm1d(3)(torch.randn(1, 3)))
    raises_like(lambda: gnn.BatchNorm2d(3)(gt.randn(2, 3)), lambda: tnn.BatchNorm2d(3)(torch.randn(2, 3)))
    gnn.BatchNorm1d(3).eval()(gt.randn(1, 3))  # one sample is fine in eval


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_embedding_matches_torch(dtype):
    idx = np.array([[1, 0, 4], [4, 4, 2]])
    for kwargs in ({}, {"padding_idx": 0}, {"padding_idx": -1}, {"scale_grad_by_freq": True}):
        ours, theirs = gnn.Embedding(5, 3, **kwargs), tnn.Embedding(5, 3, **kwargs)
        assert repr(ours) == repr(theirs)
        theirs.to(T_DTYPE[dtype]), ours.to(G_DTYPE[dtype])
        copy_weights(ours, theirs)
        yg, yt = ours(gt.tensor(idx)), theirs(torch.tensor(idx))
        close(yg, yt, dtype)
        up = rand(2, 3, 3, dtype=dtype)
        yg.backward(gt.tensor(up)), yt.backward(torch.tensor(up))
        close(ours.weight.grad, theirs.weight.grad, dtype)
    assert gnn.Embedding(5, 3, padding_idx=2).weight[2].tolist() == [0.0, 0.0, 0.0]
    pre = gt.randn(4, 2)
    frozen = gnn.Embedding.from_pretrained(pre)
    assert not frozen.weight.requires_grad and frozen.weight.tolist() == pre.tolist()
    assert gnn.Embedding.from_pretrained(pre, freeze=False).weight.requires_grad
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        gnn.Embedding(3, 2, padding_idx=3)
    raises_like(lambda: gF.embedding(gt.tensor([5]), gt.randn(3, 2)),
                lambda: tF.embedding(torch.tensor([5]), torch.randn(3, 2)))
    raises_like(lambda: gF.embedding(gt.tensor([1.0]), gt.randn(3, 2)),
                lambda: tF.embedding(torch.tensor([1.0]), torch.randn(3, 2)))


def test_embedding_max_norm_renormalises_rows():
    w = rand(5, 3) * 3
    ours, theirs = gnn.Embedding(5, 3, max_norm=1.0), tnn.Embedding(5, 3, max_norm=1.0)
    with gt.no_grad(), torch.no_grad():
        ours.weight.copy_(gt.tensor(w)), theirs.weight.copy_(torch.tensor(w))
    close(ours(gt.tensor([0, 2, 2])), theirs(torch.tensor([0, 2, 2])))
    close(ours.weight, theirs.weight)


def test_dropout_train_and_eval():
    x = gt.ones(200, 100)
    gt.manual_seed(0)
    drop = gnn.Dropout(0.3)
    y = drop(x)
    kept = (y != 0).float().mean().item()
    assert abs(kept - 0.7) < 0.02
    assert set(np.unique(y.numpy()).tolist()) == {0.0, np.float32(1 / 0.7)}
    assert abs(y.mean().item() - 1.0) < 0.03
    gt.manual_seed(0)
    assert gt.equal(drop(x), y)  # same seed, same mask
    drop.eval()
    assert drop(x) is x
    assert gF.dropout(x, 0.0) is x and gF.dropout(x, 0.5, training=False) is x
    assert gF.dropout(x, 1.0).abs().sum().item() == 0
    xr = gt.ones(50, requires_grad=True)
    out = gF.dropout(xr, 0.5)
    out.sum().backward()
    assert gt.equal(xr.grad, out.detach())  # the gradient is the scaled mask
    z = gt.ones(10)
    gF.dropout(z, 0.5, inplace=True)
    assert set(z.tolist()) <= {0.0, 2.0}
    raises_like(lambda: gnn.Dropout(1.5), lambda: tnn.Dropout(1.5))
    raises_like(lambda: gF.dropout(x, -0.1), lambda: tF.dropout(torch.ones(1), -0.1))


# ==== functional activations and helpers ========================================================
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name,call", [
    ("relu", lambda F, x: F.relu(x)),
    ("leaky", lambda F, x: F.leaky_relu(x, 0.1)),
    ("gelu", lambda F, x: F.gelu(x)),
    ("gelu_tanh", lambda F, x: F.gelu(x, approximate="tanh")),
    ("silu", lambda F, x: F.silu(x)),
    ("elu", lambda F, x: F.elu(x)),
    ("softplus", lambda F, x: F.softplus(x)),
    ("logsigmoid", lambda F, x: F.logsigmoid(x)),
    ("hardtanh", lambda F, x: F.hardtanh(x)),
    ("sigmoid", lambda F, x: F.sigmoid(x)),
    ("tanh", lambda F, x: F.tanh(x)),
    ("softmax", lambda F, x: F.softmax(x, dim=-1)),
    ("log_softmax", lambda F, x: F.log_softmax(x, 1)),
    ("normalize", lambda F, x: F.normalize(x)),
    ("normalize_p1", lambda F, x: F.normalize(x, p=1.0, dim=0)),
    ("cosine", lambda F, x: F.cosine_similarity(x, x * 2 + 1)),
    ("layer_norm", lambda F, x: F.layer_norm(x, (7,))),
    ("pad", lambda F, x: F.pad(x, (1, 2, 0, 1), value=3.0)),
    ("pad_crop", lambda F, x: F.pad(x, (-1, 2, 1, -2))),
    ("pad_reflect", lambda F, x: F.pad(x[None], (2, 3), mode="reflect")),
    ("pad_replicate", lambda F, x: F.pad(x[None], (2, 3), mode="replicate")),
    ("pad_circular", lambda F, x: F.pad(x[None], (2, 1), mode="circular")),
])
def test_functional_matches_torch(name, call, dtype):
    a = rand(5, 7, dtype=dtype) * 3
    a[0, :3] = [0.0, 30.0, -30.0]  # the edges: kinks and saturation
    # float32 GELU: 1 + erf(x / sqrt 2) cancels in the left tail, and torch's own result there is
    # ~1e-6 off the exact value, so compare with that absolute tolerance
    atol = 1e-5 if name.startswith("gelu") and dtype is np.float32 else None
    xg, xt = pair(a, requires_grad=True)
    yg, yt = call(gF, xg), call(tF, xt)
    close(yg, yt, dtype, atol)
    assert (yg.grad_fn is None) == (yt.grad_fn is None)
    up = rand(*yt.shape, dtype=dtype, seed=3)
    yg.backward(gt.tensor(up)), yt.backward(torch.tensor(up))
    close(xg.grad, xt.grad, dtype, atol)
    # piecewise-linear activations give +0 (not -0) where they block the gradient, as torch does
    # (printing -0.0000 would differ)
    zero = arr(xt.grad) == 0
    if name in ("leaky", "hardtanh"):
        assert np.array_equal(np.signbit(arr(xg.grad))[zero], np.signbit(arr(xt.grad))[zero])


def test_grad_fn_names_match_torch():
    xg, xt = pair(rand(4, 5, dtype=np.float64), requires_grad=True)
    tg, tt = pair(np.array([1, 0, 3, 2]))
    for call in (lambda F, x, t: F.cross_entropy(x, t), lambda F, x, t: F.cross_entropy(x, t, reduction="none"),
                 lambda F, x, t: F.nll_loss(x, t), lambda F, x, t: F.mse_loss(x, x.detach() + 1),
                 lambda F, x, t: F.l1_loss(x, x.detach() + 1),
                 lambda F, x, t: F.binary_cross_entropy(x.sigmoid(), x.detach().sigmoid()),
                 lambda F, x, t: F.binary_cross_entropy_with_logits(x, x.detach().sigmoid()),
                 lambda F, x, t: F.gelu(x), lambda F, x, t: F.silu(x), lambda F, x, t: F.leaky_relu(x),
                 lambda F, x, t: F.elu(x), lambda F, x, t: F.softplus(x), lambda F, x, t: F.logsigmoid(x),
                 lambda F, x, t: F.hardtanh(x), lambda F, x, t: F.layer_norm(x, (5,)),
                 lambda F, x, t: F.batch_norm(x, None, None, training=True), lambda F, x, t: F.pad(x, (1, 1)),
                 lambda F, x, t: F.embedding(t, x), lambda F, x, t: F.dropout(x, 0.5),
                 lambda F, x, t: F.linear(x, x)):
        assert call(gF, xg, tg).grad_fn.name() == call(tF, xt, tt).grad_fn.name()


def test_one_hot_matches_torch():
    for values, n in (([0, 2, 1], -1), ([[1, 3], [0, 0]], 5), ([], 3)):
        ours = gF.one_hot(gt.tensor(values, dtype=gt.int64), n)
        theirs = tF.one_hot(torch.tensor(values, dtype=torch.int64), n)
        assert ours.dtype == gt.int64 and ours.tolist() == theirs.tolist() and ours.shape == theirs.shape
    bad = (([1.0], -1, None), ([-1], -1, None), ([5], 3, None), ([], -1, "int64"), ([1], -1, "int32"))
    for values, n, dtype in bad:
        raises_like(lambda: gF.one_hot(gt.tensor(values, dtype=getattr(gt, dtype) if dtype else None), n),
                    lambda: tF.one_hot(torch.tensor(values, dtype=getattr(torch, dtype) if dtype else None), n))


def test_functional_errors_match_torch():
    x = rand(3, 5)
    raises_like(lambda: gF.layer_norm(gt.tensor(x), (4,)), lambda: tF.layer_norm(torch.tensor(x), (4,)))
    raises_like(lambda: gnn.Linear(4, 3)(gt.randn(2, 5)), lambda: tnn.Linear(4, 3)(torch.randn(2, 5)))
    raises_like(lambda: gF.pad(gt.tensor(x), (1,)), lambda: tF.pad(torch.tensor(x), (1,)))
    raises_like(lambda: gF.pad(gt.tensor(x), (1, 1, 1, 1, 1, 1)), lambda: tF.pad(torch.tensor(x), (1, 1, 1, 1, 1, 1)))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        assert gF.softmax(gt.tensor(x)).shape == (3, 5)


# ==== losses ====================================================================================
REDUCTIONS = ["mean", "sum", "none"]


def check_loss(call, inputs, dtype, grad_inputs=(0,)):
    """call(F, *tensors) in both libraries: same value and same gradients for the listed inputs."""
    ours = [gt.tensor(a, requires_grad=i in grad_inputs) for i, a in enumerate(inputs)]
    theirs = [torch.tensor(a, requires_grad=i in grad_inputs) for i, a in enumerate(inputs)]
    yg, yt = call(gF, *ours), call(tF, *theirs)
    close(yg, yt, dtype)
    if not grad_inputs:
        return
    up = rand(*yt.shape, dtype=dtype, seed=5) if yt.dim() else np.asarray(1.5, dtype=dtype)
    yg.backward(gt.tensor(up)), yt.backward(torch.tensor(up))
    for i in grad_inputs:
        close(ours[i].grad, theirs[i].grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(reduction, dtype):
    a, b = rand(4, 5, dtype=dtype), rand(4, 5, dtype=dtype, seed=1)
    for call in (lambda F, x, t: F.mse_loss(x, t, reduction=reduction),
                 lambda F, x, t: F.l1_loss(x, t, reduction=reduction),
                 lambda F, x, t: F.smooth_l1_loss(x, t, reduction=reduction, beta=0.5),
                 lambda F, x, t: F.huber_loss(x, t, reduction=reduction, delta=0.7)):
        check_loss(call, (a, b), dtype, grad_inputs=(0, 1))
    w = np.abs(rand(4, 5, dtype=dtype, seed=2))
    for call in (lambda F, x, t, w: F.mse_loss(x, t, reduction=reduction, weight=w),
                 lambda F, x, t, w: F.l1_loss(x, t, reduction=reduction, weight=w)):
        check_loss(call, (a, b, w), dtype, grad_inputs=(0, 1))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_module_losses(reduction, dtype):
    logits, probs = rand(6, 4, dtype=dtype), 1 / (1 + np.exp(-rand(6, 4, dtype=dtype, seed=1)))
    target = np.random.default_rng(0).integers(0, 4, 6)
    w = np.abs(rand(4, dtype=dtype, seed=3)) + 0.1
    cases = [
        (lambda nn: nn.MSELoss(reduction=reduction), (logits, probs)),
        (lambda nn: nn.L1Loss(reduction=reduction), (logits, probs)),
        (lambda nn: nn.CrossEntropyLoss(reduction=reduction), (logits, target)),
        (lambda nn: nn.NLLLoss(reduction=reduction), (logits, target)),
        (lambda nn: nn.BCELoss(reduction=reduction), (probs, probs[::-1].copy())),
        (lambda nn: nn.BCEWithLogitsLoss(reduction=reduction), (logits, probs)),
    ]
    for make, (a, b) in cases:
        ours, theirs = make(gnn), make(tnn)
        assert repr(ours) == repr(theirs)
        xg, xt = pair(a, requires_grad=True)
        yg, yt = ours(xg, gt.tensor(b)), theirs(xt, torch.tensor(b))
        close(yg, yt, dtype)
        yg.sum().backward(), yt.sum().backward()
        close(xg.grad, xt.grad, dtype)
    weighted = [(lambda nn, lib: nn.CrossEntropyLoss(weight=lib.tensor(w), reduction=reduction, ignore_index=2)),
                (lambda nn, lib: nn.NLLLoss(weight=lib.tensor(w), reduction=reduction)),
                (lambda nn, lib: nn.BCEWithLogitsLoss(weight=lib.tensor(w), pos_weight=lib.tensor(w[::-1].copy()),
                                                      reduction=reduction)),
                (lambda nn, lib: nn.BCELoss(weight=lib.tensor(w), reduction=reduction))]
    data = [(logits, target), (logits, target), (logits, probs), (probs, probs[::-1].copy())]
    for make, (a, b) in zip(weighted, data):
        ours, theirs = make(gnn, gt), make(tnn, torch)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        xg, xt = pair(a, requires_grad=True)
        yg, yt = ours(xg, gt.tensor(b)), theirs(xt, torch.tensor(b))
        close(yg, yt, dtype)
        yg.sum().backward(), yt.sum().backward()
        close(xg.grad, xt.grad, dtype)


CE_CASES = [
    ("plain", (8, 5), {}),
    ("weight", (8, 5), {"weight": True}),
    ("ignore", (8, 5), {"ignore_index": 1}),
    ("weight_ignore", (8, 5), {"weight": True, "ignore_index": 2}),
    ("smooth", (8, 5), {"label_smoothing": 0.2}),
    ("smooth_weight_ignore", (8, 5), {"label_smoothing": 0.1, "weight": True, "ignore_index": 0}),
    ("kdim", (3, 4, 2, 5), {}),
    ("kdim_weight_ignore", (3, 4, 5), {"weight": True, "ignore_index": 3}),
    ("kdim_smooth", (3, 4, 5), {"label_smoothing": 0.3}),
    ("1d", (5,), {}),
    ("1d_weight", (5,), {"weight": True}),
    ("probs", (6, 4), {"probs": True}),
    ("probs_weight_smooth", (6, 4), {"probs": True, "weight": True, "label_smoothing": 0.2}),
    ("probs_kdim", (2, 4, 3), {"probs": True}),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,shape,opts", CE_CASES, ids=[c[0] for c in CE_CASES])
def test_cross_entropy_matches_torch(name, shape, opts, reduction, dtype):
    rng = np.random.default_rng(1)
    x = rand(*shape, dtype=dtype) * 2
    n_class = shape[1] if len(shape) > 1 else shape[0]
    if opts.get("probs"):
        t = rng.random(shape).astype(dtype)
        t /= t.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)
    else:
        tshape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
        t = rng.integers(0, n_class, tshape)
    w = np.abs(rand(n_class, dtype=dtype, seed=4)) + 0.1 if opts.get("weight") else None
    kwargs = {k: v for k, v in opts.items() if k in ("ignore_index", "label_smoothing")}

    def call(F, xx, tt):
        lib = gt if F is gF else torch
        return F.cross_entropy(xx, tt, weight=None if w is None else lib.tensor(w), reduction=reduction, **kwargs)

    check_loss(call, (x, t), dtype)
    check_loss(lambda F, xx, tt: (F.nll_loss(F.log_softmax(xx, 1), tt, reduction=reduction)
                                  if xx.dim() > 1 and not opts.get("probs") else xx.sum()), (x, t), dtype)


def test_cross_entropy_mlp_benchmark_shape():
    """The hot path: (64, 10) float32 logits, int64 targets, mean."""
    x = rand(64, 10) * 4
    t = np.random.default_rng(0).integers(0, 10, 64)
    check_loss(lambda F, a, b: F.cross_entropy(a, b), (x, t), np.float32)
    check_loss(lambda F, a, b: F.cross_entropy(a, b, reduction="sum"), (x, t), np.float32)
    big = rand(4, 3, dtype=np.float64) * 1000  # stable for huge logits
    check_loss(lambda F, a, b: F.cross_entropy(a, b), (big, np.array([0, 1, 2, 0])), np.float64)


def test_cross_entropy_all_ignored_is_nan_and_sum_zero():
    x = gt.randn(3, 4, requires_grad=True)
    t = gt.tensor([-100, -100, -100])
    assert math.isnan(gF.cross_entropy(x, t).item())
    loss = gF.cross_entropy(x, t, reduction="sum")
    assert loss.item() == 0.0
    loss.backward()
    assert x.grad.abs().sum().item() == 0.0
    empty = gF.cross_entropy(gt.randn(0, 4), gt.zeros(0, dtype=gt.int64))
    assert math.isnan(empty.item())


@pytest.mark.parametrize("case", [
    "oob", "neg", "batch", "2d_target", "int32", "float_diff_shape", "int_same_shape", "probs_ignore",
    "0d_input", "3d_target", "3d_batch", "1d_two_targets", "weight_size", "weight_dtype", "reduction",
    "smoothing", "int_input", "kdim_oob",
])
def test_cross_entropy_errors_match_torch(case):
    def args(lib):
        x = lib.tensor(rand(3, 5))
        t = lib.tensor([1, 0, 2])
        return {
            "oob": (x, lib.tensor([1, 10, 2])), "neg": (x, lib.tensor([1, -1, 2])),
            "batch": (x, lib.tensor([1, 0, 2, 3])), "2d_target": (x, lib.zeros(3, 2, dtype=lib.int64)),
            "int32": (x, lib.tensor([1, 0, 2], dtype=lib.int32)), "float_diff_shape": (x, lib.ones(3)),
            "int_same_shape": (x, lib.zeros(3, 5, dtype=lib.int64)),
            "probs_ignore": (x, lib.ones(3, 5), {"ignore_index": 1}),
            "0d_input": (lib.tensor(1.0), lib.tensor(0)),
            "3d_target": (lib.ones(2, 3, 4), lib.zeros(2, 5, dtype=lib.int64)),
            "3d_batch": (lib.ones(2, 3, 4), lib.zeros(3, 4, dtype=lib.int64)),
            "1d_two_targets": (lib.ones(5), lib.tensor([1, 2])),
            "weight_size": (x, t, {"weight": lib.ones(4)}),
            "weight_dtype": (x, t, {"weight": lib.ones(5, dtype=lib.float64)}),
            "reduction": (x, t, {"reduction": "foo"}), "smoothing": (x, t, {"label_smoothing": 1.5}),
            "int_input": (lib.ones(3, 5, dtype=lib.int64), t),
            "kdim_oob": (lib.ones(2, 3, 4), lib.full((2, 4), 7)),
        }[case]

    def run(F, lib):
        a = args(lib)
        return F.cross_entropy(*a[:2], **(a[2] if len(a) > 2 else {}))

    raises_like(lambda: run(gF, gt), lambda: run(tF, torch))


def test_other_loss_errors_match_torch():
    raises_like(lambda: gF.nll_loss(gt.tensor(1.0), gt.tensor(0)),
                lambda: tF.nll_loss(torch.tensor(1.0), torch.tensor(0)))
    raises_like(lambda: gF.mse_loss(gt.ones(3), gt.ones(3), reduction="x"),
                lambda: tF.mse_loss(torch.ones(3), torch.ones(3), reduction="x"))
    raises_like(lambda: gF.mse_loss(gt.ones(3, dtype=gt.int64), gt.ones(3, dtype=gt.int64)),
                lambda: tF.mse_loss(torch.ones(3, dtype=torch.int64), torch.ones(3, dtype=torch.int64)))
    raises_like(lambda: gF.binary_cross_entropy(gt.tensor([1.5]), gt.tensor([1.0])),
                lambda: tF.binary_cross_entropy(torch.tensor([1.5]), torch.tensor([1.0])))
    raises_like(lambda: gF.binary_cross_entropy(gt.tensor([0.5]), gt.tensor([1.5])),
                lambda: tF.binary_cross_entropy(torch.tensor([0.5]), torch.tensor([1.5])))
    raises_like(lambda: gF.binary_cross_entropy(gt.rand(3), gt.rand(3, 1)),
                lambda: tF.binary_cross_entropy(torch.rand(3), torch.rand(3, 1)))
    raises_like(lambda: gF.binary_cross_entropy_with_logits(gt.rand(3), gt.rand(3, 1)),
                lambda: tF.binary_cross_entropy_with_logits(torch.rand(3), torch.rand(3, 1)))
    with pytest.warns(UserWarning, match="Using a target size"):
        gF.mse_loss(gt.ones(3, 1), gt.ones(3))
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        assert gnn.MSELoss(size_average=False).reduction == "sum"


def test_bce_clamps_log_and_handles_extreme_logits():
    check_loss(lambda F, x, t: F.binary_cross_entropy(x, t, reduction="none"),
               (np.array([0.0, 1.0, 0.3, 1e-30]), np.array([1.0, 0.0, 0.5, 1.0])), np.float64, grad_inputs=())
    check_loss(lambda F, x, t: F.binary_cross_entropy(x, t),
               (np.array([0.2, 0.9, 0.3]), np.array([1.0, 0.0, 0.5])), np.float64, grad_inputs=(0, 1))
    check_loss(lambda F, x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
               (np.array([-200.0, 200.0, 0.5, 30.0]), np.array([1.0, 0.0, 0.5, 1.0])), np.float64, grad_inputs=(0, 1))
    pw = np.array([2.0, 1.0, 3.0, 0.5])
    check_loss(lambda F, x, t: F.binary_cross_entropy_with_logits(
        x, t, pos_weight=(gt if F is gF else torch).tensor(pw)),
        (np.array([-50.0, 50.0, 0.5, 3.0]), np.array([1.0, 0.0, 0.5, 1.0])), np.float64, grad_inputs=(0, 1))


def test_kl_div_matches_torch():
    logp = np.log(np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]))
    q = np.array([[0.0, 0.5, 0.5], [0.3, 0.3, 0.4]])
    for reduction in ("batchmean", "sum", "none"):
        check_loss(lambda F, x, t: F.kl_div(x, t, reduction=reduction), (logp, q), np.float64)
        check_loss(lambda F, x, t: F.kl_div(x, t, reduction=reduction, log_target=True), (logp, logp[::-1].copy()),
                   np.float64)


# ==== gradcheck and double backward ===========================================================================
def _g64(*shape, seed=0, requires_grad=True):
    return gt.tensor(rand(*shape, dtype=np.float64, seed=seed), requires_grad=requires_grad)


GRADCHECKS = [
    ("ce_mean", lambda x: gF.cross_entropy(x, gt.tensor([0, 2, 1])), (3, 4)),
    ("ce_weight_ignore_sum", lambda x: gF.cross_entropy(x, gt.tensor([0, 2, 1]),
                                                        weight=gt.tensor([1.0, 2, 3, 4], dtype=gt.float64),
                                                        ignore_index=1, reduction="sum"), (3, 4)),
    ("ce_kdim_none", lambda x: gF.cross_entropy(x, gt.tensor([[0, 2], [1, 1]]), reduction="none"), (2, 3, 2)),
    ("ce_smooth", lambda x: gF.cross_entropy(x, gt.tensor([0, 2, 1]), label_smoothing=0.2), (3, 4)),
    ("ce_probs", lambda x: gF.cross_entropy(x, gt.tensor([[0.2, 0.8], [0.5, 0.5]], dtype=gt.float64)), (2, 2)),
    ("nll", lambda x: gF.nll_loss(x, gt.tensor([0, 2, 1]), reduction="none"), (3, 4)),
    ("layer_norm", lambda x: gF.layer_norm(x, (4,), _g64(4, seed=1), _g64(4, seed=2)), (3, 4)),
    ("batch_norm", lambda x: gF.batch_norm(x, None, None, _g64(4, seed=1), _g64(4, seed=2), training=True), (3, 4)),
    ("batch_norm_eval", lambda x: gF.batch_norm(x, gt.zeros(4, dtype=gt.float64) + 0.3,
                                                gt.ones(4, dtype=gt.float64) * 2, _g64(4, seed=1), None), (3, 4)),
    ("gelu", lambda x: gF.gelu(x), (3, 4)),
    ("gelu_tanh", lambda x: gF.gelu(x, approximate="tanh"), (3, 4)),
    ("silu", gF.silu, (3, 4)), ("elu", gF.elu, (3, 4)), ("softplus", lambda x: gF.softplus(x, 2.0, 1.0), (3, 4)),
    ("logsigmoid", gF.logsigmoid, (3, 4)), ("leaky", gF.leaky_relu, (3, 4)), ("hardtanh", gF.hardtanh, (3, 4)),
    ("mse", lambda x: gF.mse_loss(x, gt.zeros(3, 4, dtype=gt.float64) + 0.5), (3, 4)),
    ("bce", lambda x: gF.binary_cross_entropy(x.sigmoid(), gt.full((3, 4), 0.3, dtype=gt.float64)), (3, 4)),
    ("bce_logits", lambda x: gF.binary_cross_entropy_with_logits(
        x, gt.full((3, 4), 0.3, dtype=gt.float64), pos_weight=gt.full((4,), 2.0, dtype=gt.float64)), (3, 4)),
    ("embedding", lambda w: gF.embedding(gt.tensor([[0, 2], [2, 2]]), w, padding_idx=1), (3, 4)),
    ("pad", lambda x: gF.pad(x, (1, -1, 2, 0), value=2.0), (3, 4)),
]


@pytest.mark.parametrize("name,fn,shape", GRADCHECKS, ids=[c[0] for c in GRADCHECKS])
def test_gradcheck_and_gradgradcheck(name, fn, shape):
    x = _g64(*shape)
    assert gt.autograd.gradcheck(fn, (x,))
    if name not in ("leaky", "hardtanh", "embedding", "nll", "pad"):  # those are linear in x: no curvature
        assert gt.autograd.gradgradcheck(fn, (x,))


def test_cross_entropy_double_backward_matches_torch():
    a = rand(4, 3, dtype=np.float64)
    t = np.array([0, 2, 1, 2])
    results = []
    for lib, F in ((gt, gF), (torch, tF)):
        x = lib.tensor(a, requires_grad=True)
        loss = F.cross_entropy(x, lib.tensor(t))
        (g,) = lib.autograd.grad(loss, x, create_graph=True)
        penalty = (g * g).sum()
        (gg,) = lib.autograd.grad(penalty, x)
        results.append((loss, g, gg))
    for ours, theirs in zip(*results):
        close(ours, theirs, np.float64)


def test_fused_backward_recomputes_under_create_graph():
    """Gradient penalties through layer_norm / gelu / batch_norm: second derivatives like torch."""
    a = rand(4, 3, dtype=np.float64)
    for name in ("layer_norm", "gelu", "batch_norm", "mse", "silu"):
        results = []
        for lib, F in ((gt, gF), (torch, tF)):
            x = lib.tensor(a, requires_grad=True)
            y = {"layer_norm": lambda: F.layer_norm(x, (3,)), "gelu": lambda: F.gelu(x),
                 "batch_norm": lambda: F.batch_norm(x, None, None, training=True),
                 "mse": lambda: F.mse_loss(x, x.detach() * 0.5, reduction="none"), "silu": lambda: F.silu(x)}[name]()
            (g,) = lib.autograd.grad((y * y * y).sum(), x, create_graph=True)
            (gg,) = lib.autograd.grad((g * g).sum(), x)
            results.append((g, gg))
        for ours, theirs in zip(*results):
            close(ours, theirs, np.float64)


# ==== init ================================================================================
def test_calculate_gain_and_fans_match_torch():
    for nl, param in (("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                      ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None)):
        assert gnn.init.calculate_gain(nl, param) == tnn.init.calculate_gain(nl, param)
    raises_like(lambda: gnn.init.calculate_gain("foo"), lambda: tnn.init.calculate_gain("foo"))
    raises_like(lambda: gnn.init.calculate_gain("leaky_relu", True),
                lambda: tnn.init.calculate_gain("leaky_relu", True))
    for shape in ((3, 4), (5, 2, 3, 3)):
        assert gnn.init._calculate_fan_in_and_fan_out(gt.empty(shape)) == tnn.init._calculate_fan_in_and_fan_out(
            torch.empty(shape))
    raises_like(lambda: gnn.init._calculate_fan_in_and_fan_out(gt.empty(3)),
                lambda: tnn.init._calculate_fan_in_and_fan_out(torch.empty(3)))
    raises_like(lambda: gnn.init.kaiming_uniform_(gt.empty(3, 4), mode="fan"),
                lambda: tnn.init.kaiming_uniform_(torch.empty(3, 4), mode="fan"))


@pytest.mark.parametrize("name,fn,bound,std", [
    ("uniform", lambda t, g: gnn.init.uniform_(t, -2.0, 3.0, generator=g), (-2.0, 3.0), 5 / math.sqrt(12)),
    ("normal", lambda t, g: gnn.init.normal_(t, 1.0, 0.5, generator=g), None, 0.5),
    ("xavier_uniform", lambda t, g: gnn.init.xavier_uniform_(t, gain=2.0, generator=g),
     (-2 * math.sqrt(6 / 500), 2 * math.sqrt(6 / 500)), 2 * math.sqrt(2 / 500)),
    ("xavier_normal", lambda t, g: gnn.init.xavier_normal_(t, generator=g), None, math.sqrt(2 / 500)),
    ("kaiming_uniform", lambda t, g: gnn.init.kaiming_uniform_(t, a=math.sqrt(5), generator=g),
     (-1 / math.sqrt(300), 1 / math.sqrt(300)), 1 / math.sqrt(900)),
    ("kaiming_normal_out", lambda t, g: gnn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu", generator=g),
     None, math.sqrt(2 / 200)),
    ("trunc_normal", lambda t, g: gnn.init.trunc_normal_(t, 0.0, 1.0, -0.5, 1.0, generator=g), (-0.5, 1.0), None),
])
def test_init_distributions(name, fn, bound, std):
    t = gnn.Parameter(gt.empty(200, 300))
    out = fn(t, gt.Generator().manual_seed(3))
    assert out is t and t.requires_grad and t.grad_fn is None
    v = t.detach().numpy()
    if bound is not None:
        assert bound[0] <= v.min() and v.max() <= bound[1]
        assert v.min() < bound[0] + 0.05 * (bound[1] - bound[0])  # the range is actually used
    if std is not None:
        assert abs(v.std() - std) < 0.02 * std
    again = fn(gnn.Parameter(gt.empty(200, 300)), gt.Generator().manual_seed(3))
    assert gt.equal(again, t)  # the generator decides the values


def test_deterministic_inits():
    t = gnn.Parameter(gt.empty(3, 4))
    assert gnn.init.zeros_(t).tolist() == [[0.0] * 4] * 3
    assert gnn.init.ones_(t).sum().item() == 12
    assert gnn.init.constant_(t, 0.5).max().item() == 0.5
    assert gnn.init.eye_(t).tolist() == torch.nn.init.eye_(torch.empty(3, 4)).tolist()
    raises_like(lambda: gnn.init.eye_(gt.empty(3)), lambda: tnn.init.eye_(torch.empty(3)))
    d = gnn.init.dirac_(gt.empty(4, 2, 3))
    assert d.tolist() == tnn.init.dirac_(torch.empty(4, 2, 3)).tolist()
    q = gnn.init.orthogonal_(gt.empty(3, 5), gain=2.0).numpy()
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(3), atol=1e-5)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        gnn.init.kaiming_uniform_(gt.empty(0, 3))


def test_linear_default_init_bounds():
    gt.manual_seed(0)
    lin = gnn.Linear(400, 50)
    bound = 1 / math.sqrt(400)
    for p in (lin.weight, lin.bias):
        v = p.detach().numpy()
        assert -bound <= v.min() and v.max() <= bound and v.max() > 0.9 * bound
    assert abs(lin.weight.detach().numpy().std() - bound / math.sqrt(3)) < 0.02 * bound
    assert lin.weight.dtype == gt.float32 and gnn.Linear(2, 2, dtype=gt.float64).weight.dtype == gt.float64


# ==== utils =================================================================================
@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    grads = [rand(3, 4, seed=1), rand(5, seed=2), rand(2, 2, seed=3)]
    params = {}
    for lib, nn in ((gt, gnn), (torch, tnn)):
        ps = [nn.Parameter(lib.zeros(*g.shape)) for g in grads] + [nn.Parameter(lib.zeros(2))]  # last: no grad
        for p, g in zip(ps, grads):
            p.grad = lib.tensor(g)
        total = nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
        params[lib] = (ps, total)
    (ps, total), (pt, ttotal) = params[gt], params[torch]
    assert total.dtype == gt.float32 and total.shape == ()
    close(total, ttotal)
    for a, b in zip(ps[:3], pt[:3]):
        close(a.grad, b.grad)
    assert ps[3].grad is None


def test_clip_grad_edge_cases():
    p = gnn.Parameter(gt.ones(3))
    assert gnn.utils.clip_grad_norm_([p], 1.0).item() == 0.0  # no gradients at all
    p.grad = gt.tensor([3.0, 4.0, 0.0])
    total = gnn.utils.clip_grad_norm_(p, 1.0)  # a single tensor is accepted
    assert total.item() == 5.0 and abs(p.grad.norm().item() - 1.0) < 1e-5
    p.grad = gt.tensor([float("nan"), 1.0, 0.0])
    raises_like(lambda: gnn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True),
                lambda: tnn.utils.clip_grad_norm_([_with_grad(torch.tensor([float("nan"), 1.0, 0.0]))], 1.0,
                                                  error_if_nonfinite=True))
    p.grad = gt.tensor([-3.0, 0.5, 2.0])
    assert gnn.utils.clip_grad_value_([p], 1.0) is None
    assert p.grad.tolist() == [-1.0, 0.5, 1.0]


def _with_grad(g):
    p = tnn.Parameter(torch.zeros_like(g))
    p.grad = g
    return p


def test_parameters_to_vector_and_back():
    model = gnn.Sequential(gnn.Linear(3, 2), gnn.Linear(2, 1))
    vec = gnn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (11,)
    assert vec[:6].tolist() == model[0].weight.reshape(-1).tolist()
    gnn.utils.vector_to_parameters(gt.arange(11, dtype=gt.float32), model.parameters())
    assert model[0].weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and model[1].bias.tolist() == [10.0]
    assert isinstance(model[0].weight, gnn.Parameter)
    raises_like(lambda: gnn.utils.vector_to_parameters([1.0], model.parameters()),
                lambda: tnn.utils.vector_to_parameters([1.0], tnn.Linear(1, 1).parameters()))


# ==== a small end-to-end training run ==========================================================================
def test_mlp_training_matches_torch_step_by_step():
    """784-128-10 MLP with F.cross_entropy and plain SGD: same losses as torch for a few steps."""
    rng = np.random.default_rng(0)
    x = rng.random((32, 784), dtype=np.float32)
    y = rng.integers(0, 10, 32)
    tmodel = tnn.Sequential(tnn.Linear(784, 128), tnn.ReLU(), tnn.Linear(128, 10))
    gmodel = gnn.Sequential(gnn.Linear(784, 128), gnn.ReLU(), gnn.Linear(128, 10))
    copy_weights(gmodel, tmodel)
    for _ in range(5):
        losses = []
        for lib, F, model in ((gt, gF, gmodel), (torch, tF, tmodel)):
            loss = F.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
            model.zero_grad()
            loss.backward()
            with lib.no_grad():
                for p in model.parameters():
                    p -= 0.5 * p.grad
            losses.append(loss.item())
        assert abs(losses[0] - losses[1]) < 1e-5 * abs(losses[1])


def test_state_dict_hooks_and_extra_state():
    class WithExtra(gnn.Module):
        def __init__(self):
            super().__init__()
            self.lin = gnn.Linear(1, 1)
            self.note = "a"

        def get_extra_state(self):
            return {"note": self.note}

        def set_extra_state(self, state):
            self.note = state["note"]

    src, dst = WithExtra(), WithExtra()
    src.note = "b"
    calls = []
    src.register_state_dict_pre_hook(lambda m, prefix, keep_vars: calls.append(("pre", prefix)))
    src.register_state_dict_post_hook(lambda m, sd, prefix, meta: calls.append(("post", sorted(sd))))
    sd = src.state_dict()
    assert list(sd) == ["_extra_state", "lin.weight", "lin.bias"]
    assert calls == [("pre", ""), ("post", ["_extra_state", "lin.bias", "lin.weight"])]
    seen = []
    dst.register_load_state_dict_pre_hook(lambda m, sd, prefix, *rest: seen.append((m is dst, prefix)))
    dst.register_load_state_dict_post_hook(lambda m, keys: keys.unexpected_keys.clear())
    sd["junk"] = gt.ones(1)
    assert dst.load_state_dict(sd) == ([], [])  # the post hook forgave the unexpected key
    assert dst.note == "b" and seen == [(True, "")]
    del sd["_extra_state"]
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "_extra_state"'):
        WithExtra().load_state_dict(sd)


def test_relu_blocked_gradient_is_positive_zero():
    # torch gives +0.0 where ReLU blocks a negative gradient (seed 003 prints 'dL/db1: tensor([-0.0975, 0.0000, ...')
    x = gt.tensor([-1.0, 2.0], requires_grad=True)
    (gF.relu(x) * -1).sum().backward()
    assert not np.signbit(x.grad.numpy()[0])


@pytest.mark.parametrize("x_dtype, w_dtype, b_dtype", [
    ("float64", "float32", None), ("float32", "float64", None), ("float64", "float32", "float32"),
    ("float32", "float32", "float64"), ("float32", "float64", "float64"), ("float64", "float64", "float32"),
    ("float16", "float32", None)])
@pytest.mark.parametrize("x_shape", [(3,), (2, 3), (2, 2, 3)])
def test_linear_does_not_promote_mixed_dtypes(x_dtype, w_dtype, b_dtype, x_shape):
    """A float64 batch through a float32 layer is an error in torch, not a silent float64 result."""
    def run(m, F):
        x = m.ones(*x_shape, dtype=getattr(m, x_dtype))
        bias = None if b_dtype is None else m.ones(4, dtype=getattr(m, b_dtype))
        return F.linear(x, m.ones(4, 3, dtype=getattr(m, w_dtype)), bias)

    raises_like(lambda: run(gt, gF), lambda: run(torch, tF))
