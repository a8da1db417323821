"""glasstorch/_cpu_process.py's malloc setting (the OpenBLAS spin is tested with the split it enables, in
test_cpu_threads.py). Each case runs in a fresh interpreter: the setting is made at import."""
import os
import subprocess
import sys

import pytest

_GLIBC = sys.platform == "linux" and os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")

# Page faults of the second of two same-size arrays, each written whole and freed: with the blocks kept
# in the heap the second reuses the first's pages; mapped fresh it faults all of its 1024 4-KiB pages in
# again (or a few 2-MiB ones where transparent huge pages apply, hence "fewer than a tenth" below).
_FAULTS = """
import resource, numpy as np
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
a = np.ones(1 << 20, np.float32); del a   # 4 MiB
before = faults()
b = np.ones(1 << 20, np.float32); del b
print(faults() - before)
"""


def _run(code: str, **env) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    environ.update(env)
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.skipif(not _GLIBC, reason="the setting is made on glibc only")
def test_freed_blocks_are_reused_without_faulting_their_pages_again():
    assert _run("import glasstorch._cpu_process as c; print(c.malloc_tuned)") == "True"
    reused = int(_run("import glasstorch\n" + _FAULTS))
    assert reused < 1024 // 10, f"{reused} page faults re-allocating a freed 4 MiB array"


@pytest.mark.skipif(not _GLIBC, reason="the setting is made on glibc only")
def test_the_users_malloc_settings_win():
    code = "import glasstorch._cpu_process as c; print(c.malloc_tuned)"
    assert _run(code, MALLOC_MMAP_THRESHOLD_="131072") == "False"
    assert _run(code, MALLOC_TRIM_THRESHOLD_="131072") == "False"
