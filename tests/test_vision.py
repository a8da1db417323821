"""glasstorch.vision: torchvision's datasets, transforms, utils and models.

torchvision cannot be installed beside torch 2.13 here, so each deterministic transform is checked
against the computation torchvision documents, done directly with Pillow and NumPy (the same PIL
filter on the same image, NumPy slicing for crops and pads) or with torch ops where torch does the
arithmetic (ToTensor's /255, Normalize). Pixel results must be identical: both sides run the same
Pillow code or exact uint8 copies. Random transforms are checked for reproducibility under
glasstorch.manual_seed and by replaying the same draws from glasstorch's generator. Nothing here
reaches the network.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import subprocess
import sys
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageEnhance

import glasstorch
from glasstorch.datasets import _download, write_idx
from glasstorch.datasets._download import FileSpec
from glasstorch.vision import datasets, models, transforms as T, utils as vutils
from glasstorch.vision.transforms import functional as TF

ROOT = Path(__file__).resolve().parent.parent
SHARED_MNIST = Path("/work/shared/datasets/mnist")
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
               "t10k-labels-idx1-ubyte")


def find_mnist() -> Path | None:
    """The folder holding the MNIST files: $GLASSTORCH_DATA first (CI sets it), then the shared copy."""
    for folder in (os.environ.get("GLASSTORCH_DATA"), SHARED_MNIST):
        if folder and all(any((Path(folder) / (f + ext)).is_file() for ext in (".gz", "")) for f in MNIST_FILES):
            return Path(folder)
    return None


MNIST_DIR = find_mnist()
needs_mnist = pytest.mark.skipif(MNIST_DIR is None, reason="MNIST not found (set GLASSTORCH_DATA)")


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No test reaches the network: every download fails as it would without one."""
    for var in ("GLASSTORCH_DATA", "GLASSTORCH_MNIST_MIRRORS", "GLASSTORCH_FASHION_MNIST_MIRRORS",
                "GLASSTORCH_KMNIST_MIRRORS"):
        monkeypatch.delenv(var, raising=False)

    def no_network(url, timeout=None):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    def no_pip(requirement, folder):
        raise RuntimeError("pip is switched off in tests")

    monkeypatch.setattr(_download, "http_get", no_network)
    monkeypatch.setattr(_download, "pip_download", no_pip)


def rgb_image(h: int = 20, w: int = 30, seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))


def gray_image(h: int = 20, w: int = 30, seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w), dtype=np.uint8))


def pixels(img) -> np.ndarray:
    return np.asarray(img)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


# ---- MNIST family ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mnist_test():
    return datasets.MNIST(MNIST_DIR, train=False)


@needs_mnist
def test_mnist_samples_are_pil_images(mnist_test):
    from glasstorch.datasets import MNIST as TensorMNIST

    assert isinstance(mnist_test, datasets.VisionDataset) and len(mnist_test) == 10000
    img, label = mnist_test[0]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    assert type(label) is int and [mnist_test[i][1] for i in range(5)] == [7, 2, 1, 0, 4]
    # the same verified arrays as glasstorch.datasets (one implementation), only the sample form differs
    plain = TensorMNIST(MNIST_DIR, train=False)
    np.testing.assert_array_equal(pixels(img), plain.data.numpy()[0])
    tensor_sample = T.ToTensor()(img)
    assert tensor_sample.dtype == glasstorch.float32
    np.testing.assert_array_equal(tensor_sample.numpy(), plain[0][0].numpy())
    assert mnist_test.classes[7] == "7 - seven" and mnist_test.class_to_idx["3 - three"] == 3


@needs_mnist
def test_mnist_transforms_and_repr():
    tf = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    ds = datasets.MNIST(str(MNIST_DIR), train=False, transform=tf, target_transform=lambda y: y + 100)
    x, y = ds[0]
    assert tuple(x.shape) == (1, 28, 28) and y == 107
    assert repr(ds) == (
        "Dataset MNIST\n"
        "    Number of datapoints: 10000\n"
        f"    Root location: {MNIST_DIR}\n"
        "    Split: Test\n"
        "    StandardTransform\n"
        "Transform: Compose(\n"
        "               ToTensor()\n"
        "               Normalize(mean=(0.1307,), std=(0.3081,))\n"
        "           )\n"
        f"Target transform: {ds.target_transform!r}"
    )
    loader = glasstorch.utils.data.DataLoader(ds, batch_size=4)
    xb, yb = next(iter(loader))
    assert tuple(xb.shape) == (4, 1, 28, 28) and yb.tolist() == [107, 102, 101, 100]


@needs_mnist
@pytest.mark.parametrize("transform", [
    T.ToTensor(), T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))]),
    T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.25,)), T.Normalize((1.0,), (2.0,))])])
def test_mnist_batches_are_gathered_in_one_go(mnist_test, transform):
    ds = datasets.MNIST(MNIST_DIR, train=False, transform=transform)
    indices = [5, 3, 9999, -1, 0]
    fast = ds._collated_batch(indices)  # the DataLoader's route for ToTensor [+ Normalize] pipelines
    slow = glasstorch.utils.data.default_collate([ds[i] for i in indices])
    assert fast[0].dtype == slow[0].dtype == glasstorch.float32 and fast[1].dtype == glasstorch.int64
    np.testing.assert_array_equal(fast[0].numpy(), slow[0].numpy())  # same element-wise arithmetic
    assert fast[1].tolist() == slow[1].tolist() == [1, 0, 6, 6, 7]
    loader = glasstorch.utils.data.DataLoader(ds, batch_size=5, sampler=[5, 3, 9999, 9999, 0])
    np.testing.assert_array_equal(next(iter(loader))[0].numpy()[:2], slow[0].numpy()[:2])
    # anything else (a random transform, a target transform) goes sample by sample
    assert datasets.MNIST(MNIST_DIR, train=False, transform=T.Compose([T.RandomHorizontalFlip(), T.ToTensor()])
                          )._collated_batch([0]) is None
    assert datasets.MNIST(MNIST_DIR, train=False, transform=T.ToTensor(), target_transform=int
                          )._collated_batch([0]) is None


def tiny_idx_files(folder: Path, n: int = 3, seed: int = 0) -> dict[str, FileSpec]:
    """Small IDX files of all four names in `folder`; their FileSpecs (decompressed SHA-256)."""
    rng = np.random.default_rng(seed)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": np.arange(n, dtype=np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": np.arange(n, dtype=np.uint8)[::-1].copy()}
    folder.mkdir(parents=True, exist_ok=True)
    specs = {}
    for name, a in arrays.items():
        write_idx(folder / f"{name}.gz", a)
        raw = gzip.decompress((folder / f"{name}.gz").read_bytes())
        specs[name] = FileSpec(name, hashlib.sha256(raw).hexdigest(), len(raw))
    return specs


def test_mnist_layout_root_class_raw(tmp_path):
    specs = tiny_idx_files(tmp_path / "Tiny" / "raw")
    Tiny = type("Tiny", (datasets.MNIST,), {
        "train_files": (specs["train-images-idx3-ubyte"], specs["train-labels-idx1-ubyte"]),
        "test_files": (specs["t10k-images-idx3-ubyte"], specs["t10k-labels-idx1-ubyte"])})
    ds = Tiny(str(tmp_path), train=False)
    assert ds.raw_folder == str(tmp_path / "Tiny" / "raw") and ds.processed_folder.endswith("Tiny/processed")
    assert [ds[i][1] for i in range(3)] == [2, 1, 0] and ds[0][0].mode == "L"
    assert ds.__getitems__([2, 0])[0][1] == 0  # per sample: the DataLoader's batched fetch gets PIL images too


@needs_mnist
def test_mnist_also_looks_in_glasstorch_data(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSTORCH_DATA", str(MNIST_DIR))
    ds = datasets.MNIST(tmp_path / "data", train=False, download=True)  # a script's root="./data"
    assert len(ds) == 10000 and files_under(tmp_path) == []  # found verified: nothing fetched or written


def test_download_without_network_fails_with_torchvision_text(tmp_path):
    with pytest.raises(RuntimeError) as info:
        datasets.MNIST(tmp_path, train=True, download=True)
    message = str(info.value)
    assert message.startswith("Error downloading train-images-idx3-ubyte.gz\n")
    assert "Temporary failure in name resolution" in message  # why each mirror failed is kept
    assert files_under(tmp_path) == []
    with pytest.raises(RuntimeError, match="^Dataset not found. You can use download=True to download it"):
        datasets.FashionMNIST(tmp_path)


def test_corrupt_mnist_file_is_refused(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / f"{name}.gz").write_bytes(gzip.compress(b"\0\0\x08\x01\0\0\0\x02ab"))
    with pytest.raises(RuntimeError, match="Dataset not found") as info:
        datasets.MNIST(tmp_path, train=False)
    assert "bytes after decompression, expected 7840016" in str(info.value)


def test_kmnist_files_are_checked_by_the_md5_of_their_gz(tmp_path):
    assert datasets.KMNIST.classes == ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
    assert datasets.KMNIST.train_files[0].gz_md5 == "bdb82020997e1d708af4cf47b453dcf7"  # torchvision's digest
    raw = tmp_path / "Kuzu" / "raw"
    tiny_idx_files(raw)
    specs = {}
    for name in MNIST_FILES:
        gz = (raw / f"{name}.gz").read_bytes()
        specs[name] = FileSpec(name, None, len(gzip.decompress(gz)), gz_md5=hashlib.md5(gz).hexdigest())
    Kuzu = type("Kuzu", (datasets.KMNIST,), {
        "train_files": (specs[MNIST_FILES[0]], specs[MNIST_FILES[1]]),
        "test_files": (specs[MNIST_FILES[2]], specs[MNIST_FILES[3]])})
    assert len(Kuzu(tmp_path, train=True)) == 3
    # the same contents in another gzip wrapper are not the official file
    labels = gzip.decompress((raw / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels, compresslevel=1, mtime=1))
    with pytest.raises(RuntimeError, match="MD5 of the file is [0-9a-f]{32}, expected"):
        Kuzu(tmp_path, train=False)


# ---- CIFAR-10 -------------------------------------------------------------------------------------

def write_cifar(root: Path, per_batch: int = 2) -> dict:
    """A miniature cifar-10-batches-py (pickled like the real one: bytes keys' values, uint8 rows)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    rows = {}
    for k, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        rows[name] = data
        entry = {"batch_label": name, "labels": [(k + j) % 10 for j in range(per_batch)], "data": data,
                 "filenames": [f"img{j}.png" for j in range(per_batch)]}
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": names, "num_vis": 3072}, protocol=2))
    return rows


def cifar_class(root: Path, **extra) -> type:
    """CIFAR10 with the MD5 digests of the miniature files (the real lists are torchvision's)."""
    folder = root / "cifar-10-batches-py"

    def md5(name):
        return hashlib.md5((folder / name).read_bytes()).hexdigest()

    attrs = {"train_list": [[f"data_batch_{i}", md5(f"data_batch_{i}")] for i in range(1, 6)],
             "test_list": [["test_batch", md5("test_batch")]],
             "meta": {"filename": "batches.meta", "key": "label_names", "md5": md5("batches.meta")}, **extra}
    return type("CIFAR10", (datasets.CIFAR10,), attrs)


def test_cifar10_from_pickled_batches(tmp_path):
    rows = write_cifar(tmp_path)
    ds = cifar_class(tmp_path)(str(tmp_path), train=True)
    assert len(ds) == 10 and ds.data.shape == (10, 32, 32, 3) and ds.data.dtype == np.uint8
    # a row is the red plane, then green, then blue, each 32 x 32 row-major
    row = rows["data_batch_2"][1]
    r, c = 5, 17
    assert ds.data[3, r, c].tolist() == [row[r * 32 + c], row[1024 + r * 32 + c], row[2048 + r * 32 + c]]
    assert ds.targets == [0, 1, 1, 2, 2, 3, 3, 4, 4, 5]
    assert ds.classes[9] == "truck" and ds.class_to_idx["cat"] == 3
    img, label = ds[3]
    assert img.mode == "RGB" and img.size == (32, 32) and label == 2
    np.testing.assert_array_equal(pixels(img), ds.data[3])
    test = cifar_class(tmp_path)(tmp_path, train=False, transform=T.ToTensor())
    assert len(test) == 2 and tuple(test[0][0].shape) == (3, 32, 32) and "Split: Test" in repr(test)


def test_cifar10_batches_are_gathered_in_one_go(tmp_path):
    write_cifar(tmp_path)
    tf = T.Compose([T.ToTensor(), T.Normalize((0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261))])
    ds = cifar_class(tmp_path)(tmp_path, transform=tf)
    indices = [9, 0, 4, -2]
    fast = ds._collated_batch(indices)
    slow = glasstorch.utils.data.default_collate([ds[i] for i in indices])
    np.testing.assert_array_equal(fast[0].numpy(), slow[0].numpy())
    assert fast[1].tolist() == slow[1].tolist() == [5, 0, 2, 4] and fast[1].dtype == glasstorch.int64
    augmenting = cifar_class(tmp_path)(tmp_path, transform=T.Compose([T.RandomCrop(32, padding=4), T.ToTensor()]))
    assert augmenting._collated_batch([0]) is None


def test_cifar10_refuses_corrupt_or_missing_files(tmp_path):
    write_cifar(tmp_path)
    Cifar = cifar_class(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"corrupt")
    with pytest.raises(RuntimeError, match="^Dataset not found or corrupted. You can use download=True to download "
                                           "it$"):
        Cifar(tmp_path)
    with pytest.raises(RuntimeError, match="^Dataset not found or corrupted"):
        datasets.CIFAR10(tmp_path / "nothing")  # the official digests: the miniature files never pass


def test_cifar10_pickles_cannot_run_code(tmp_path):
    write_cifar(tmp_path)
    evil = (tmp_path / "cifar-10-batches-py" / "test_batch")
    evil.write_bytes(pickle.dumps(os.system, protocol=2))  # a global that is not an array part
    with pytest.raises(pickle.UnpicklingError, match="not posix.system|not nt.system"):
        cifar_class(tmp_path)(tmp_path, train=False)


def test_cifar10_download_checks_the_archive(tmp_path, monkeypatch):
    source = tmp_path / "source"
    write_cifar(source)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(source / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    archive = buf.getvalue()
    Cifar = cifar_class(source, tgz_md5=hashlib.md5(archive).hexdigest(), url="https://example.invalid/c.tar.gz")
    with pytest.raises(RuntimeError, match="^Error downloading cifar-10-python.tar.gz: URLError"):
        Cifar(tmp_path / "a", download=True)
    assert files_under(tmp_path / "a") == []
    monkeypatch.setattr(_download, "http_get", lambda url, timeout=None: archive[:-1] + b"x")
    with pytest.raises(RuntimeError, match="MD5 of the download is"):
        Cifar(tmp_path / "b", download=True)
    assert files_under(tmp_path / "b") == []  # a corrupt download leaves nothing behind
    monkeypatch.setattr(_download, "http_get", lambda url, timeout=None: archive)
    ds = Cifar(tmp_path / "c", download=True)
    assert len(ds) == 10 and (tmp_path / "c" / "cifar-10-python.tar.gz").is_file()


# ---- FakeData, ImageFolder ------------------------------------------------------------------------

def test_fakedata_is_deterministic_and_leaves_the_rng_alone():
    ds = datasets.FakeData(size=5, image_size=(3, 6, 7), num_classes=4)
    glasstorch.manual_seed(123)
    img, label = ds[2]
    after = glasstorch.rand(3)
    glasstorch.manual_seed(123)
    assert glasstorch.equal(glasstorch.rand(3), after)  # reading a sample did not consume the global stream
    assert img.mode == "RGB" and img.size == (7, 6) and 0 <= label < 4
    again, label2 = ds[2]
    np.testing.assert_array_equal(pixels(img), pixels(again))
    assert label2 == label and len(ds) == 5
    with pytest.raises(IndexError, match="FakeData index out of range"):
        ds[5]
    assert datasets.FakeData(size=2, image_size=(1, 4, 4))[0][0].mode == "L"


@pytest.fixture
def image_tree(tmp_path):
    root = tmp_path / "tree"
    for rel, size in (("dog/b.png", (5, 4)), ("cat/z.jpg", (6, 6)), ("cat/sub/a.PNG", (3, 2)), ("dog/a.bmp", (4, 4))):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((size[1], size[0]), 100, np.uint8)).save(path)
    (root / "dog" / "notes.txt").write_text("not an image")
    return root


def test_image_folder(image_tree):
    ds = datasets.ImageFolder(str(image_tree))
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    expected = [(str(image_tree / "cat" / "z.jpg"), 0), (str(image_tree / "cat" / "sub" / "a.PNG"), 0),
                (str(image_tree / "dog" / "a.bmp"), 1), (str(image_tree / "dog" / "b.png"), 1)]
    assert ds.samples == expected and ds.imgs == expected and ds.targets == [0, 0, 1, 1]
    img, label = ds[1]
    assert img.mode == "RGB" and img.size == (3, 2) and label == 0  # grey files load as RGB


def test_image_folder_with_an_empty_class_is_refused(image_tree):
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes cat. "):
        datasets.ImageFolder(image_tree, is_valid_file=lambda p: p.endswith(".png"))
    ds = datasets.ImageFolder(image_tree, is_valid_file=lambda p: p.endswith(".png"), allow_empty=True)
    assert [Path(p).name for p, _ in ds.samples] == ["b.png"]
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder in"):
        datasets.ImageFolder(image_tree / "cat" / "sub")


def test_dataset_folder_with_own_loader(image_tree):
    ds = datasets.DatasetFolder(image_tree, loader=lambda p: Path(p).stat().st_size, extensions=(".txt",),
                                allow_empty=True, target_transform=lambda y: -y)
    assert ds.samples == [(str(image_tree / "dog" / "notes.txt"), 1)] and ds[0] == (12, -1)
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None or not None"):
        datasets.DatasetFolder(image_tree, loader=print)


# ---- conversions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [rgb_image, gray_image])
def test_to_tensor_matches_torch(make):
    img = make()
    ours = T.ToTensor()(img)
    hwc = torch.from_numpy(np.array(img)).reshape(img.size[1], img.size[0], -1)
    expected = hwc.permute(2, 0, 1).contiguous().to(torch.float32).div(255)  # torchvision's formula
    assert ours.dtype == glasstorch.float32 and ours.is_contiguous()
    np.testing.assert_array_equal(ours.numpy(), expected.numpy())
    # ndarrays too: uint8 is scaled, other dtypes are only transposed
    np.testing.assert_array_equal(T.ToTensor()(np.array(img)).numpy(), expected.numpy())
    floats = np.random.default_rng(0).random((4, 5, 2))
    assert T.ToTensor()(floats).dtype == glasstorch.float64
    np.testing.assert_array_equal(T.ToTensor()(floats).numpy(), floats.transpose(2, 0, 1))


def test_to_tensor_follows_the_default_dtype():
    glasstorch.set_default_dtype(glasstorch.float64)
    try:
        out = T.ToTensor()(gray_image())
    finally:
        glasstorch.set_default_dtype(glasstorch.float32)
    assert out.dtype == glasstorch.float64
    np.testing.assert_array_equal(out.numpy()[0], np.array(gray_image(), np.float64) / 255)


def test_wrong_input_types():
    with pytest.raises(TypeError, match=r"^pic should be PIL Image or ndarray. Got <class 'list'>$"):
        T.ToTensor()([[1, 2]])
    with pytest.raises(TypeError, match=r"^pic should be PIL Image. Got <class 'numpy.ndarray'>$"):
        T.PILToTensor()(np.zeros((2, 2), np.uint8))
    with pytest.raises(TypeError, match=r"^pic should be Tensor or ndarray. Got <class 'str'>.$"):
        T.ToPILImage()("x")
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 1 dimensions."):
        T.ToTensor()(np.zeros(3, np.uint8))
    with pytest.raises(TypeError, match=r"^Unexpected type <class 'list'>$"):
        T.CenterCrop(2)([1])
    with pytest.raises(TypeError, match=r"^img should be PIL Image. Got <class 'list'>$"):
        T.RandomHorizontalFlip(p=1.0)([1])
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        T.Lambda(3)


def test_pil_to_tensor_and_back():
    img = rgb_image()
    t = T.PILToTensor()(img)
    assert t.dtype == glasstorch.uint8 and tuple(t.shape) == (3, 20, 30)
    np.testing.assert_array_equal(t.permute(1, 2, 0).numpy(), pixels(img))
    back = T.ToPILImage()(t)
    assert back.mode == "RGB" and np.array_equal(pixels(back), pixels(img))
    # floats are scaled by 255 and truncated toward zero, as (x * 255).astype(uint8)
    x = glasstorch.rand(1, 4, 5)
    gray = T.ToPILImage()(x)
    assert gray.mode == "L"
    np.testing.assert_array_equal(pixels(gray), (x.numpy()[0] * 255).astype(np.uint8))
    assert T.ToPILImage(mode="F")(x).mode == "F" and T.ToPILImage()(np.zeros((2, 2, 4), np.uint8)).mode == "RGBA"
    with pytest.raises(ValueError, match=r"Only modes \['RGB', 'YCbCr', 'HSV'\] are supported for 3D inputs"):
        T.ToPILImage(mode="L")(np.zeros((2, 2, 3), np.uint8))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normalize_matches_torch(dtype):
    x = np.random.default_rng(2).random((2, 3, 4, 5)).astype(dtype)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    ours = T.Normalize(mean, std)(glasstorch.from_numpy(x.copy()))
    t = torch.from_numpy(x.copy())
    dt = getattr(torch, dtype)
    mean_t, std_t = torch.as_tensor(mean, dtype=dt).view(-1, 1, 1), torch.as_tensor(std, dtype=dt).view(-1, 1, 1)
    expected = t.clone().sub_(mean_t).div_(std_t)
    np.testing.assert_array_equal(ours.numpy(), expected.numpy())  # the same two rounded operations
    src = glasstorch.from_numpy(x.copy())
    T.Normalize(mean, std, inplace=True)(src)
    np.testing.assert_array_equal(src.numpy(), expected.numpy())


def test_normalize_errors():
    with pytest.raises(TypeError, match="Input tensor should be a float tensor. Got torch.uint8."):
        T.Normalize((0.5,), (0.5,))(glasstorch.zeros(1, 2, 2, dtype=glasstorch.uint8))
    with pytest.raises(ValueError, match="std evaluated to zero after conversion to torch.float32"):
        T.Normalize((0.5,), (0.0,))(glasstorch.zeros(1, 2, 2))
    with pytest.raises(ValueError, match=r"Expected tensor to be a tensor image of size \(..., C, H, W\)"):
        T.Normalize((0.5,), (0.5,))(glasstorch.zeros(2, 2))


# ---- geometry -------------------------------------------------------------------------------------

@pytest.mark.parametrize("interpolation,pil_filter", [
    (T.InterpolationMode.BILINEAR, Image.Resampling.BILINEAR), (T.InterpolationMode.NEAREST, Image.Resampling.NEAREST),
    (T.InterpolationMode.BICUBIC, Image.Resampling.BICUBIC), (T.InterpolationMode.LANCZOS, Image.Resampling.LANCZOS)])
def test_resize_uses_pils_filter(interpolation, pil_filter):
    img = rgb_image(20, 30)
    out = T.Resize(10, interpolation=interpolation)(img)
    # shorter edge (h = 20) -> 10, the other scaled and floored: int(10 * 30 / 20) = 15
    assert out.size == (15, 10)
    np.testing.assert_array_equal(pixels(out), pixels(img.resize((15, 10), pil_filter)))
    tall = gray_image(31, 7)
    np.testing.assert_array_equal(pixels(T.Resize([5], interpolation)(tall)),
                                  pixels(tall.resize((5, int(5 * 31 / 7)), pil_filter)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("size", [(10, 15), (7, 40), (33, 11)])
def test_resize_tensor_matches_torch_antialias(dtype, mode, size):
    x = np.random.default_rng(0).random((2, 3, 20, 30)).astype(dtype)
    ours = T.Resize(size, interpolation=T.InterpolationMode(mode))(glasstorch.from_numpy(x))
    ref = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode=mode, antialias=True,
                                          align_corners=False)
    # the same weights summed in another order: a few ulps (float32 ~1e-5 relative, float64 ~1e-10)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    assert ours.dtype == getattr(glasstorch, dtype)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), **tol)
    plain = T.Resize(size, interpolation=T.InterpolationMode(mode), antialias=False)(glasstorch.from_numpy(x))
    ref = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode=mode, align_corners=False)
    np.testing.assert_allclose(plain.numpy(), ref.numpy(), **tol)


def test_resize_uint8_tensor():
    x = np.random.default_rng(0).integers(0, 256, (3, 20, 30), dtype=np.uint8)
    ours = T.Resize(8)(glasstorch.from_numpy(x))
    ref = torch.nn.functional.interpolate(torch.from_numpy(x)[None].float(), size=(8, 12), mode="bilinear",
                                          antialias=True, align_corners=False)[0].round().to(torch.uint8)
    assert ours.dtype == glasstorch.uint8 and tuple(ours.shape) == (3, 8, 12)
    # computed in float32 and rounded: a value within an ulp of .5 may round either way
    assert np.abs(ours.numpy().astype(int) - ref.numpy().astype(int)).max() <= 1
    nearest = T.Resize((8, 12), interpolation=T.InterpolationMode.NEAREST)(glasstorch.from_numpy(x))
    np.testing.assert_array_equal(nearest.numpy(), torch.nn.functional.interpolate(
        torch.from_numpy(x)[None].float(), size=(8, 12), mode="nearest")[0].to(torch.uint8).numpy())


def test_resize_sizes():
    img = rgb_image(20, 30)
    assert T.Resize((7, 9))(img).size == (9, 7)
    assert T.Resize(20)(img) is img  # already the requested size: untouched, as torchvision returns it
    assert T.Resize(10, max_size=12)(img).size == (12, 8)  # long edge capped: short = int(12 * 10 / 15)
    assert T.Resize(10, interpolation=0)(img).size == (15, 10)  # Pillow's integer constants are accepted
    with pytest.raises(ValueError, match="max_size = 10 must be strictly greater than the requested size"):
        T.Resize(10, max_size=10)(img)
    with pytest.raises(ValueError, match="If size is a sequence, it should have 1 or 2 values"):
        T.Resize((1, 2, 3))
    with pytest.raises(TypeError, match="Size should be int or sequence. Got <class 'float'>"):
        T.Resize(2.5)
    assert repr(T.Resize(10)) == "Resize(size=10, interpolation=bilinear, max_size=None, antialias=True)"


def test_center_crop_rounding_and_padding():
    img = gray_image(7, 9)
    a = pixels(img)
    # margins 3 and 5: top = round(1.5) = 2, left = round(2.5) = 2 (Python rounds halves to even)
    np.testing.assert_array_equal(pixels(T.CenterCrop(4)(img)), a[2:6, 2:6])
    np.testing.assert_array_equal(pixels(T.CenterCrop((3, 8))(img)), a[2:5, 0:8])
    # larger than the image: zero padding, the odd pixel on the bottom/right
    big = pixels(T.CenterCrop((10, 12))(img))
    np.testing.assert_array_equal(big, np.pad(a, ((1, 2), (1, 2))))
    t = glasstorch.from_numpy(a.copy())[None]
    np.testing.assert_array_equal(T.CenterCrop(4)(t).numpy()[0], a[2:6, 2:6])
    np.testing.assert_array_equal(T.CenterCrop((10, 12))(t).numpy()[0], np.pad(a, ((1, 2), (1, 2))))
    assert repr(T.CenterCrop(4)) == "CenterCrop(size=(4, 4))"


def replay_randint(*highs):
    """The integers a transform drew, replayed from a fresh glasstorch.manual_seed(7)."""
    glasstorch.manual_seed(7)
    return [int(glasstorch.randint(0, h, size=(1,)).item()) for h in highs]


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_random_crop_with_padding(mode):
    img = rgb_image(6, 8)
    glasstorch.manual_seed(7)
    out = T.RandomCrop(5, padding=(2, 1), fill=(9, 8, 7), padding_mode=mode)(img)
    padded = np.pad(pixels(img), ((1, 1), (2, 2), (0, 0)), mode=mode)  # (left/right 2, top/bottom 1)
    if mode == "constant":
        padded = np.pad(pixels(img), ((1, 1), (2, 2), (0, 0)))
        padded[:1], padded[-1:], padded[:, :2], padded[:, -2:] = (9, 8, 7), (9, 8, 7), (9, 8, 7), (9, 8, 7)
    i, j = replay_randint(8 - 5 + 1, 12 - 5 + 1)
    np.testing.assert_array_equal(pixels(out), padded[i:i + 5, j:j + 5])


def test_random_crop_pad_if_needed_and_tensors():
    img = gray_image(3, 4)
    glasstorch.manual_seed(7)
    out = T.RandomCrop((5, 6), pad_if_needed=True, fill=255)(img)
    assert out.size == (6, 5)
    expected = np.pad(pixels(img), ((2, 2), (2, 2)), constant_values=255)  # padded to 7 x 8 first
    i, j = replay_randint(7 - 5 + 1, 8 - 6 + 1)
    np.testing.assert_array_equal(pixels(out), expected[i:i + 5, j:j + 6])
    t = glasstorch.from_numpy(pixels(rgb_image(6, 8)).transpose(2, 0, 1).copy())
    glasstorch.manual_seed(7)
    crop = T.RandomCrop(4, padding=1, padding_mode="reflect")(t)
    i, j = replay_randint(8 - 4 + 1, 10 - 4 + 1)
    ref = np.pad(t.numpy(), ((0, 0), (1, 1), (1, 1)), mode="reflect")[:, i:i + 4, j:j + 4]
    np.testing.assert_array_equal(crop.numpy(), ref)
    with pytest.raises(ValueError, match=r"Required crop size \(5, 6\) is larger than input image size \(3, 4\)"):
        T.RandomCrop((5, 6))(img)
    assert repr(T.RandomCrop(32, padding=4)) == "RandomCrop(size=(32, 32), padding=4)"


def test_flips():
    img = rgb_image()
    np.testing.assert_array_equal(pixels(T.RandomHorizontalFlip(p=1.0)(img)), pixels(img)[:, ::-1])
    np.testing.assert_array_equal(pixels(T.RandomVerticalFlip(p=1.0)(img)), pixels(img)[::-1])
    assert T.RandomHorizontalFlip(p=0.0)(img) is img
    x = np.random.default_rng(0).random((2, 3, 4))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(glasstorch.from_numpy(x)).numpy(),
                                  torch.from_numpy(x).flip(-1).numpy())
    # p=0.5: the coin is glasstorch.rand(1) < p, so a seed decides it
    flips = []
    for seed in range(8):
        glasstorch.manual_seed(seed)
        flipped = not np.array_equal(pixels(T.RandomHorizontalFlip()(img)), pixels(img))
        glasstorch.manual_seed(seed)
        assert flipped == (glasstorch.rand(1).item() < 0.5)
        flips.append(flipped)
    assert any(flips) and not all(flips)
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"


def test_random_rotation():
    img = rgb_image(15, 17)
    glasstorch.manual_seed(7)
    out = T.RandomRotation(30, fill=(1, 2, 3))(img)
    glasstorch.manual_seed(7)
    angle = glasstorch.empty(1).uniform_(-30.0, 30.0).item()
    expected = img.rotate(angle, Image.Resampling.NEAREST, False, None, fillcolor=(1, 2, 3))
    np.testing.assert_array_equal(pixels(out), pixels(expected))
    assert not np.array_equal(pixels(out), pixels(img))
    bilinear = T.RandomRotation((10, 20), interpolation=T.InterpolationMode.BILINEAR, expand=True)
    glasstorch.manual_seed(7)
    angle = glasstorch.empty(1).uniform_(10.0, 20.0).item()
    glasstorch.manual_seed(7)
    np.testing.assert_array_equal(pixels(bilinear(img)),
                                  pixels(img.rotate(angle, Image.Resampling.BILINEAR, True, None, fillcolor=(0, 0, 0))))
    assert repr(T.RandomRotation(10)) == ("RandomRotation(degrees=[-10.0, 10.0], interpolation=nearest, "
                                          "expand=False, fill=0)")
    with pytest.raises(ValueError, match="If degrees is a single number, it must be positive."):
        T.RandomRotation(-1)


def test_random_resized_crop():
    img = rgb_image(40, 50)
    rrc = T.RandomResizedCrop(16, scale=(0.2, 0.6), ratio=(0.5, 2.0))
    glasstorch.manual_seed(3)
    i, j, h, w = rrc.get_params(img, rrc.scale, rrc.ratio)
    # rounding h and w moves area and aspect a little off the sampled values: bounds with a margin
    assert 0.2 * 0.8 <= h * w / 2000 <= 0.6 * 1.2 and 0.5 * 0.8 <= w / h <= 2.0 * 1.2
    assert 0 <= i <= 40 - h and 0 <= j <= 50 - w
    glasstorch.manual_seed(3)
    out = rrc(img)
    expected = img.crop((j, i, j + w, i + h)).resize((16, 16), Image.Resampling.BILINEAR)
    np.testing.assert_array_equal(pixels(out), pixels(expected))
    # no box of that area fits: the fallback is the central crop at the nearest allowed ratio
    assert T.RandomResizedCrop.get_params(img, (2.0, 3.0), (0.5, 0.6)) == (0, 13, 40, 24)  # w = round(40 * 0.6)
    assert repr(T.RandomResizedCrop(224)) == ("RandomResizedCrop(size=(224, 224), scale=(0.08, 1.0), "
                                              "ratio=(0.75, 1.3333), interpolation=bilinear, antialias=True)")


def affine_by_composition(center, angle, translate, scale, shear) -> np.ndarray:
    """torchvision's documented affine map T(translate) C(center) R(angle) S(scale) SHy SHx C^-1
    (SHx = [[1, -tan sx], [0, 1]], SHy = [[1, 0], [-tan sy, 1]]) as a 3x3 matrix."""
    rot, sx, sy = np.radians(angle), np.radians(shear[0]), np.radians(shear[1])
    rotation = np.array([[np.cos(rot), -np.sin(rot), 0], [np.sin(rot), np.cos(rot), 0], [0, 0, 1]])
    shear_x = np.array([[1, -np.tan(sx), 0], [0, 1, 0], [0, 0, 1]])
    shear_y = np.array([[1, 0, 0], [-np.tan(sy), 1, 0], [0, 0, 1]])
    centre = np.array([[1, 0, center[0]], [0, 1, center[1]], [0, 0, 1.0]])
    shift = np.array([[1, 0, translate[0]], [0, 1, translate[1]], [0, 0, 1.0]])
    return shift @ centre @ rotation @ np.diag([scale, scale, 1.0]) @ shear_y @ shear_x @ np.linalg.inv(centre)


@pytest.mark.parametrize("params", [((15, 10), 30.0, (3, -2), 1.2, (5.0, -7.0)),
                                    ((3.5, 8), -71.0, (0, 4), 0.7, (0.0, 12.0))])
def test_affine_matrix_is_the_inverse_of_the_composition(params):
    ours = np.array(TF._inverse_affine_matrix(*params)).reshape(2, 3)
    np.testing.assert_allclose(ours, np.linalg.inv(affine_by_composition(*params))[:2], rtol=0, atol=1e-12)


def test_random_affine():
    square = gray_image(6, 6)
    # a quarter turn about the middle moves pixel centres onto pixel centres: clockwise on screen
    np.testing.assert_array_equal(pixels(TF.affine(square, 90, [0, 0], 1.0, 0)), np.rot90(pixels(square), -1))
    img = rgb_image(20, 30)
    tf = T.RandomAffine(25, translate=(0.2, 0.1), scale=(0.8, 1.2), shear=(-5, 5, -3, 3), fill=(1, 2, 3))
    glasstorch.manual_seed(7)
    out = tf(img)
    glasstorch.manual_seed(7)
    draw = [glasstorch.empty(1).uniform_(lo, hi).item() for lo, hi in ((-25.0, 25.0), (-6.0, 6.0), (-2.0, 2.0),
                                                                       (0.8, 1.2), (-5.0, 5.0), (-3.0, 3.0))]
    angle, tx, ty, scale, sx, sy = draw[0], int(round(draw[1])), int(round(draw[2])), *draw[3:]
    matrix = TF._inverse_affine_matrix([15.0, 10.0], angle, [tx, ty], scale, [sx, sy])
    expected = img.transform(img.size, Image.Transform.AFFINE, matrix, Image.Resampling.NEAREST, fillcolor=(1, 2, 3))
    np.testing.assert_array_equal(pixels(out), pixels(expected))
    assert repr(T.RandomAffine(10, translate=(0.1, 0.1))) == "RandomAffine(degrees=[-10.0, 10.0], translate=(0.1, 0.1))"
    with pytest.raises(ValueError, match="translation values should be between 0 and 1"):
        T.RandomAffine(0, translate=(0.5, 1.5))


# ---- colour -----------------------------------------------------------------------------------------

def test_color_jitter_replays_its_draws():
    img = rgb_image()
    jitter = T.ColorJitter(brightness=0.4, contrast=(0.5, 1.5), saturation=0.3)
    assert jitter.brightness == (0.6, 1.4) and jitter.hue is None
    glasstorch.manual_seed(7)
    out = jitter(img)
    glasstorch.manual_seed(7)
    order = glasstorch.randperm(4).tolist()
    factors = [glasstorch.empty(1).uniform_(lo, hi).item() for lo, hi in ((0.6, 1.4), (0.5, 1.5), (0.7, 1.3))]
    expected = img
    enhancers = (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color)
    for k in order:
        if k < 3:
            expected = enhancers[k](expected).enhance(factors[k])
    np.testing.assert_array_equal(pixels(out), pixels(expected))
    assert repr(jitter) == "ColorJitter(brightness=(0.6, 1.4), contrast=(0.5, 1.5), saturation=(0.7, 1.3), hue=None)"
    with pytest.raises(ValueError, match=r"hue values should be between \(-0.5, 0.5\), but got \[-0.6, 0.6\]."):
        T.ColorJitter(hue=0.6)


def test_adjust_hue():
    img = rgb_image()
    h, s, v = (np.array(c) for c in img.convert("HSV").split())
    for factor in (0.25, -0.1):
        shifted = (h.astype(np.int64) + int(factor * 255)) % 256  # the uint8 shift wraps around
        hsv = np.stack([shifted.astype(np.uint8), s, v], axis=-1)
        expected = Image.fromarray(hsv, "HSV").convert("RGB")
        np.testing.assert_array_equal(pixels(TF.adjust_hue(img, factor)), pixels(expected))
    assert TF.adjust_hue(gray_image(), 0.3) is not None and pixels(TF.adjust_hue(gray_image(), 0.3)).shape == (20, 30)
    with pytest.raises(ValueError, match=r"hue_factor \(0.7\) is not in \[-0.5, 0.5\]."):
        TF.adjust_hue(img, 0.7)
    glasstorch.manual_seed(0)
    a = T.ColorJitter(hue=0.2)(img)
    glasstorch.manual_seed(0)
    assert np.array_equal(pixels(a), pixels(T.ColorJitter(hue=0.2)(img)))


def test_grayscale():
    img = rgb_image()
    np.testing.assert_array_equal(pixels(T.Grayscale()(img)), pixels(img.convert("L")))
    three = T.Grayscale(num_output_channels=3)(img)
    assert three.mode == "RGB"
    assert all(np.array_equal(pixels(three)[..., c], pixels(img.convert("L"))) for c in range(3))
    x = np.random.default_rng(0).random((2, 3, 4, 5)).astype(np.float32)
    r, g, b = torch.from_numpy(x).unbind(dim=-3)
    expected = (0.2989 * r + 0.587 * g + 0.114 * b).unsqueeze(-3)
    np.testing.assert_allclose(T.Grayscale()(glasstorch.from_numpy(x)).numpy(), expected.numpy(), rtol=1e-6, atol=0)
    assert tuple(T.Grayscale(3)(glasstorch.from_numpy(x)).shape) == (2, 3, 4, 5)


def blur_by_torch(t: torch.Tensor, kernel_size, sigma) -> torch.Tensor:
    """torchvision's documented blur in torch ops: a normalised Gaussian on linspace(-(k-1)/2, (k-1)/2),
    the 2-D kernel as the outer product (rows: y), reflect padding, a depthwise convolution."""
    def kernel1d(k, s):
        x = torch.linspace(-(k - 1) * 0.5, (k - 1) * 0.5, steps=k, dtype=t.dtype)
        pdf = torch.exp(-0.5 * (x / s).pow(2))
        return pdf / pdf.sum()

    kernel = torch.mm(kernel1d(kernel_size[1], sigma[1])[:, None], kernel1d(kernel_size[0], sigma[0])[None, :])
    c = t.shape[-3]
    padded = torch.nn.functional.pad(t, [kernel_size[0] // 2] * 2 + [kernel_size[1] // 2] * 2, mode="reflect")
    return torch.nn.functional.conv2d(padded, kernel.expand(c, 1, *kernel.shape), groups=c)


@pytest.mark.skipif(not hasattr(glasstorch.nn.functional, "conv2d"), reason="glasstorch.nn.functional lacks conv2d")
def test_gaussian_blur():
    x = np.random.default_rng(0).random((2, 3, 9, 11))
    for dtype, tol in (("float32", dict(rtol=1e-5, atol=1e-6)), ("float64", dict(rtol=1e-10, atol=1e-12))):
        xs = x.astype(dtype)
        ours = TF.gaussian_blur(glasstorch.from_numpy(xs), [5, 3], [1.2, 0.7])
        np.testing.assert_allclose(ours.numpy(), blur_by_torch(torch.from_numpy(xs), [5, 3], [1.2, 0.7]).numpy(),
                                   **tol)
    img = rgb_image(9, 11)
    out = pixels(TF.gaussian_blur(img, 5, 1.5))
    chw = torch.from_numpy(pixels(img).transpose(2, 0, 1).copy()).float()[None]
    ref = blur_by_torch(chw, [5, 5], [1.5, 1.5])[0].round().to(torch.uint8).permute(1, 2, 0).numpy()
    # float32 sums in another order can land a value within an ulp of .5 on the other side
    assert np.abs(out.astype(int) - ref.astype(int)).max() <= 1
    blur = T.GaussianBlur(3, sigma=(0.5, 2.0))
    glasstorch.manual_seed(7)
    got = blur(img)
    glasstorch.manual_seed(7)
    sigma = glasstorch.empty(1).uniform_(0.5, 2.0).item()
    np.testing.assert_array_equal(pixels(got), pixels(TF.gaussian_blur(img, [3, 3], [sigma, sigma])))
    assert repr(blur) == "GaussianBlur(kernel_size=(3, 3), sigma=(0.5, 2.0))"
    with pytest.raises(ValueError, match="Kernel size value should be an odd and positive number."):
        T.GaussianBlur(4)


def test_random_erasing():
    x = glasstorch.ones(3, 20, 30)
    glasstorch.manual_seed(5)
    out = T.RandomErasing(p=1.0, value=(0.0, 0.5, 0.25))(x)
    assert glasstorch.equal(x, glasstorch.ones(3, 20, 30))  # not in place by default
    erased = out.numpy() != 1.0
    rows, cols = np.nonzero(erased[0])
    box = (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1)
    assert erased[0].sum() == (box[1] - box[0]) * (box[3] - box[2])  # one solid rectangle
    assert 0.02 * 0.7 <= erased[0].mean() <= 0.33 * 1.3
    np.testing.assert_array_equal(out.numpy()[:, box[0]:box[1], box[2]:box[3]][:, 0, 0], [0.0, 0.5, 0.25])
    glasstorch.manual_seed(5)
    again = T.RandomErasing(p=1.0, value=(0.0, 0.5, 0.25))(x)
    assert glasstorch.equal(out, again)
    assert T.RandomErasing(p=0.0)(x) is x
    noisy = T.RandomErasing(p=1.0, value="random")(x)
    assert noisy.dtype == glasstorch.float32 and (noisy != 1).any()
    with pytest.raises(ValueError, match="If value is str, it should be 'random'"):
        T.RandomErasing(value="zeros")
    with pytest.raises(ValueError, match="If value is a sequence, it should have either a single value or 3"):
        T.RandomErasing(p=1.0, value=(1, 2))(x)


def test_pad_random_apply_random_grayscale():
    img = rgb_image(5, 6)
    out = T.Pad((1, 2, 3, 4), fill=(5, 6, 7))(img)
    expected = np.empty((5 + 2 + 4, 6 + 1 + 3, 3), np.uint8)
    expected[:] = (5, 6, 7)
    expected[2:7, 1:7] = pixels(img)
    np.testing.assert_array_equal(pixels(out), expected)
    np.testing.assert_array_equal(pixels(T.Pad(2, padding_mode="symmetric")(img)),
                                  np.pad(pixels(img), ((2, 2), (2, 2), (0, 0)), mode="symmetric"))
    assert repr(T.Pad(4)) == "Pad(padding=4, fill=0, padding_mode=constant)"
    with pytest.raises(ValueError, match="Padding must be an int or a 1, 2, or 4 element tuple, not a 3 element"):
        T.Pad((1, 2, 3))
    # RandomApply: one coin (p < rand(1) skips) for all of its transforms
    flip_both = T.RandomApply([T.RandomHorizontalFlip(1.0), T.RandomVerticalFlip(1.0)], p=0.5)
    for seed in range(6):
        glasstorch.manual_seed(seed)
        applied = not (0.5 < glasstorch.rand(1).item())
        glasstorch.manual_seed(seed)
        expected = pixels(img)[::-1, ::-1] if applied else pixels(img)
        np.testing.assert_array_equal(pixels(flip_both(img)), expected)
    assert repr(T.RandomApply([T.Pad(1)], p=0.3)) == (
        "RandomApply(\n    p=0.3\n    Pad(padding=1, fill=0, padding_mode=constant)\n)")
    gray = T.RandomGrayscale(p=1.0)(img)
    assert gray.mode == "RGB" and np.array_equal(pixels(gray)[..., 1], pixels(img.convert("L")))
    assert T.RandomGrayscale(p=0.0)(img) is img and repr(T.RandomGrayscale()) == "RandomGrayscale(p=0.1)"


def test_compose_lambda_repr():
    tf = T.Compose([T.Lambda(lambda im: im.convert("L")), T.Resize(5), T.ToTensor()])
    assert tuple(tf(rgb_image(10, 10)).shape) == (1, 5, 5)
    assert repr(tf) == ("Compose(\n    Lambda()\n    Resize(size=5, interpolation=bilinear, max_size=None, "
                        "antialias=True)\n    ToTensor()\n)")
    assert repr(T.ToPILImage()) == "ToPILImage()" and repr(T.Grayscale()) == "Grayscale(num_output_channels=1)"
    assert repr(T.RandomErasing()) == ("RandomErasing(p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, "
                                       "inplace=False)")


# ---- utils --------------------------------------------------------------------------------------------

def grid_by_hand(images: np.ndarray, nrow: int, padding: int, pad_value: float) -> np.ndarray:
    """make_grid's documented layout, written out: image k at row k // nrow, column k % nrow,
    each preceded by `padding` pixels, one more strip of padding at the bottom and right."""
    n, c, h, w = images.shape
    cols = min(nrow, n)
    rows = -(-n // cols)
    grid = np.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value, images.dtype)
    for k in range(n):
        y, x = divmod(k, cols)
        top, left = y * (h + padding) + padding, x * (w + padding) + padding
        grid[:, top:top + h, left:left + w] = images[k]
    return grid


def test_make_grid_layout():
    x = np.random.default_rng(0).random((5, 3, 4, 6)).astype(np.float32)
    grid = vutils.make_grid(glasstorch.from_numpy(x), nrow=2, padding=1, pad_value=0.5)
    np.testing.assert_array_equal(grid.numpy(), grid_by_hand(x, 2, 1, 0.5))
    np.testing.assert_array_equal(vutils.make_grid(glasstorch.from_numpy(x)).numpy(), grid_by_hand(x, 8, 2, 0.0))
    # one channel is repeated into three; a list of images is stacked; a single image comes back alone
    gray = x[:, :1]
    np.testing.assert_array_equal(vutils.make_grid([glasstorch.from_numpy(g) for g in gray], nrow=3).numpy(),
                                  grid_by_hand(np.repeat(gray, 3, axis=1), 3, 2, 0.0))
    assert tuple(vutils.make_grid(glasstorch.from_numpy(x[:1])).shape) == (3, 4, 6)
    with pytest.raises(TypeError, match="tensor or list of tensors expected, got <class 'numpy.ndarray'>"):
        vutils.make_grid(x)


def test_make_grid_normalize_matches_torch():
    x = np.random.default_rng(1).normal(size=(4, 3, 5, 5)).astype(np.float32)
    t = torch.from_numpy(x)
    # torchvision: clamp to the range, subtract low, divide by max(high - low, 1e-5), in the tensor's dtype
    lo, hi = float(t.min()), float(t.max())
    expected = t.clamp(min=lo, max=hi).sub(lo).div(max(hi - lo, 1e-5)).numpy()
    ours = vutils.make_grid(glasstorch.from_numpy(x), nrow=4, padding=0, normalize=True)
    np.testing.assert_array_equal(ours.numpy(), grid_by_hand(expected, 4, 0, 0.0))
    expected = t.clamp(min=-1.0, max=1.0).sub(-1.0).div(2.0).numpy()
    ours = vutils.make_grid(glasstorch.from_numpy(x), nrow=4, padding=0, normalize=True, value_range=(-1.0, 1.0))
    np.testing.assert_array_equal(ours.numpy(), grid_by_hand(expected, 4, 0, 0.0))
    each = np.stack([((ti - float(ti.min())) / max(float(ti.max()) - float(ti.min()), 1e-5)).numpy() for ti in t])
    ours = vutils.make_grid(glasstorch.from_numpy(x), nrow=4, padding=0, normalize=True, scale_each=True)
    np.testing.assert_allclose(ours.numpy(), grid_by_hand(each, 4, 0, 0.0), rtol=1e-6, atol=1e-7)
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        vutils.make_grid(glasstorch.from_numpy(x), normalize=True, value_range=[0, 1])


def test_save_image_round_trip(tmp_path):
    x = glasstorch.rand(3, 3, 5, 7)
    path = tmp_path / "grid.png"
    vutils.save_image(x, path, nrow=3, padding=1)
    expected = grid_by_hand(x.numpy(), 3, 1, 0.0)
    expected = np.clip(expected * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    with Image.open(path) as im:
        assert im.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(im), expected)
    buf = io.BytesIO()
    vutils.save_image(x[0], buf, format="png")
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


# ---- models -------------------------------------------------------------------------------------------

MISSING_LAYERS = [name for name in ("Conv2d", "BatchNorm2d", "MaxPool2d", "AdaptiveAvgPool2d", "Dropout")
                  if not hasattr(glasstorch.nn, name)]
needs_layers = pytest.mark.skipif(bool(MISSING_LAYERS), reason=f"glasstorch.nn lacks {', '.join(MISSING_LAYERS)}")


def resnet_keys(blocks: list[int], bottleneck: bool = False) -> list[str]:
    """torchvision's ResNet state_dict keys, derived from its module layout."""
    bn = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    keys = ["conv1.weight"] + [f"bn1.{k}" for k in bn]
    convs = 3 if bottleneck else 2
    for stage, n in enumerate(blocks, 1):
        for b in range(n):
            p = f"layer{stage}.{b}."
            for c in range(1, convs + 1):
                keys += [f"{p}conv{c}.weight"] + [f"{p}bn{c}.{k}" for k in bn]
            if b == 0 and (stage > 1 or bottleneck):
                keys += [f"{p}downsample.0.weight"] + [f"{p}downsample.1.{k}" for k in bn]
    return keys + ["fc.weight", "fc.bias"]


@needs_layers
@pytest.mark.parametrize("builder,blocks,bottleneck,n_params", [
    (models.resnet18, [2, 2, 2, 2], False, 11_689_512), (models.resnet34, [3, 4, 6, 3], False, 21_797_672)])
def test_resnet_architecture(builder, blocks, bottleneck, n_params):
    model = builder()
    assert sum(p.numel() for p in model.parameters()) == n_params  # torchvision's published counts
    assert list(model.state_dict()) == resnet_keys(blocks, bottleneck)
    # Kaiming normal, fan_out, gain sqrt(2): std = sqrt(2 / (out_channels * k * k)); the stem's 9,408
    # samples put the sample std within ~1% of it (5% leaves room for any seed)
    stem = model.conv1.weight.detach().numpy()
    assert abs(stem.std() / np.sqrt(2 / (64 * 49)) - 1) < 0.05
    assert (model.bn1.weight == 1).all() and (model.bn1.bias == 0).all()


def resnet_on_torch():
    """glasstorch.vision's resnet.py executed with real torch in place of glasstorch: the same
    architecture code building torch.nn modules, to compare layers, repr and numbers against."""
    src = (ROOT / "glasstorch" / "vision" / "models" / "resnet.py").read_text()
    src = (src.replace("from ._api import", "from glasstorch.vision.models._api import")
              .replace("import glasstorch\n", "import torch as glasstorch\n")
              .replace("from glasstorch import Tensor, nn", "from torch import Tensor, nn"))
    namespace = {"__name__": "resnet_on_torch"}
    exec(compile(src, "resnet_on_torch", "exec"), namespace)
    assert namespace["glasstorch"] is torch and namespace["nn"] is torch.nn
    return namespace


@needs_layers
def test_resnet18_matches_torch():
    ours = models.resnet18(num_classes=10).double()
    ref = resnet_on_torch()["resnet18"](num_classes=10).double()
    assert repr(ours) == repr(ref)
    ref.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(2, 3, 32, 32))
    xa, xb = glasstorch.from_numpy(x.copy()).requires_grad_(), torch.from_numpy(x.copy()).requires_grad_()
    out_a, out_b = ours(xa), ref(xb)  # training mode: batch statistics
    # layer4 runs at 1x1, so its batch norms see 2 values per channel: dividing by the tiny spread
    # of two numbers amplifies summation-order differences (measured ~5e-12 here, 1e-8 at 16x16)
    np.testing.assert_allclose(out_a.detach().numpy(), out_b.detach().numpy(), rtol=1e-9, atol=1e-11)
    out_a.square().sum().backward()
    out_b.square().sum().backward()
    # the same amplification, through 20 layers backwards: measured ~5e-11 of the largest gradient
    for (name, pa), pb in zip(ours.named_parameters(), ref.parameters()):
        scale = np.abs(pb.grad.numpy()).max()
        np.testing.assert_allclose(pa.grad.numpy(), pb.grad.numpy(), rtol=0, atol=1e-8 * scale, err_msg=name)
    np.testing.assert_allclose(xa.grad.numpy(), xb.grad.numpy(), rtol=0, atol=1e-8 * np.abs(xb.grad.numpy()).max())
    np.testing.assert_allclose(ours.layer4[1].bn2.running_var.numpy(), ref.layer4[1].bn2.running_var.numpy(),
                               rtol=1e-10)
    ours.eval()
    ref.eval()
    np.testing.assert_allclose(ours(glasstorch.from_numpy(x)).detach().numpy(),
                               ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


@needs_layers
def test_vgg11_architecture():
    model = models.vgg11(num_classes=10)
    convs = [0, 3, 6, 8, 11, 13, 16, 18]  # indices of the convolutions in features (config "A")
    keys = [f"features.{i}.{k}" for i in convs for k in ("weight", "bias")]
    keys += [f"classifier.{i}.{k}" for i in (0, 3, 6) for k in ("weight", "bias")]
    assert list(model.state_dict()) == keys
    # 132,863,336 for 1000 classes (torchvision's count); 10 classes drop 990 * 4097 of them
    assert sum(p.numel() for p in model.parameters()) == 132_863_336 - 990 * 4097
    assert float(model.classifier[6].weight.detach().std()) == pytest.approx(0.01, rel=0.05)
    assert tuple(model(glasstorch.randn(1, 3, 32, 32)).shape) == (1, 10)


def test_pretrained_weights_are_a_clear_error():
    with pytest.raises(models.PretrainedWeightsUnavailable, match=r"glasstorch cannot download pretrained weights"):
        models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
    with pytest.raises(RuntimeError, match=r"resnet34\(weights=ResNet34_Weights.IMAGENET1K_V1\)"):
        models.resnet34(weights="IMAGENET1K_V1")
    with pytest.warns(UserWarning, match="'pretrained' is deprecated"):
        with pytest.raises(RuntimeError, match="vgg11"):
            models.vgg11(pretrained=True)
    with pytest.raises(ValueError, match="Failed to find Weights NOPE in ResNet18_Weights."):
        models.resnet18(weights="NOPE")


# ---- glasstorch run ---------------------------------------------------------------------------------

SCRIPT = '''
import torch
import torchvision
from torchvision import datasets, transforms
import torchvision.utils as vutils
from torchvision.transforms import functional as TF

torch.manual_seed(0)
tf = transforms.Compose([transforms.RandomHorizontalFlip(), transforms.ToTensor(),
                         transforms.Normalize((0.5,), (0.5,))])
ds = datasets.FakeData(size=6, image_size=(1, 8, 8), num_classes=3, transform=tf)
loader = torch.utils.data.DataLoader(ds, batch_size=3)
for x, y in loader:
    print(type(x).__module__.split(".")[0], tuple(x.shape), y.dtype)
grid = vutils.make_grid(x, nrow=3, padding=1)
print(tuple(grid.shape), torchvision.__name__, TF.InterpolationMode.BILINEAR.value)
'''


def test_torch_alias_maps_and_restores_torchvision():
    from glasstorch._compat import torch_alias

    before = {k for k in sys.modules if k == "torchvision" or k.startswith("torchvision.")}
    with torch_alias():
        import torchvision
        import torchvision.transforms.functional as tvf
        from torchvision.datasets import MNIST

        assert torchvision is glasstorch.vision and tvf is TF and MNIST is datasets.MNIST
        with pytest.raises(ModuleNotFoundError, match="No module named 'torchvision.io'"):
            import torchvision.io  # noqa: F401  (glasstorch.vision has no io)
    assert {k for k in sys.modules if k == "torchvision" or k.startswith("torchvision.")} == before


CNN_SCRIPT = '''
import sys
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import datasets, transforms

torch.manual_seed(0)
tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
data = datasets.MNIST(sys.argv[1], train=False, download=True, transform=tf)
loader = torch.utils.data.DataLoader(data, batch_size=64, shuffle=True)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.fc = nn.Linear(16 * 12 * 12, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
losses = []
for step, (x, y) in enumerate(loader):
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
    if step == 15:
        break
first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
print(type(data).__module__, len(data), tuple(x.shape), "loss fell" if last < 0.7 * first else f"{first} -> {last}")
'''


@needs_mnist
@pytest.mark.skipif(bool(MISSING_LAYERS), reason=f"glasstorch.nn lacks {', '.join(MISSING_LAYERS)}")
def test_glasstorch_run_trains_a_torchvision_cnn_script(tmp_path):
    script = tmp_path / "mnist_cnn.py"
    script.write_text(CNN_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "glasstorch", "run", str(script), str(MNIST_DIR)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    # 16 SGD steps from loss ~2.3: falling below 70% of the start shows the whole pipeline learns
    assert proc.stdout.strip() == "glasstorch.vision.datasets.mnist 10000 (64, 1, 28, 28) loss fell"


def test_glasstorch_run_maps_torchvision(tmp_path):
    script = tmp_path / "vision_script.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "glasstorch", "run", str(script)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "glasstorch (3, 1, 8, 8) torch.int64",
        "glasstorch (3, 1, 8, 8) torch.int64",
        "(3, 10, 28) glasstorch.vision bilinear",
    ]
