"""The seed texts' code listings (examples/seeds/*.py) run on glasstorch, and print what PyTorch prints.

Every listing whose printed output does not depend on the random-number generator runs under real
PyTorch and under glasstorch, and `compare_outputs` must find no difference; every other listing
must run to completion under glasstorch. Listings needing CUDA are skipped without a GPU.

To stay fast, the scripts run in batches (one interpreter per batch, so `import torch` is paid
once) and the batches run in parallel; SEEDS_QUICK=1 shortens the one long training run.
"""
from __future__ import annotations

import importlib.util
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from _compare import matching_branch, seed_net_branches
from glasstorch._compare import compare_outputs, run_batch

SEEDS = Path(__file__).resolve().parent.parent / "examples" / "seeds"

# How each listing is checked. "compare": the output is independent of the RNG, so it must match
# PyTorch's. "run": random numbers reach the output; it must only run to completion.
# "cuda": needs a GPU.
KIND = {
    "s001_01_forward_pytorch": "compare",
    "s001_02_dataset": "compare",
    "s001_03_batch_forward": "run",
    "s002_01_creating_tensors": "compare",
    "s002_02_creation_functions": "compare",
    "s002_03_reshaping": "compare",
    "s002_04_elementwise": "compare",
    "s002_05_elementwise_matrices": "compare",
    "s002_06_matmul": "compare",
    "s002_07_matmul_by_hand": "compare",
    "s002_08_layer_simulation": "compare",
    "s002_09_broadcasting": "compare",
    "s002_10_broadcasting_shapes": "compare",
    "s002_11_autograd_square": "compare",
    "s002_12_autograd_polynomial": "compare",
    "s002_13_autograd_two_params": "compare",
    "s002_14_gradient_descent": "compare",
    "s002_15_chain_rule": "compare",
    "s002_16_computation_graph": "compare",
    "s002_17_house_data": "compare",
    "s002_18_house_init": "run",
    "s002_19_house_forward": "run",
    "s002_20_house_loss": "run",
    "s002_21_house_backward_update": "run",
    "s002_22_house_training_loop": "run",
    "s002_23_house_nn_module": "run",
    "s002_24_house_nn_training": "run",
    "s002_25_house_hidden_layer": "compare",
    "s002_26_house_hidden_training": "run",
    "s002_27_relu": "compare",
    "s002_28_sigmoid": "compare",
    "s002_29_activation_comparison": "run",
    "s002_30_gelu": "compare",
    "s002_31_mse": "compare",
    "s002_32_cross_entropy": "compare",
    "s002_33_next_word": "compare",
    "s002_34_house_price_complete": "run",
    "s002_35_exercise1_shapes": "compare",
    "s002_36_solution1_shapes": "compare",
    "s002_37_solution2_gradient": "compare",
    "s002_38_solution3_forward": "compare",
    "s002_39_solution4_temperature": "run",
    "s002_40_solution5_loss_comparison": "compare",
    "s003_01_training_step_numpy": "compare",
    "s003_02_training_step_pytorch": "compare",
    "s003_03_training_loop_numpy": "compare",
    "s003_04_training_loop_pytorch": "compare",
    "s003_05_full_training": "run",
    "s004_01_four_tensors": "compare",
    "s004_02_tensor_attributes": "run",
    "s004_03_kaiming_init": "compare",
    "s004_04_forward_shapes": "compare",
    "s004_05_forward_trace": "run",
    "s004_06_forward_function": "compare",
    "s004_07_naive_softmax": "compare",
    "s004_08_stable_softmax": "compare",
    "s004_09_cross_entropy": "compare",
    "s004_10_manual_backward": "compare",
    "s004_11_verify_gradients": "compare",
    "s004_12_sgd_update": "compare",
    "s004_13_momentum": "compare",
    "s004_14_adam": "compare",
    "s004_15_batching_loop": "compare",
    "s004_16_get_batches": "compare",
    "s004_17_full_pipeline": "run",
    "s004_18_scratch_side": "compare",
    "s004_19_torch_nn_side": "compare",
    "s004_20_same_seed": "compare",
    "s004_21_gpu_device": "compare",
    "s004_22_gpu_benchmark": "cuda",
    "s004_23_module_parameters": "run",
    "s004_24_sequential": "compare",
    "s004_25_save_load": "compare",
    "s004_26_forward_hooks": "run",
    "s004_27_dropout": "compare",
}

# Listings that cross the seed network's knife edge (tests/_compare.py, SEED_NET_BIAS): PyTorch's
# output depends on the CPU, so both its outputs, with the edge resolved each way, are references.
KNIFE_EDGE = ("s003_02_training_step_pytorch", "s003_04_training_loop_pytorch")

# Lines the texts print (corrected per seeds/README.md where the text is wrong), checked in both
# PyTorch's and glasstorch's output: the comparison alone would pass if both were wrong. A line
# matches when compare_outputs finds no difference; a tuple lists the alternatives of a knife edge.
EXPECTED_LINES = {
    "s001_01_forward_pytorch": ["MSE Loss:   0.8963", "Parameters: 31"],
    "s002_14_gradient_descent": ["Final x = 4.942354 (target: 5.0)"],
    "s002_25_house_hidden_layer": ["Total parameters: 33"],
    "s003_01_training_step_numpy": ["Old loss:  0.8963", "New loss:  0.7258", "Improved:  19.0%"],
    # The text says 0.7258 (its NumPy version rounds z1 to 0); float32 gives 0.7218 where z1[0] > 0.
    "s003_02_training_step_pytorch": [("Loss: 0.8963 -> 0.7218", "Loss: 0.8963 -> 0.7258")],
    "s003_04_training_loop_pytorch": ["Step 0    loss=0.896250  pred=[0.1, -0.1, -0.05, -0.25]",
                                      ("Step 1    loss=0.721839  pred=[0.129, 0.027, -0.049, -0.085]",
                                       "Step 1    loss=0.725753  pred=[0.117, 0.034, -0.065, -0.089]")],
    "s004_11_verify_gradients": ["True", "True", "True", "True"],
}

QUICK_ENV = {"SEEDS_QUICK": "1"}
# Guards against a hang, not speed limits: the longest listing (one MNIST epoch) takes ~10 s alone,
# but CI's two cores run three interpreters at once and a loaded machine can be many times slower.
SCRIPT_TIMEOUT, BATCH_TIMEOUT = 300, 900
TORCH_AVAILABLE = importlib.util.find_spec("torch") is not None


def _cuda_available() -> bool:
    import glasstorch

    return glasstorch.cuda.is_available()


def _path(name: str) -> str:
    return str(SEEDS / f"{name}.py")


def _glasstorch_names() -> list[str]:
    return [n for n, k in KIND.items() if k != "cuda" or _cuda_available()]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """{("torch" | "glasstorch", name): (returncode, stdout, stderr)} for every listing, computed
    in three parallel interpreters: PyTorch for the comparable listings, glasstorch in two halves
    (the slow training listings dealt out alternately)."""
    def cwd(label: str) -> str:
        # one working folder per interpreter: s004_25 writes model.pt and reads it back, and the PyTorch and
        # glasstorch runs of it, side by side in one folder, could read each other's file
        return str(tmp_path_factory.mktemp(f"seeds_{label}"))

    names = _glasstorch_names()
    halves = [names[0::2], names[1::2]]
    jobs = {}
    with ThreadPoolExecutor(max_workers=3) as pool:
        if TORCH_AVAILABLE:
            torch_names = [n for n, k in KIND.items() if k == "compare"]
            jobs["torch"] = (torch_names, pool.submit(run_batch, [_path(n) for n in torch_names], False,
                                                      BATCH_TIMEOUT, SCRIPT_TIMEOUT, cwd("torch"), QUICK_ENV))
            branch_paths = _write_branches(tmp_path_factory.mktemp("knife_edge"))
            jobs["branches"] = (list(branch_paths), pool.submit(run_batch, list(branch_paths.values()), False,
                                                                BATCH_TIMEOUT, SCRIPT_TIMEOUT, cwd("branches"),
                                                                QUICK_ENV))
        for i, half in enumerate(halves):
            jobs[f"glasstorch{i}"] = (half, pool.submit(run_batch, [_path(n) for n in half], True,
                                                        BATCH_TIMEOUT, SCRIPT_TIMEOUT, cwd(f"glasstorch{i}"),
                                                        QUICK_ENV))
        results = {}
        for label, (batch, future) in jobs.items():
            by_path = future.result()
            if label == "branches":
                for key in batch:
                    results[key] = by_path[os.path.abspath(branch_paths[key])]
                continue
            side = "torch" if label == "torch" else "glasstorch"
            for n in batch:
                results[(side, n)] = by_path[os.path.abspath(_path(n))]
    return results


def _write_branches(folder: Path) -> dict:
    """{("torch branch i", name): path} of each knife-edge listing with the edge resolved both ways."""
    paths = {}
    for name in KNIFE_EDGE:
        for i, code in enumerate(seed_net_branches(Path(_path(name)).read_text())):
            path = folder / f"{name}_branch{i}.py"
            path.write_text(code)
            paths[(f"torch branch {i}", name)] = str(path)
    return paths


def _failure(label: str, result) -> str:
    rc, out, err = result
    return f"{label} exited with {rc}\n--- stdout ---\n{out[-2000:]}\n--- stderr ---\n{err[-3000:]}"


def test_every_listing_is_classified():
    on_disk = sorted(p.stem for p in SEEDS.glob("s*.py"))
    assert on_disk == sorted(KIND), "examples/seeds and KIND disagree"
    assert set(EXPECTED_LINES) <= {n for n, k in KIND.items() if k == "compare"}


@pytest.mark.parametrize("name", list(KIND))
def test_runs_under_glasstorch(name, outputs):
    if KIND[name] == "cuda" and not _cuda_available():
        pytest.skip("needs CUDA")
    result = outputs[("glasstorch", name)]
    assert result[0] == 0, _failure(f"{name} (glasstorch)", result)


@pytest.mark.skipif(not TORCH_AVAILABLE, reason="needs PyTorch to produce the reference output")
@pytest.mark.parametrize("name", [n for n, k in KIND.items() if k == "compare"])
def test_prints_what_torch_prints(name, outputs):
    theirs, ours = outputs[("torch", name)], outputs[("glasstorch", name)]
    assert theirs[0] == 0, _failure(f"{name} (torch)", theirs)
    assert ours[0] == 0, _failure(f"{name} (glasstorch)", ours)
    if name in KNIFE_EDGE:
        branches = [outputs[(f"torch branch {i}", name)] for i in (0, 1)]
        for i, branch in enumerate(branches):
            assert branch[0] == 0, _failure(f"{name} (torch, branch {i})", branch)
        branch_outs = [b[1] for b in branches]
        assert compare_outputs(*branch_outs) is not None, "the nudge did not cross the knife edge"
        matching_branch(theirs[1], branch_outs, f"{name}: PyTorch's own output")
        matching_branch(ours[1], branch_outs, f"{name}: glasstorch's output")
        return
    diff = compare_outputs(theirs[1], ours[1])
    assert diff is None, f"{name}: glasstorch's output differs from PyTorch's\n{diff}"


@pytest.mark.parametrize("name", list(EXPECTED_LINES))
@pytest.mark.parametrize("side", ["torch", "glasstorch"])
def test_prints_the_expected_numbers(name, side, outputs):
    if side == "torch" and not TORCH_AVAILABLE:
        pytest.skip("PyTorch not installed")
    rc, out, err = result = outputs[(side, name)]
    assert rc == 0, _failure(f"{name} ({side})", result)
    lines = out.splitlines()
    for expected in EXPECTED_LINES[name]:
        alternatives = expected if isinstance(expected, tuple) else (expected,)
        assert any(compare_outputs(alt, line) is None for alt in alternatives for line in lines), \
            f"{name} ({side}) prints none of {alternatives!r}:\n{out}"


def test_quick_mode_shortens_the_long_run(outputs):
    """SEEDS_QUICK=1 makes the 10-epoch pipeline train one epoch, printing one summary line."""
    rc, out, _ = result = outputs[("glasstorch", "s004_17_full_pipeline")]
    assert rc == 0, _failure("s004_17_full_pipeline (glasstorch)", result)
    assert re.fullmatch(r"Epoch 1/10 \| Loss: \d+\.\d{4} \| Acc: \d+\.\d%\n", out), out
