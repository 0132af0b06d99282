"""The data layer: IDX files, where the set is found, downloads, verification, the real set.

No test touches the network: downloads are served by a local HTTP server on
127.0.0.1, and "no network" is a closed port on 127.0.0.1.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from actviz.bench import data
from actviz.bench.data import fetch, locate
from actviz.core.errors import DataError, UsageError

REAL_DIR = Path("/usr/share/datasets/fashion-mnist")
ROOT = Path(__file__).resolve().parents[1]

N_TRAIN, N_TEST = 30, 10


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """No real cache, Debian dir, environment variables or mirrors leak into a test."""
    cache_home = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.delenv(data.ENV_DATA_DIR, raising=False)
    monkeypatch.delenv(data.ENV_MIRRORS, raising=False)
    debian = tmp_path / "debian"
    monkeypatch.setattr(locate, "DEBIAN_DIR", debian)
    # Should a test forget its mirrors, nothing real is ever asked.
    nowhere = (f"http://127.0.0.1:{closed_port()}/",)
    monkeypatch.setattr(fetch, "MIRRORS", nowhere)
    for name in data.DATASETS:
        monkeypatch.setitem(fetch.MIRRORS_OF, name, nowhere)
    return {"cache": cache_home / "actviz" / "fashion-mnist", "debian": debian}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeSet:
    """A small, well-formed Fashion-MNIST look-alike whose checksums are patched in."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        rng = np.random.default_rng(0)
        self.arrays = {
            data.TRAIN_IMAGES: rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
            data.TRAIN_LABELS: (np.arange(N_TRAIN) % 10).astype(np.uint8),
            data.TEST_IMAGES: rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
            data.TEST_LABELS: (np.arange(N_TEST)[::-1] % 10).astype(np.uint8),
        }
        self.gz: dict[str, bytes] = {}
        self.raw: dict[str, bytes] = {}
        for name, array in self.arrays.items():
            raw = idx_bytes(array)
            self.raw[name] = raw
            self.gz[name] = gzip.compress(raw, mtime=0)
            monkeypatch.setitem(data.SHA256, name, hashlib.sha256(raw).hexdigest())

    def write(
        self, directory: Path, *, plain: tuple[str, ...] = (), skip: tuple[str, ...] = ()
    ) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        for name in data.FILES:
            if name in skip:
                continue
            if name in plain:
                (directory / name).write_bytes(self.raw[name])
            else:
                (directory / f"{name}.gz").write_bytes(self.gz[name])
        return directory


def idx_bytes(array: np.ndarray) -> bytes:
    import struct

    return (
        struct.pack(">BBBB", 0, 0, 8, array.ndim)
        + struct.pack(f">{array.ndim}I", *array.shape)
        + array.tobytes()
    )


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeSet:
    return FakeSet(monkeypatch)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server = self.server
        server.requests.append(self.path)  # type: ignore[attr-defined]
        route = server.routes.get(self.path.lstrip("/"))  # type: ignore[attr-defined]
        if route is None:
            self.send_error(404)
            return
        status, body, length = route
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if length is not None:  # promise more than is sent, then hang up
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


class Mirror:
    def __init__(self, server: http.server.ThreadingHTTPServer) -> None:
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}/"

    @property
    def requests(self) -> list[str]:
        return self.server.requests  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def serve() -> Iterator[Callable[[dict[str, bytes | tuple[int, bytes, int | None]]], Mirror]]:
    """Start local HTTP mirrors: ``serve({"file.gz": body, ...})`` -> Mirror."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(routes: dict[str, bytes | tuple[int, bytes, int | None]]) -> Mirror:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.routes = {  # type: ignore[attr-defined]
            k: v if isinstance(v, tuple) else (200, v, None) for k, v in routes.items()
        }
        server.requests = []  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        servers.append(server)
        return Mirror(server)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def gz_routes(fake: FakeSet) -> dict[str, bytes | tuple[int, bytes, int | None]]:
    return {f"{name}.gz": body for name, body in fake.gz.items()}


# --------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4),
        np.array([-5, 0, 7], dtype=np.int8),
        np.array([[1, -2], [300, -40000]], dtype=np.int32),
        np.linspace(-1, 1, 12).reshape(3, 4).astype(np.float32),
        np.linspace(-1, 1, 5),
    ],
    ids=["uint8-3d", "int8", "int32", "float32", "float64"],
)
def test_idx_round_trip(tmp_path: Path, array: np.ndarray, suffix: str) -> None:
    path = data.write_idx(tmp_path / f"a-idx{suffix}", array)
    back = data.read_idx(path)
    assert back.dtype == array.dtype.newbyteorder("=")
    assert back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    raw = gzip.decompress(path.read_bytes()) if suffix else path.read_bytes()
    codes = {"uint8": 0x08, "int8": 0x09, "int32": 0x0C, "float32": 0x0D, "float64": 0x0E}
    assert raw[:4] == bytes([0, 0, codes[array.dtype.name], array.ndim])
    assert [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(array.ndim)] == list(
        array.shape
    )


def test_write_idx_matches_the_published_format(tmp_path: Path) -> None:
    labels = np.array([9, 0, 0, 3], dtype=np.uint8)
    path = data.write_idx(tmp_path / "labels", labels)
    assert path.read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 4, 9, 0, 0, 3])


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\x01\x02\x08\x01\x00\x00\x00\x01\x05", "magic"),
        (b"\x00\x00\x42\x01\x00\x00\x00\x01\x05", "magic"),
        (b"\x00\x00", "not an IDX"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "cut short"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02", "shape (5,)"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "shape (1,)"),
    ],
    ids=["bad-magic", "bad-type", "too-short", "cut-dims", "too-little-data", "too-much-data"],
)
@pytest.mark.parametrize("compress", [False, True])
def test_malformed_idx_header_is_a_data_error(
    tmp_path: Path, content: bytes, words: str, compress: bool
) -> None:
    path = tmp_path / ("bad.gz" if compress else "bad")
    path.write_bytes(gzip.compress(content) if compress else content)
    with pytest.raises(DataError, match=re.escape(words)) as info:
        data.read_idx(path)
    assert str(path) in str(info.value)


def test_malformed_header_in_the_set_names_the_file(
    tmp_path: Path, fake: FakeSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = fake.write(tmp_path / "set")
    bad = b"\x00\x00\x08\x03\x00\x00\x00\x02"
    (directory / f"{data.TEST_LABELS}.gz").write_bytes(gzip.compress(bad))
    monkeypatch.setitem(data.SHA256, data.TEST_LABELS, hashlib.sha256(bad).hexdigest())
    with pytest.raises(DataError, match=data.TEST_LABELS):
        data.load(directory, download=False)


def test_wrong_shapes_in_the_set_are_a_data_error(
    tmp_path: Path, fake: FakeSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = fake.write(tmp_path / "set", skip=(data.TRAIN_LABELS,))
    labels = idx_bytes(np.zeros(N_TRAIN + 1, dtype=np.uint8))
    (directory / data.TRAIN_LABELS).write_bytes(labels)
    monkeypatch.setitem(data.SHA256, data.TRAIN_LABELS, hashlib.sha256(labels).hexdigest())
    with pytest.raises(DataError, match=f"{data.TRAIN_LABELS}.*{N_TRAIN} uint8 labels"):
        data.load(directory, download=False)


# --------------------------------------------------------------------------- loading


def test_load_gz_and_plain_files(tmp_path: Path, fake: FakeSet) -> None:
    directory = fake.write(tmp_path / "set", plain=(data.TRAIN_IMAGES, data.TEST_LABELS))
    ds = data.load(directory)
    import torch

    assert ds.source == directory
    assert ds.train_images.shape == (N_TRAIN, 28, 28) and ds.train_images.dtype == torch.uint8
    assert ds.test_images.shape == (N_TEST, 28, 28) and ds.test_images.dtype == torch.uint8
    assert ds.train_labels.dtype == torch.int64 and ds.test_labels.dtype == torch.int64
    for name, tensor in [
        (data.TRAIN_IMAGES, ds.train_images),
        (data.TRAIN_LABELS, ds.train_labels),
        (data.TEST_IMAGES, ds.test_images),
        (data.TEST_LABELS, ds.test_labels),
    ]:
        np.testing.assert_array_equal(tensor.numpy(), fake.arrays[name])
    ds.train_images[0, 0, 0] = 7  # writable memory, not a read-only view
    assert "train=30" in repr(ds) and len(ds.classes) == 10


def test_plain_file_wins_over_gz(tmp_path: Path, fake: FakeSet) -> None:
    directory = fake.write(tmp_path / "set", plain=(data.TRAIN_LABELS,))
    (directory / f"{data.TRAIN_LABELS}.gz").write_bytes(b"garbage")
    st = data.status(directory)
    found = {f.name: f for f in st.files}[data.TRAIN_LABELS]
    assert found.compressed is False and found.path == directory / data.TRAIN_LABELS
    data.load(directory)


def test_multi_member_gzip_is_read_whole(tmp_path: Path, fake: FakeSet) -> None:
    directory = fake.write(tmp_path / "set")
    raw = fake.raw[data.TRAIN_IMAGES]
    half = len(raw) // 2
    (directory / f"{data.TRAIN_IMAGES}.gz").write_bytes(
        gzip.compress(raw[:half]) + gzip.compress(raw[half:])
    )
    ds = data.load(directory)
    np.testing.assert_array_equal(ds.train_images.numpy(), fake.arrays[data.TRAIN_IMAGES])


def test_checksum_mismatch_is_a_data_error_naming_the_file(tmp_path: Path, fake: FakeSet) -> None:
    directory = fake.write(tmp_path / "set")
    raw = bytearray(fake.raw[data.TEST_IMAGES])
    raw[-1] ^= 0xFF  # one pixel changed; the file is still a well-formed IDX
    (directory / f"{data.TEST_IMAGES}.gz").write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match=f"{data.TEST_IMAGES}.gz: SHA-256") as info:
        data.load(directory)
    assert "To fix" in str(info.value)
    checks = {c.name: c for c in data.verify(directory)}
    assert checks[data.TEST_IMAGES].state == "mismatch"
    assert [c.state for c in checks.values()].count("ok") == 3


def test_checksum_mismatch_in_plain_file(tmp_path: Path, fake: FakeSet) -> None:
    directory = fake.write(tmp_path / "set", plain=data.FILES)
    (directory / data.TRAIN_LABELS).write_bytes(fake.raw[data.TRAIN_LABELS][:-1] + b"\x00")
    with pytest.raises(DataError, match=data.TRAIN_LABELS):
        data.load(directory)


def test_truncated_gzip_is_a_data_error(tmp_path: Path, fake: FakeSet) -> None:
    directory = fake.write(tmp_path / "set")
    path = directory / f"{data.TRAIN_IMAGES}.gz"
    path.write_bytes(fake.gz[data.TRAIN_IMAGES][: len(fake.gz[data.TRAIN_IMAGES]) // 2])
    with pytest.raises(DataError, match=f"{data.TRAIN_IMAGES}.gz is (truncated|corrupt)"):
        data.load(directory)
    assert {c.name: c.state for c in data.verify(directory)}[data.TRAIN_IMAGES] == "corrupt"


def test_corrupt_gzip_is_a_data_error(tmp_path: Path, fake: FakeSet) -> None:
    directory = fake.write(tmp_path / "set")
    path = directory / f"{data.TEST_IMAGES}.gz"
    body = bytearray(fake.gz[data.TEST_IMAGES])
    body[len(body) // 2 : len(body) // 2 + 16] = b"\xff" * 16
    path.write_bytes(bytes(body))
    with pytest.raises(DataError, match=f"{data.TEST_IMAGES}.gz"):
        data.load(directory)
    path.write_bytes(b"<html>not found</html>")
    with pytest.raises(DataError, match="not a gzip file"):
        data.load(directory)


def test_incomplete_explicit_dir_without_download(tmp_path: Path, fake: FakeSet) -> None:
    directory = fake.write(tmp_path / "set", skip=(data.TEST_LABELS,))
    with pytest.raises(DataError, match=f"lacks {data.TEST_LABELS}"):
        data.load(directory, download=False)


def test_nothing_anywhere_without_download_says_how_to_fix(isolated: dict[str, Path]) -> None:
    with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist"):
        data.load(download=False)
    assert not isolated["cache"].exists()


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(DataError, match="not a directory"):
        data.status(path)


# --------------------------------------------------------------------------- location order


def _all_complete(
    tmp_path: Path, fake: FakeSet, isolated: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> dict[str, Path]:
    places = {
        "argument": fake.write(tmp_path / "arg"),
        "environment": fake.write(tmp_path / "env"),
        "cache": fake.write(isolated["cache"]),
        "debian": fake.write(isolated["debian"]),
    }
    monkeypatch.setenv(data.ENV_DATA_DIR, str(places["environment"]))
    return places


def test_location_order(
    tmp_path: Path, fake: FakeSet, isolated: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    places = _all_complete(tmp_path, fake, isolated, monkeypatch)
    st = data.status(places["argument"])
    assert (st.directory, st.origin, st.complete) == (places["argument"], "argument", True)
    assert data.load(places["argument"]).source == places["argument"]

    st = data.status()
    assert (st.directory, st.origin) == (places["environment"], "environment")
    assert data.load().source == places["environment"]

    monkeypatch.setenv(data.ENV_DATA_DIR, "")  # empty counts as unset
    st = data.status()
    assert (st.directory, st.origin) == (places["cache"], "cache")
    assert data.load().source == places["cache"]

    (places["cache"] / f"{data.TEST_LABELS}.gz").unlink()  # an incomplete cache is skipped
    st = data.status()
    assert (st.directory, st.origin) == (places["debian"], "debian")
    assert [(o, done) for o, _, done in st.searched] == [("cache", False), ("debian", True)]
    assert data.load().source == places["debian"]


def test_nothing_found_means_download_into_the_cache(
    fake: FakeSet,
    isolated: dict[str, Path],
    serve: Callable[..., Mirror],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    st = data.status()
    assert (st.directory, st.origin, st.complete) == (isolated["cache"], "cache", False)
    assert st.missing == data.FILES
    mirror = serve(gz_routes(fake))
    monkeypatch.setenv(data.ENV_MIRRORS, f" {mirror.url} , ")
    ds = data.load()
    assert ds.source == isolated["cache"]
    assert sorted(p.name for p in isolated["cache"].iterdir()) == sorted(
        f"{n}.gz" for n in data.FILES
    )


def test_relative_and_user_paths_are_made_absolute(
    tmp_path: Path, fake: FakeSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.write(tmp_path / "rel")
    monkeypatch.chdir(tmp_path)
    assert data.status("rel").directory == tmp_path / "rel"
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(data.ENV_DATA_DIR, "~/rel")
    assert data.status().directory == tmp_path / "rel"


def test_cache_dir_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    assert data.cache_dir() == tmp_path / "c" / "actviz" / "fashion-mnist"
    if sys.platform.startswith("linux"):
        monkeypatch.delenv("XDG_CACHE_HOME")
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        assert data.cache_dir() == tmp_path / "home" / ".cache" / "actviz" / "fashion-mnist"


# --------------------------------------------------------------------------- downloads


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_download_writes_verified_files(
    tmp_path: Path, fake: FakeSet, serve: Callable[..., Mirror]
) -> None:
    mirror = serve(gz_routes(fake))
    dest = tmp_path / "dest"
    seen: dict[str, tuple[int, int | None]] = {}
    got = data.download(
        dest, mirrors=[mirror.url], progress=lambda n, d, t: seen.update({n: (d, t)})
    )
    assert got == dest
    assert _listing(dest) == sorted(f"{n}.gz" for n in data.FILES)  # no temp files left
    for name in data.FILES:
        assert (dest / f"{name}.gz").read_bytes() == fake.gz[name]
        assert seen[name] == (len(fake.gz[name]), len(fake.gz[name]))
    assert all(c.ok for c in data.verify(dest))
    # Good files are kept: a second download asks for nothing.
    before = len(mirror.requests)
    data.download(dest, mirrors=[mirror.url])
    assert len(mirror.requests) == before
    # --force fetches all again.
    data.download(dest, mirrors=[mirror.url], force=True)
    assert len(mirror.requests) == before + 4


def test_download_fetches_only_missing_or_bad_files(
    tmp_path: Path, fake: FakeSet, serve: Callable[..., Mirror]
) -> None:
    mirror = serve(gz_routes(fake))
    dest = fake.write(tmp_path / "dest", skip=(data.TRAIN_IMAGES,), plain=(data.TEST_LABELS,))
    (dest / data.TEST_LABELS).write_bytes(b"bad")  # a corrupt plain copy
    data.download(dest, mirrors=[mirror.url])
    assert sorted(mirror.requests) == sorted(
        [f"/{data.TRAIN_IMAGES}.gz", f"/{data.TEST_LABELS}.gz"]
    )
    assert not (dest / data.TEST_LABELS).exists()  # the bad plain copy no longer shadows
    assert all(c.ok for c in data.verify(dest))


def test_load_downloads_missing_files_into_explicit_dir(
    tmp_path: Path, fake: FakeSet, serve: Callable[..., Mirror]
) -> None:
    mirror = serve(gz_routes(fake))
    dest = fake.write(tmp_path / "dest", skip=(data.TEST_IMAGES,))
    ds = data.load(dest, mirrors=[mirror.url])
    assert ds.source == dest
    assert mirror.requests == [f"/{data.TEST_IMAGES}.gz"]


@pytest.mark.parametrize("kind", ["wrong-checksum", "not-gzip", "cut-short"])
def test_corrupt_download_leaves_nothing_and_a_cut_short_one_only_its_partial(
    tmp_path: Path,
    fake: FakeSet,
    serve: Callable[..., Mirror],
    kind: str,
    isolated: dict[str, Path],
) -> None:
    routes = gz_routes(fake)
    name = data.TRAIN_IMAGES
    body = fake.gz[name]
    if kind == "wrong-checksum":
        routes[f"{name}.gz"] = gzip.compress(fake.raw[name][:-1] + b"\x01")
    elif kind == "not-gzip":
        routes[f"{name}.gz"] = b"<html>Access denied</html>"
    else:
        routes[f"{name}.gz"] = (200, body[: len(body) // 2], len(body))
    mirror = serve(routes)
    with pytest.raises(DataError, match=f"{name}.gz") as info:
        data.load(mirrors=[mirror.url])
    assert mirror.url in str(info.value)
    # nothing cached, no temp file; a transfer cut short keeps what arrived, to be resumed
    left = [f".{name}.gz.partial"] if kind == "cut-short" else []
    assert _listing(isolated["cache"]) == left
    with pytest.raises(DataError, match=name):
        data.download(tmp_path / "d", mirrors=[mirror.url])
    assert _listing(tmp_path / "d") == left
    if left:
        assert (tmp_path / "d" / left[0]).read_bytes() == body[: len(body) // 2]


def test_404_on_first_mirror_falls_back_to_second(
    tmp_path: Path, fake: FakeSet, serve: Callable[..., Mirror]
) -> None:
    empty = serve({})
    good = serve(gz_routes(fake))
    dest = data.download(tmp_path / "dest", mirrors=[empty.url, good.url])
    assert len(empty.requests) == 4 and len(good.requests) == 4
    assert all(c.ok for c in data.verify(dest))


def test_corrupt_first_mirror_falls_back_to_second(
    tmp_path: Path, fake: FakeSet, serve: Callable[..., Mirror]
) -> None:
    bad = serve({f"{n}.gz": b"junk" for n in data.FILES})
    good = serve(gz_routes(fake))
    data.download(tmp_path / "dest", mirrors=[bad.url, good.url])
    assert _listing(tmp_path / "dest") == sorted(f"{n}.gz" for n in data.FILES)


def test_unreachable_mirror_fails_fast_with_the_fix(
    isolated: dict[str, Path], fake: FakeSet
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    start = time.monotonic()
    with pytest.raises(DataError) as info:
        data.load(mirrors=[url, url.replace("127.0.0.1", "localhost")])
    assert time.monotonic() - start < 5
    message = str(info.value)
    assert url in message and "apt-get install dataset-fashion-mnist" in message
    assert "--data-dir" in message and data.ENV_DATA_DIR in message
    assert "\n" not in message
    assert not isolated["cache"].exists()  # no empty directory left behind either


def test_unreachable_mirror_is_not_asked_again(
    tmp_path: Path, fake: FakeSet, serve: Callable[..., Mirror]
) -> None:
    dead = f"http://127.0.0.1:{closed_port()}/"
    good = serve(gz_routes(fake))
    data.download(tmp_path / "dest", mirrors=[dead, good.url])
    assert len(good.requests) == 4


@pytest.mark.parametrize("via_env", [False, True])
def test_explicit_dir_never_falls_back_to_another_copy(
    tmp_path: Path,
    fake: FakeSet,
    isolated: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    via_env: bool,
) -> None:
    fake.write(isolated["debian"])
    fake.write(isolated["cache"])
    explicit = tmp_path / "mine"
    monkeypatch.setenv(data.ENV_MIRRORS, f"http://127.0.0.1:{closed_port()}/")
    if via_env:
        monkeypatch.setenv(data.ENV_DATA_DIR, str(explicit))
        args: tuple[Path, ...] = ()
    else:
        args = (explicit,)
    with pytest.raises(DataError, match=f"could not download .* into {explicit}") as info:
        data.load(*args)
    assert str(isolated["debian"]) in str(info.value)  # suggested, not used
    with pytest.raises(DataError):
        data.download(*args)


def test_download_without_target_is_satisfied_by_the_debian_copy(
    fake: FakeSet, isolated: dict[str, Path], serve: Callable[..., Mirror]
) -> None:
    fake.write(isolated["debian"])
    mirror = serve(gz_routes(fake))
    assert data.download(mirrors=[mirror.url]) == isolated["debian"]
    assert mirror.requests == []
    assert data.download(mirrors=[mirror.url], force=True) == isolated["cache"]
    assert len(mirror.requests) == 4


def test_mirror_urls_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert data.mirrors_in_use(["http://a/b", "https://c/"]) == ["http://a/b/", "https://c/"]
    with pytest.raises(UsageError, match="--mirror"):
        data.mirrors_in_use(["ftp://x/"])
    monkeypatch.setenv(data.ENV_MIRRORS, "nonsense")
    with pytest.raises(UsageError, match=data.ENV_MIRRORS):
        data.mirrors_in_use()
    monkeypatch.setenv(data.ENV_MIRRORS, "file:///srv/fm/, http://m/")
    assert data.mirrors_in_use() == ["file:///srv/fm/", "http://m/"]


def test_file_mirror(tmp_path: Path, fake: FakeSet) -> None:
    source = fake.write(tmp_path / "src")
    dest = data.download(tmp_path / "dest", mirrors=[source.as_uri()])
    assert all(c.ok for c in data.verify(dest))


# --------------------------------------------------------------------------- the registry


def test_the_package_names_come_from_the_fashion_mnist_record() -> None:
    record = data.DATASETS["fashion-mnist"]
    assert record is data.FASHION_MNIST
    assert data.FILES == record.files == (
        data.TRAIN_IMAGES, data.TRAIN_LABELS, data.TEST_IMAGES, data.TEST_LABELS
    )
    assert data.SHA256 is record.sha256 and set(record.sha256) == set(record.files)
    assert data.CLASS_NAMES == record.classes and len(record.classes) == 10
    assert record.image_shape == (28, 28)
    assert data.DEBIAN_DIR == record.debian_dir == REAL_DIR
    assert data.MIRRORS == record.mirrors
    assert data.cache_dir().name == record.name


# --------------------------------------------------------------------------- imports


def test_importing_the_data_layer_is_light() -> None:
    code = (
        "import sys, actviz.bench.data, actviz.cli.data; "
        "heavy = [m for m in ('torch', 'numpy', 'rich.progress') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- the real set


@pytest.fixture
def real_dir() -> Path:
    if not all(any((REAL_DIR / f"{n}{s}").is_file() for s in ("", ".gz")) for n in data.FILES):
        pytest.skip(
            f"the real Fashion-MNIST is not installed in {REAL_DIR} "
            "(apt-get install dataset-fashion-mnist)"
        )
    return REAL_DIR


def test_real_data_set(real_dir: Path) -> None:
    import torch

    ds = data.load(real_dir, download=False)
    assert ds.source == real_dir
    assert ds.train_images.shape == (60000, 28, 28) and ds.train_images.dtype == torch.uint8
    assert ds.test_images.shape == (10000, 28, 28) and ds.test_images.dtype == torch.uint8
    assert ds.train_labels.shape == (60000,) and ds.train_labels.dtype == torch.int64
    assert ds.test_labels.shape == (10000,) and ds.test_labels.dtype == torch.int64
    assert torch.bincount(ds.train_labels, minlength=10).tolist() == [6000] * 10
    assert torch.bincount(ds.test_labels, minlength=10).tolist() == [1000] * 10
    assert int(ds.train_images.max()) == 255 and int(ds.train_images.min()) == 0
    assert ds.classes[int(ds.train_labels[0])] == "Ankle boot"  # the famous first image


def test_real_data_set_is_found_via_the_debian_dir(
    real_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(locate, "DEBIAN_DIR", real_dir)
    st = data.status()
    assert (st.directory, st.origin, st.complete) == (real_dir, "debian", True)
    assert [c.state for c in data.verify()] == ["ok"] * 4


# --------------------------------------------------------------------------- the CLI


def _cli_app():  # type: ignore[no-untyped-def]
    from actviz.cli.app import app

    return app


def invoke(*args: str):  # type: ignore[no-untyped-def]
    from helpers import runner

    return runner.invoke(_cli_app(), ["data", *args])


def test_cli_status_on_the_real_dir(real_dir: Path) -> None:
    result = invoke("status", "--data-dir", str(real_dir))
    assert result.exit_code == 0, result.output
    assert str(real_dir) in result.stdout.replace("\n", "")
    for name in data.FILES:
        assert f"{name}.gz" in result.stdout
    assert "complete" in result.stdout


def test_cli_data_alone_shows_the_status(fake: FakeSet, isolated: dict[str, Path]) -> None:
    fake.write(isolated["debian"])
    result = invoke()
    assert result.exit_code == 0, result.output
    assert "complete" in result.stdout and data.TRAIN_IMAGES in result.stdout
    assert "Searched" in result.stdout


def test_cli_status_json(tmp_path: Path, fake: FakeSet) -> None:
    import json

    directory = fake.write(tmp_path / "set", skip=(data.TEST_LABELS,), plain=(data.TRAIN_LABELS,))
    result = invoke("--data-dir", str(directory), "status", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["directory"] == str(directory) and report["origin"] == "argument"
    assert report["complete"] is False
    formats = {f["name"]: f["format"] for f in report["files"]}
    assert formats == {
        data.TRAIN_IMAGES: "gzip",
        data.TRAIN_LABELS: "plain",
        data.TEST_IMAGES: "gzip",
        data.TEST_LABELS: None,
    }


def test_cli_verify_on_the_real_dir(real_dir: Path) -> None:
    result = invoke("verify", "--data-dir", str(real_dir))
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if "-idx" in line]
    assert len(rows) == 4 and all(" ok " in row for row in rows), result.stdout


def test_cli_verify_on_a_corrupt_dir(tmp_path: Path, fake: FakeSet) -> None:
    directory = fake.write(tmp_path / "set")
    (directory / f"{data.TRAIN_LABELS}.gz").write_bytes(gzip.compress(b"\x00" * 100))
    result = invoke("verify", "--data-dir", str(directory))
    assert result.exit_code == 1
    assert "mismatch" in result.stdout  # the table is printed first
    error_lines = result.stderr.strip().splitlines()
    assert len(error_lines) == 1 and error_lines[0].startswith("error: ")
    assert f"{data.TRAIN_LABELS}.gz" in error_lines[0]
    assert "Traceback" not in result.output


def test_cli_verify_with_nothing_anywhere(isolated: dict[str, Path]) -> None:
    result = invoke("verify")
    assert result.exit_code == 1
    assert "missing" in result.stderr and "actviz data download" in result.stderr


def test_cli_download(tmp_path: Path, fake: FakeSet, serve: Callable[..., Mirror]) -> None:
    empty = serve({})
    good = serve(gz_routes(fake))
    dest = tmp_path / "dest"
    args = ("download", "--data-dir", str(dest), "--mirror", empty.url, "--mirror", good.url)
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "Downloaded" in result.stdout
    assert _listing(dest) == sorted(f"{n}.gz" for n in data.FILES)
    result = invoke(*args)
    assert result.exit_code == 0 and "nothing downloaded" in result.stdout
    assert len(good.requests) == 4


def test_cli_download_failure_is_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    result = invoke("download", "--data-dir", str(tmp_path / "d"), "--mirror", url)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and url in lines[0] and "Traceback" not in result.output
    assert not (tmp_path / "d").exists()


def test_cli_bad_mirror_is_a_usage_error() -> None:
    result = invoke("download", "--mirror", "ftp://example.org/")
    assert result.exit_code == 2
    assert "--mirror" in result.stderr


def test_cli_verify_json(tmp_path: Path, fake: FakeSet) -> None:
    import json

    directory = fake.write(tmp_path / "set", skip=(data.TEST_IMAGES,))
    result = invoke("verify", "--data-dir", str(directory), "--format", "json")
    assert result.exit_code == 1
    states = {r["name"]: r["state"] for r in json.loads(result.stdout)}
    assert states == {
        data.TRAIN_IMAGES: "ok",
        data.TRAIN_LABELS: "ok",
        data.TEST_IMAGES: "missing",
        data.TEST_LABELS: "ok",
    }
    assert f"actviz data download --data-dir {directory}" in result.stderr
