"""glasstorch.distributed, DistributedDataParallel, DistributedSampler and `glasstorch launch`.

The 2-process checks share ONE launch: tests/_distributed_child.py runs every collective and the DDP
trainings on 2 ranks and writes a JSON report per rank; the tests here check it against NumPy
arithmetic and against PyTorch training on the full batches. Fault cases and the example have their
own short launches. Everything that needs MPI is skipped, with the reason, when mpi4py or mpirun is
missing (`.ci/setup-mpi` installs them).
"""
from __future__ import annotations

import copy
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import glasstorch
import glasstorch.distributed as gdist
from glasstorch.utils.data.distributed import DistributedSampler

ROOT = Path(__file__).resolve().parent.parent
HAVE_MPI = importlib.util.find_spec("mpi4py") is not None and shutil.which("mpirun") is not None
needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason="needs mpi4py and Open MPI's mpirun (run .ci/setup-mpi)")
# float64 values that went through a few additions in a different order (a sum over ranks vs over a
# whole batch) agree to ~1e-15 relative; 1e-10 is the bound and leaves room for 16 SGD steps.
F64 = dict(rtol=1e-10, atol=1e-12)


def glasstorch_cmd(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "glasstorch", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env)


# ---- the shared 2-rank run ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist") / "report"
    proc = glasstorch_cmd("launch", "--nproc-per-node", "2", "tests/_distributed_child.py", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [json.loads(Path(f"{out}.rank{r}.json").read_text()) for r in range(2)]


def x_of(r: int) -> np.ndarray:
    """The child's per-rank input (see x_of there)."""
    return (np.arange(6.0).reshape(2, 3) - 2.5 * r) * (r + 1.5)


def i_of(r: int) -> np.ndarray:
    return np.arange(6).reshape(2, 3) * (r + 2) - 3


REDUCE = {"SUM": lambda a, b: a + b, "AVG": lambda a, b: (a + b) / 2, "MAX": np.maximum, "MIN": np.minimum,
          "PRODUCT": lambda a, b: a * b}


@needs_mpi
def test_init_state(ranks):
    for r, rep in enumerate(ranks):
        assert (rep["rank"], rep["size"], rep["backend"], rep["initialized"]) == (r, 2, "gloo", True)
        assert rep["before_init"] == ["ValueError", "Default process group has not been initialized, please "
                                                    "make sure to call init_process_group."]
        assert rep["err_twice"] == ["ValueError", "trying to initialize the default process group twice!"]
        assert rep["after_destroy"] is False


@needs_mpi
@pytest.mark.parametrize("op, dtype", [(op, dtype) for op in sorted(REDUCE)
                                       for dtype in ("float64", "float32", "float16", "int64")
                                       if (op, dtype) != ("AVG", "int64")])  # AVG: floating (Gloo has none)
def test_all_reduce(ranks, op, dtype):
    a, b = (i_of(0), i_of(1)) if dtype == "int64" else (x_of(0), x_of(1))
    expected = REDUCE[op](a, b)
    for rep in ranks:  # every input is a multiple of 1/4 below 50: exact in float16 too
        np.testing.assert_array_equal(rep[f"all_reduce_{op}_torch.{dtype}"], expected)
        assert rep[f"all_reduce_{op}_torch.{dtype}_dtype"] == f"torch.{dtype}"


@needs_mpi
def test_all_reduce_bool(ranks):
    for rep in ranks:
        assert rep["all_reduce_bool_MAX"] == [True, False, True]
        assert rep["all_reduce_bool_MIN"] == [True, False, False]


@needs_mpi
def test_async_and_noncontiguous(ranks):
    for rep in ranks:
        assert rep["async_wait"] is True and rep["async_completed"] is True
        np.testing.assert_array_equal(rep["async_result"], x_of(0) + x_of(1))
        base = np.zeros((3, 4))
        base[:, ::2] = 3.0  # 1 + 2 written through the strided view; the other columns untouched
        np.testing.assert_array_equal(rep["noncontig_base"], base)


@needs_mpi
def test_broadcast_and_reduce(ranks):
    for rep in ranks:
        np.testing.assert_array_equal(rep["broadcast"], x_of(1))
    np.testing.assert_array_equal(ranks[1]["reduce"], x_of(0) + x_of(1))
    np.testing.assert_array_equal(ranks[0]["reduce"], x_of(0))  # not the destination: left alone


@needs_mpi
def test_gathers_and_scatters(ranks):
    for rep in ranks:
        np.testing.assert_array_equal(rep["all_gather"], [x_of(0), x_of(1)])
        np.testing.assert_array_equal(rep["all_gather_into_tensor"], np.concatenate([x_of(0), x_of(1)]))
        np.testing.assert_array_equal(rep["all_gather_into_tensor_stacked"], [x_of(0), x_of(1)])
    np.testing.assert_array_equal(ranks[0]["gather"], [x_of(0), x_of(1)])
    assert ranks[1]["gather"] is None
    np.testing.assert_array_equal(ranks[0]["scatter"], x_of(10))
    np.testing.assert_array_equal(ranks[1]["scatter"], x_of(20))
    big = [np.arange(8.0).reshape(4, 2) * (r + 1) for r in range(2)]
    for op in ("SUM", "AVG", "MAX"):
        full = REDUCE[op](*big)
        for r, rep in enumerate(ranks):
            np.testing.assert_array_equal(rep[f"reduce_scatter_{op}"], full[2 * r:2 * r + 2])


@needs_mpi
def test_point_to_point_and_barrier(ranks):
    assert ranks[1]["p2p"] == [0, [1.5, 2.5], True, True, [0, 1, 2]]  # recv(src=None) names the sender
    assert all(rep["barrier_async"] is True for rep in ranks)


@needs_mpi
def test_groups(ranks):
    assert ranks[0]["group1"] == [-1, -1, True]  # outside new_group([1]): NON_GROUP_MEMBER
    assert ranks[1]["group1"] == [0, 1, False]
    assert ranks[1]["group1_all_reduce"] == [1.0, 1.0]
    assert all(rep["group01_all_reduce"] == [2.0, 2.0] for rep in ranks)


@needs_mpi
def test_objects(ranks):
    for rep in ranks:
        assert rep["broadcast_object_list"] == [{"from": 1}, [1, 1, 1], "xx"]
        assert rep["all_gather_object"] == [{"rank": 0, "payload": []}, {"rank": 1, "payload": [0, 1, 2, 3, 4]}]


@needs_mpi
def test_collective_errors(ranks):
    for rep in ranks:
        assert rep["err_all_gather_len"][0] == "ValueError" and "has 1 tensors but the group has 2" in \
            rep["err_all_gather_len"][1]
        assert rep["err_into_tensor"][0] == "ValueError" and "output (3,), input (2,)" in rep["err_into_tensor"][1]
        assert rep["err_bad_src"][0] == "ValueError" and "Global rank 5 is not part of group" in rep["err_bad_src"][1]
        if not gdist.is_nccl_available():  # no CuPy/NCCL here: a group on the 'nccl' backend says what it needs
            assert rep["err_nccl"][0] == "RuntimeError" and "needs CuPy with NCCL" in rep["err_nccl"][1]


# ---- DDP against PyTorch on the full batches -----------------------------------------------------------
def _data():
    rng = np.random.default_rng(0)  # the child's data
    return torch.tensor(rng.standard_normal((40, 4))), torch.tensor(rng.standard_normal((40, 3)))


@needs_mpi
def test_ddp_matches_one_process_on_full_batches(ranks):
    r0, r1 = ranks
    assert r0["ddp_init"] == r1["ddp_init"]  # rank 0's weights broadcast (rank 1 drew others)
    assert r0["ddp_keys"] == ["module.0.weight", "module.0.bias", "module.2.weight", "module.2.bias"]
    assert r0["ddp_buckets"] == 2  # tiny buckets: all-reduces start while backward goes on
    X, Y = _data()
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    with torch.no_grad():
        for p, v in zip(model.parameters(), r0["ddp_init"]):
            p.copy_(torch.tensor(v, dtype=torch.float64))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    assert len(r0["ddp_steps"]) == len(r1["ddp_steps"]) == 8
    for epoch in range(2):  # the ranks' shares of an epoch are disjoint and cover the dataset
        seen = sum((r0["ddp_steps"][s] + r1["ddp_steps"][s] for s in range(4 * epoch, 4 * epoch + 4)), [])
        assert sorted(seen) == list(range(40))
    assert r0["ddp_steps"][:4] != r0["ddp_steps"][4:]  # set_epoch reshuffled
    for s0, s1 in zip(r0["ddp_steps"], r1["ddp_steps"]):
        idx = torch.tensor(s0 + s1)
        loss = ((model(X[idx]) - Y[idx]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    for rep in ranks:
        for ours, theirs in zip(rep["ddp_final"], model.parameters()):
            np.testing.assert_allclose(ours, theirs.detach().numpy(), **F64)
    assert not np.allclose(r0["ddp_final"][0], r0["ddp_init"][0])  # it did train


@needs_mpi
def test_ddp_no_sync(ranks):
    X, _ = _data()
    model = torch.nn.Linear(4, 2).double()
    with torch.no_grad():
        for p, v in zip(model.parameters(), ranks[0]["no_sync_init"]):
            p.copy_(torch.tensor(v, dtype=torch.float64))
    local = []
    for r in range(2):
        model.zero_grad()
        model(X[r * 10:r * 10 + 5]).sum().backward()
        local.append([p.grad.clone() for p in model.parameters()])
    model.zero_grad()
    for r in range(2):
        model(X[r * 10:r * 10 + 10]).sum().backward()
    for r, rep in enumerate(ranks):
        for ours, theirs in zip(rep["no_sync_local"], local[r]):  # inside no_sync: this rank's alone
            np.testing.assert_allclose(ours, theirs.numpy(), **F64)
        for ours, p in zip(rep["no_sync_synced"], model.parameters()):  # both passes, averaged over ranks
            np.testing.assert_allclose(ours, p.grad.numpy() / 2, **F64)


@needs_mpi
def test_ddp_find_unused_parameters(ranks):
    X, _ = _data()
    init = ranks[0]["unused_init"]
    assert ranks[1]["unused_init"] == init
    grads = []
    for r in range(2):
        main, extra = torch.nn.Linear(4, 2).double(), torch.nn.Linear(4, 2).double()
        with torch.no_grad():
            for m, name in ((main, "main"), (extra, "extra")):
                m.weight.copy_(torch.tensor(init[f"{name}.weight"]))
                m.bias.copy_(torch.tensor(init[f"{name}.bias"]))
        x = X[:3] * (r + 1)
        out = main(x) + extra(x) if r == 1 else main(x)
        out.sum().backward()
        grads.append({"main.weight": main.weight.grad, "main.bias": main.bias.grad,
                      "extra.weight": extra.weight.grad if r == 1 else torch.zeros(2, 4, dtype=torch.float64),
                      "extra.bias": extra.bias.grad if r == 1 else torch.zeros(2, dtype=torch.float64)})
    for rep in ranks:
        got = rep["unused_grads"]
        assert got["never.weight"] is None and got["never.bias"] is None  # used by no rank: stays None
        for name in ("main.weight", "main.bias", "extra.weight", "extra.bias"):  # extra: rank 1's half
            np.testing.assert_allclose(got[name], ((grads[0][name] + grads[1][name]) / 2).numpy(), **F64)
        assert rep["unused_error"][0] == "RuntimeError"
        assert rep["unused_error"][1].startswith("Expected to have finished reduction in the prior iteration")
        assert "find_unused_parameters=True" in rep["unused_error"][1]


# ---- in one process: errors as PyTorch's, the sampler, the hook DDP stands on --------------------------
@pytest.mark.parametrize("call", ["get_rank", "get_world_size", "barrier", "get_backend", "all_reduce",
                                  "destroy_process_group"])
def test_errors_before_init_match_torch(call):
    def run(dist, m):
        fn = getattr(dist, call)
        return fn(m.ones(2)) if call == "all_reduce" else fn()
    with pytest.raises(Exception) as theirs:
        run(torch.distributed, torch)
    with pytest.raises(Exception) as ours:
        run(gdist, glasstorch)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("kwargs", [
    dict(backend="foo", rank=0, world_size=1, init_method="file://{tmp}/store"),
    dict(backend="gloo", init_method="file://{tmp}/store"),
    dict(backend="gloo", rank=0, world_size=1, init_method="bad://x"),
    dict(backend="gloo", init_method="env://"),
])
def test_init_errors_match_torch(kwargs, monkeypatch, tmp_path):
    for var in ("RANK", "WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE"):
        monkeypatch.delenv(var, raising=False)
    kwargs = dict(kwargs, init_method=kwargs["init_method"].format(tmp=tmp_path))
    with pytest.raises(Exception) as theirs:
        torch.distributed.init_process_group(**kwargs)
    with pytest.raises(Exception) as ours:
        gdist.init_process_group(**kwargs)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)
    assert not gdist.is_initialized()


def test_reduce_op_and_backend_names():
    for name in ("SUM", "AVG", "PRODUCT", "MIN", "MAX"):
        ours, theirs = getattr(gdist.ReduceOp, name), getattr(torch.distributed.ReduceOp, name)
        assert (repr(ours), str(ours)) == (repr(theirs), str(theirs))
    assert gdist.Backend("GLOO") == torch.distributed.Backend("GLOO") == "gloo"
    assert gdist.GroupMember.NON_GROUP_MEMBER == torch.distributed.GroupMember.NON_GROUP_MEMBER


@pytest.mark.parametrize("n", [0, 1, 7, 10, 11])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_layout_matches_torch(n, replicas, drop_last):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert (len(ours), ours.total_size) == (len(theirs), theirs.total_size)


def test_sampler_shuffle_layout():
    n, replicas = 11, 3
    for epoch in range(2):
        g = glasstorch.Generator()
        g.manual_seed(5 + epoch)
        perm = glasstorch.randperm(n, generator=g).tolist()
        padded = perm + perm[:12 - n]  # torch's padding: the first indices again
        for rank in range(replicas):
            s = DistributedSampler(range(n), replicas, rank, shuffle=True, seed=5)
            s.set_epoch(epoch)
            assert list(s) == padded[rank::replicas]
    assert glasstorch.utils.data.DistributedSampler is DistributedSampler


def test_sampler_errors_match_torch():
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for args in ((2, 2), (2, -1)):
        with pytest.raises(ValueError) as theirs:
            TorchSampler(range(4), *args)
        with pytest.raises(ValueError) as ours:
            DistributedSampler(range(4), *args)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(4))  # num_replicas from the (missing) process group, as in PyTorch


def test_post_accumulate_grad_hook_matches_torch():
    seen = {}
    for m in (torch, glasstorch):
        w = m.tensor([1.0, 2.0], requires_grad=True)
        calls = []
        handle = w.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.tolist()))
        (w * 3).sum().backward()
        (w * w).sum().backward()
        (copy.deepcopy(w) * 7).sum().backward()  # a copy does not take the hook along
        handle.remove()
        (w * 5).sum().backward()
        seen[m.__name__] = (calls, w.grad.tolist())
        for t, in ((m.ones(2),), (m.ones(2, requires_grad=True) * 2,)):
            with pytest.raises(RuntimeError) as e:
                t.register_post_accumulate_grad_hook(print)
            seen[m.__name__] += (str(e.value),)
    assert seen["glasstorch"] == seen["torch"]


# ---- the launcher: bad input, faults, the example ------------------------------------------------------
@pytest.mark.parametrize("args, words", [
    (["launch", "--nproc-per-node", "2", "no_such_script.py"], "script not found: no_such_script.py"),
    (["launch", "--nproc-per-node", "0", "x.py"], "--nproc-per-node must be a positive number"),
    (["launch", "--nnodes", "2", "x.py"], "--nnodes 2: glasstorch launch runs on one machine"),
])
def test_launch_bad_input(args, words, capsys):
    from glasstorch import cli

    assert cli.main(args) == 2  # in-process: the CLI's own error path, as `glasstorch launch` runs it
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert lines == [line for line in lines if line.startswith("glasstorch: error:")] and len(lines) == 1
    assert lines[0].startswith(f"glasstorch: error: {words}")


FAULTY = {
    "raises": """
        import torch, torch.distributed as dist
        dist.init_process_group("gloo")
        if dist.get_rank() == 1:
            raise RuntimeError("rank 1 gives up")
        dist.all_reduce(torch.ones(3))
    """,
    "stuck": """
        import datetime, time, torch, torch.distributed as dist
        dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=1))
        if dist.get_rank() == 1:
            time.sleep(60)
        dist.all_reduce(torch.ones(3))
    """,
}


@needs_mpi
@pytest.mark.parametrize("case, culprit, says", [
    ("raises", 1, "RuntimeError: rank 1 gives up"),
    ("stuck", 0, "all_reduce timed out after 1 s"),
])
def test_launch_fault_names_the_rank(tmp_path, case, culprit, says):
    script = tmp_path / f"{case}.py"
    script.write_text(textwrap.dedent(FAULTY[case]))
    start = time.monotonic()
    proc = glasstorch_cmd("launch", "--nproc-per-node", "2", str(script), timeout=60)
    assert time.monotonic() - start < 40  # not the 60 s rank 1 sleeps: the other ranks are stopped
    assert proc.returncode == 1
    assert says in proc.stderr
    assert f"glasstorch launch: rank {culprit} (local_rank {culprit}) failed: exit code 1" in proc.stderr


def find_mnist() -> str | None:
    """A folder holding MNIST's training files ($GLASSTORCH_DATA first), or None."""
    for folder in (os.environ.get("GLASSTORCH_DATA"), ROOT.parent / "shared" / "datasets" / "mnist"):
        if folder and all(any((Path(folder) / (f + ext)).is_file() for ext in (".gz", ""))
                          for f in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")):
            return str(folder)
    return None


@needs_mpi
@pytest.mark.skipif(find_mnist() is None, reason="MNIST not found (set GLASSTORCH_DATA)")
def test_example_ddp_mnist_under_mpirun():
    """`mpirun -n 2 glasstorch run` (the other way to start ranks) on the example, against one process."""
    from glasstorch.distributed.run import mpirun_command

    env = dict(os.environ, PYTHONPATH=str(ROOT), GLASSTORCH_DATA=find_mnist())
    cmd = mpirun_command(2) + [sys.executable, "-m", "glasstorch", "run", "examples/ddp_mnist.py", "--check",
                               "--images", "256"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "same parameters as one process on the full batches" in proc.stdout
