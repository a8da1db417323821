"""CIFAR-10 (and CIFAR-100) from the official "python version": pickled batches under
root/cifar-10-batches-py, each checked against the MD5 digest torchvision lists for it."""
from __future__ import annotations

import io
import os
import pickle
import tarfile
from typing import Any, Callable, Optional, Sequence, Tuple

import numpy as np

from ..transforms.functional import _pil
from .utils import check_integrity, download_url
from .vision import VisionDataset, collate_uint8_images

__all__ = ["CIFAR10", "CIFAR100"]


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles what a CIFAR batch holds (dicts, lists, strings, NumPy arrays) and nothing else:
    no pickle may run code, even one that passed its checksum."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"CIFAR batch files hold arrays and lists only, not {module}.{name}")
        return super().find_class(module, name)


def _load_batch(path: str) -> dict:
    with open(path, "rb") as f:
        return _BatchUnpickler(io.BytesIO(f.read()), encoding="latin1").load()


class CIFAR10(VisionDataset):
    """CIFAR-10: 50,000 training and 10,000 test colour images of 32x32 in 10 classes.

    `dataset[i]` is (PIL image 'RGB', int); `.data` is uint8 [N, 32, 32, 3], `.targets` a list.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}

    def __init__(self, root: Any, train: bool = True, transform: Optional[Callable] = None,
                 target_transform: Optional[Callable] = None, download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.root = os.fspath(self.root)
        self.train = train
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        data, targets = [], []
        for file_name, _ in self.train_list if self.train else self.test_list:
            entry = _load_batch(os.path.join(self.root, self.base_folder, file_name))
            data.append(entry["data"])
            targets.extend(entry["labels"] if "labels" in entry else entry["fine_labels"])
        # rows are 3072 bytes: the red plane, then green, then blue, each 32x32 row-major
        self.data = np.vstack(data).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))
        self.targets = [int(t) for t in targets]
        self._load_meta()

    def _load_meta(self) -> None:
        path = os.path.join(self.root, self.base_folder, self.meta["filename"])
        if not check_integrity(path, self.meta["md5"]):
            raise RuntimeError("Dataset metadata file not found or corrupted. You can use download=True to download it")
        self.classes = list(_load_batch(path)[self.meta["key"]])
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def __getitem__(self, index: int) -> Tuple[Any, Any]:
        img, target = _pil().fromarray(self.data[index]), self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    def _collated_batch(self, indices: Sequence[int]) -> Optional[list]:
        """The DataLoader's batch in one go for ToTensor() [+ Normalize] pipelines (see collate_uint8_images)."""
        return collate_uint8_images(self, indices, lambda idx: self.data[idx].transpose(0, 3, 1, 2),
                                    lambda idx: np.asarray(self.targets)[idx])

    def _check_integrity(self) -> bool:
        return all(check_integrity(os.path.join(self.root, self.base_folder, name), md5)
                   for name, md5 in self.train_list + self.test_list)

    def download(self) -> None:
        """Fetch the archive (checked against tgz_md5 before it is kept) and unpack it into root."""
        if self._check_integrity():
            return
        try:
            archive = download_url(self.url, self.root, self.filename, self.tgz_md5)
        except (OSError, RuntimeError, ValueError) as e:
            raise RuntimeError(f"Error downloading {self.filename}: {type(e).__name__}: {e}\n"
                               f"To supply it by hand, put {self.filename} (MD5 {self.tgz_md5}) or its unpacked "
                               f"{self.base_folder}/ folder into {self.root}") from None
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(self.root, filter="data")  # "data": no absolute paths, links or devices

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100: CIFAR-10's format with 100 classes (`fine_labels`)."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names", "md5": "7973b15100ade9c7d40fb424638fde48"}
