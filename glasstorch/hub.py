"""torch.hub without downloads: local repositories and files already in the cache.

glasstorch does not fetch anything from the network here. `load(dir, model, source='local')` imports
`dir/hubconf.py` and calls its entry point, as PyTorch does; a GitHub repository works when PyTorch
(or you) already unpacked it into the hub cache (`get_dir()/owner_name_ref`), and
`load_state_dict_from_url` works when the file is already in `get_dir()/checkpoints`. The cache is
PyTorch's own ($TORCH_HOME/hub, by default ~/.cache/torch/hub), so what PyTorch downloaded is found.
Anything else raises urllib.error.URLError (the class PyTorch raises offline) saying where to put it.
"""
from __future__ import annotations

import builtins
import contextlib
import importlib.util
import os
import sys
from typing import Any, Iterator
from urllib.error import URLError
from urllib.parse import urlparse

__all__ = ["load", "list", "help", "get_dir", "set_dir", "load_state_dict_from_url", "download_url_to_file"]

ENV_TORCH_HOME = "TORCH_HOME"
ENV_XDG_CACHE_HOME = "XDG_CACHE_HOME"
DEFAULT_CACHE_DIR = "~/.cache"
VAR_DEPENDENCY = "dependencies"
MODULE_HUBCONF = "hubconf.py"

_hub_dir: str | None = None


def _get_torch_home() -> str:
    return os.path.expanduser(os.getenv(ENV_TORCH_HOME,
                                        os.path.join(os.getenv(ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR), "torch")))


def get_dir() -> str:
    """The hub cache: set_dir's folder, else $TORCH_HOME/hub ($TORCH_HOME: $XDG_CACHE_HOME/torch, ~/.cache/torch)."""
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_get_torch_home(), "hub")


def set_dir(d: str | os.PathLike) -> None:
    global _hub_dir
    _hub_dir = os.path.expanduser(d)


def _offline(what: str, hint: str) -> URLError:
    return URLError(f"glasstorch.hub does not download ({what}); {hint}")


def _repo_dir(github: str) -> str:
    """The folder of a GitHub repository ("owner/name[:ref]") already unpacked in the hub cache."""
    repo, _, ref = github.partition(":")
    if "/" not in repo:
        raise ValueError(f'Invalid input: "{github}"; it should be of the form "repo_owner/repo_name[:ref]"')
    owner, name = repo.split("/", 1)
    refs = [ref.replace("/", "_")] if ref else ["main", "master"]
    for r in refs:
        folder = os.path.join(get_dir(), f"{owner}_{name}_{r}")
        if os.path.isfile(os.path.join(folder, MODULE_HUBCONF)):
            return folder
    raise _offline(f"https://github.com/{repo}",
                   f"unpack the repository into {os.path.join(get_dir(), f'{owner}_{name}_{refs[0]}')} or call "
                   f"load(<folder>, model, source='local')")


@contextlib.contextmanager
def _on_sys_path(path: str) -> Iterator[None]:
    sys.path.insert(0, path)
    try:
        yield
    finally:
        sys.path.remove(path)


def _hubconf(folder: str):
    """Import folder/hubconf.py (as a fresh module, with the folder importable while it runs)."""
    path = os.path.join(folder, MODULE_HUBCONF)
    spec = importlib.util.spec_from_file_location(MODULE_HUBCONF, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _entry(module, model):
    if not isinstance(model, str):
        raise ValueError("Invalid input: model should be a string of function name")
    missing = [pkg for pkg in getattr(module, VAR_DEPENDENCY, None) or []
               if importlib.util.find_spec(pkg) is None]
    if missing:
        raise RuntimeError(f"Missing dependencies: {', '.join(missing)}")
    func = getattr(module, model, None)
    if func is None or not callable(func):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    return func


def _folder(repo_or_dir: str, source: str) -> str:
    source = source.lower()
    if source not in ("github", "local"):
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')
    return _repo_dir(repo_or_dir) if source == "github" else repo_or_dir


def load(repo_or_dir: str, model: str, *args, source: str = "github", trust_repo="check", force_reload: bool = False,
         verbose: bool = True, skip_validation: bool = False, **kwargs) -> Any:
    """Call entry point `model` of a hubconf.py: from a local folder (source='local') or a GitHub
    repository already in the hub cache."""
    folder = _folder(repo_or_dir, source)
    with _on_sys_path(folder):
        return _entry(_hubconf(folder), model)(*args, **kwargs)


def list(github: str, force_reload: bool = False, skip_validation: bool = False, trust_repo="check",  # noqa: A001
         verbose: bool = True, source: str = "github") -> builtins.list[str]:
    """The entry points of a repository's hubconf.py (callables not starting with '_')."""
    folder = _folder(github, source)
    with _on_sys_path(folder):
        module = _hubconf(folder)
    return [name for name in dir(module) if callable(getattr(module, name)) and not name.startswith("_")]


def help(github: str, model: str, force_reload: bool = False, skip_validation: bool = False,  # noqa: A001
         trust_repo="check", source: str = "github") -> str | None:
    """The docstring of entry point `model`."""
    folder = _folder(github, source)
    with _on_sys_path(folder):
        return _entry(_hubconf(folder), model).__doc__


def download_url_to_file(url: str, dst: str, hash_prefix: str | None = None, progress: bool = True) -> None:
    raise _offline(url, f"download it yourself to {dst}")


def load_state_dict_from_url(url: str, model_dir: str | None = None, map_location=None, progress: bool = True,
                             check_hash: bool = False, file_name: str | None = None, weights_only: bool = False):
    """Load `url`'s file from `model_dir` (default get_dir()/checkpoints), where it must already be."""
    from .serialization import load as _load

    model_dir = os.path.join(get_dir(), "checkpoints") if model_dir is None else model_dir
    cached = os.path.join(model_dir, file_name or os.path.basename(urlparse(url).path))
    if not os.path.exists(cached):
        raise _offline(url, f"put the file at {cached}")
    return _load(cached, map_location=map_location, weights_only=weights_only)
