"""File checks and downloads for the datasets: MD5 digests as torchvision publishes them."""
from __future__ import annotations

import hashlib
import os
from typing import Optional

from ...datasets import _download
from ..._atomic import atomic_write

__all__ = ["calculate_md5", "check_md5", "check_integrity", "download_url"]


def calculate_md5(fpath: str | os.PathLike, chunk_size: int = 1024 * 1024) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        while chunk := f.read(chunk_size):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath: str | os.PathLike, md5: str) -> bool:
    return md5 == calculate_md5(fpath)


def check_integrity(fpath: str | os.PathLike, md5: Optional[str] = None) -> bool:
    """Whether the file exists and, if `md5` is given, has that digest."""
    if not os.path.isfile(fpath):
        return False
    return md5 is None or check_md5(fpath, md5)


def download_url(url: str, root: str | os.PathLike, filename: Optional[str] = None, md5: Optional[str] = None) -> str:
    """Fetch `url` into root/filename unless a file with the right digest is already there.

    The bytes are checked before they are written (atomically), so a failed or corrupt download
    leaves nothing behind; RuntimeError when the digest is wrong. Returns the file's path.
    """
    root = os.path.expanduser(os.fspath(root))
    fpath = os.path.join(root, filename or os.path.basename(url))
    if check_integrity(fpath, md5):
        return fpath
    os.makedirs(root, exist_ok=True)
    raw = _download.http_get(url)
    if md5 is not None:
        digest = hashlib.md5(raw, usedforsecurity=False).hexdigest()
        if digest != md5:
            raise RuntimeError(f"{url}: MD5 of the download is {digest}, expected {md5}")
    with atomic_write(fpath) as f:
        f.write(raw)
    return fpath
