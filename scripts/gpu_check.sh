#!/usr/bin/env bash
# The one prepared GPU run of issue #14, for a session that has a GPU machine (it installs nothing: that
# machine has CuPy and PyTorch CUDA). Run from anywhere:
#
#     OUT=/some/folder bash scripts/gpu_check.sh      # (the device tool sets $OUT itself)
#
# It writes, under $OUT (each step bounded by `timeout`, about 7.5 minutes at most in all):
#   env.txt            GPU, driver, CuPy / PyTorch / NumPy versions
#   gpu_tests.log      tests/test_gpu.py without the op table: fused kernels compiled by CuPy (bit for bit
#                      equal to their NumPy run), optimizers and cross-entropy vs torch CUDA, the CLI trains on cuda
#   bench_cuda.md      `python -m benchmarks --device cuda --reps 3`: the ratio table vs PyTorch CUDA eager
#   profile_mlp.txt    where an MNIST MLP epoch and the 1000 matmuls on cuda spend host time (cProfile)
#   gpu_optable.log    tests/test_gpu.py's op table: every row forward and backward vs torch CUDA
#   summary.txt        each step's exit status
# Priorities: the kernel tests and the benchmark first; the op table (the longest) last.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
if [ -z "${GLASSTORCH_DATA:-}" ] && [ -d ../shared/datasets/mnist ]; then
  export GLASSTORCH_DATA="$(cd ../shared/datasets/mnist && pwd)"
fi
unset GLASSTORCH_FAKE_CUDA

step() {  # step NAME SECONDS COMMAND...: run with a time limit, log the exit status
  local name="$1" limit="$2"
  shift 2
  local start=$SECONDS
  timeout "$limit" "$@"
  local rc=$?
  echo "$name: exit $rc in $((SECONDS - start)) s (limit $limit s)" | tee -a "$OUT/summary.txt"
}

{
  nvidia-smi || true
  python -c "import cupy, numpy, torch; print('cupy', cupy.__version__, '| torch', torch.__version__, \
'cuda', torch.version.cuda, torch.cuda.is_available(), '| numpy', numpy.__version__); \
print(cupy.cuda.runtime.getDeviceProperties(0)['name'])"
} > "$OUT/env.txt" 2>&1

step gpu_tests 150 python -m pytest -q -p no:cacheprovider -rs tests/test_gpu.py -k "not op_table" \
  > "$OUT/gpu_tests.log" 2>&1
step bench_cuda 170 python -m benchmarks --device cuda --reps 3 > "$OUT/bench_cuda.md" 2>&1
step profile_mlp 40 python - > "$OUT/profile_mlp.txt" 2>&1 <<'EOF'
import cProfile, pstats
import glasstorch as gt
from benchmarks import gpu
X, y = gpu.mnist_or_synthetic()
X, y = gt.from_numpy(X).to("cuda"), gt.from_numpy(y).to("cuda")
run = gpu.synced(gt, lambda: gpu.mlp_epoch(gt, X, y, (784, 128, 10), 64))
run()  # warm-up: kernels compiled, memory pool filled
for title, fn in (("MNIST MLP epoch, batch 64", run), ("seed 004's 1000 matmuls", lambda: gpu.matmul_listing(gt))):
    print("=" * 30, title)
    profile = cProfile.Profile()
    profile.runcall(gpu.synced(gt, fn))
    pstats.Stats(profile).sort_stats("tottime").print_stats(40)
EOF
step gpu_optable 110 python -m pytest -q -p no:cacheprovider -rs tests/test_gpu.py -k op_table \
  > "$OUT/gpu_optable.log" 2>&1
tail -n 3 "$OUT/gpu_tests.log" "$OUT/gpu_optable.log"
cat "$OUT/bench_cuda.md"
echo "logs in $OUT"
