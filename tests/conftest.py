"""Every test starts from the same random state, so a run can be repeated exactly."""
import random

import numpy as np
import pytest

import glasstorch


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)
    glasstorch.manual_seed(0)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a test dependency
        return
    torch.manual_seed(0)


@pytest.fixture
def fake_cuda():
    """Device 'cuda' served by the NumPy-backed test backend (backends/fake_cuda.py) for one test."""
    from glasstorch import backends

    previous = backends.use_fake_cuda(True)
    yield glasstorch.device("cuda")
    backends.use_fake_cuda(previous)
