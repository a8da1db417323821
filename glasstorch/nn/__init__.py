"""glasstorch.nn: layers (Modules), their parameters, losses, initialisers and helpers.

    import glasstorch.nn as nn
    import glasstorch.nn.functional as F
"""
from . import functional, init, utils  # noqa: F401
from . import attention  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all  # noqa: F401
from .parameter import Buffer, Parameter  # noqa: F401
from . import parallel  # noqa: F401,E402
from .parallel import DataParallel  # noqa: F401,E402
