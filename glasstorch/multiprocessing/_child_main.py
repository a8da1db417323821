"""The main module of a child that spawn started under `glasstorch run`.

A spawned child imports its parent's script again (as `__mp_main__`, so the script's
`if __name__ == "__main__":` part stays off) before it can run the target. Under `glasstorch run` the
script says `import torch`; this module maps torch to glasstorch first, then runs the script, whose
functions (the pickled target among them) become this module's.
"""
import os
import runpy

from glasstorch._compat import install_torch_alias
from glasstorch.multiprocessing.spawn import _SCRIPT_ENV

install_torch_alias()
globals().update(runpy.run_path(os.environ[_SCRIPT_ENV], run_name="__mp_main__"))
