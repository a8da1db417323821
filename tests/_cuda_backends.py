"""The `cuda_backend` fixture: device 'cuda' served by the fake test device, then by CuPy when a GPU is present.

Import it into a test module (`from _cuda_backends import cuda_backend`) to run a test on both."""
from __future__ import annotations

import pytest


def real_gpu() -> bool:
    from glasstorch.backends import cuda as cupy_backend

    return cupy_backend.is_available()


@pytest.fixture(params=["fake", pytest.param("cupy", marks=pytest.mark.skipif(not real_gpu(), reason="no GPU"))])
def cuda_backend(request):
    from glasstorch import backends

    previous = backends.use_fake_cuda(request.param == "fake")
    yield request.param
    backends.use_fake_cuda(previous)
