"""The data sets beyond Fashion-MNIST: MNIST, Kuzushiji-MNIST and CIFAR-10.

Every download here is served by a local HTTP server on 127.0.0.1 from small synthetic
files in each set's real format (gzipped IDX; CIFAR-10's gzipped tarball of Python 2
pickles), with the record's pins patched to those files' SHA-256.  No test reaches
the network.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
from helpers import error_line, runner
from test_data import closed_port, idx_bytes, isolated, serve  # noqa: F401  (fixtures)

from actviz.bench import data
from actviz.bench.data import cifar
from actviz.core.errors import DataError, UsageError

REAL_DIR = Path("/usr/share/datasets/fashion-mnist")


def _idx_set(seed: int, n_train: int = 40, n_test: int = 12) -> dict[str, bytes]:
    """The four gzipped IDX files of a small MNIST look-alike, by file name (without .gz)."""
    rng = np.random.default_rng(seed)
    arrays = [rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), (np.arange(n_train) % 10).astype(np.uint8),
              rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), (np.arange(n_test) % 10).astype(np.uint8)]
    return {name: gzip.compress(idx_bytes(a), mtime=0) for name, a in zip(data.MNIST.files, arrays, strict=True)}


def _pin_gz(monkeypatch: pytest.MonkeyPatch, ds: data.DataSet, files: dict[str, bytes]) -> None:
    for name, body in files.items():
        monkeypatch.setitem(ds.gz_sha256, name, hashlib.sha256(body).hexdigest())


def _cifar_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8), (np.arange(n) * 7 % 10).astype(np.uint8)


@pytest.fixture
def cifar_tar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, dict[str, np.ndarray]]:
    train, test = _cifar_images(25, 1), _cifar_images(6, 2)
    body = cifar.write_cifar_tar(tmp_path / "c.tar.gz", train, test).read_bytes()
    _pin_gz(monkeypatch, data.CIFAR10, {"cifar-10-python.tar": body})
    return body, {"train_images": train[0], "train_labels": train[1], "test_images": test[0], "test_labels": test[1]}


# --------------------------------------------------------------------------- the records


@pytest.mark.parametrize("name", ["fashion-mnist", "mnist", "kmnist", "cifar10"])
def test_every_file_of_every_set_has_a_pinned_sha256(name: str) -> None:
    ds = data.DATASETS[name]
    for f in ds.files:
        pins = [p for p in (ds.sha256.get(f), ds.gz_sha256.get(f)) if p is not None]
        assert pins, f
        assert all(len(p) == 64 and int(p, 16) >= 0 for p in pins)
    assert ds.n_classes == len(ds.classes) == 10
    assert ds.input_shape == ((3, 32, 32) if name == "cifar10" else (1, 28, 28))
    assert ds.mirrors and all(m.endswith("/") for m in ds.mirrors)


@pytest.mark.skipif(not REAL_DIR.is_dir(), reason="needs the Debian package dataset-fashion-mnist")
def test_fashion_mnist_pins_of_the_served_gz_are_the_debian_files_with_their_original_gzip_header() -> None:
    """The upstream .gz pins (from TensorFlow Datasets' checksums) hold for the Debian copies' very bytes.

    Debian recompressed nothing: it dropped the gzip header's file name and set its own time.
    Restoring the name and the upstream time (2017-08-31) gives the pinned files exactly,
    which cross-checks the source of every ``gz_sha256`` pin.
    """
    upstream_mtime = {"train-images-idx3-ubyte": 1504176606, "train-labels-idx1-ubyte": 1504176606,
                      "t10k-images-idx3-ubyte": 1504176627, "t10k-labels-idx1-ubyte": 1504176627}
    for name, mtime in upstream_mtime.items():
        deb = (REAL_DIR / f"{name}.gz").read_bytes()
        original = (b"\x1f\x8b\x08\x08" + struct.pack("<I", mtime) + b"\x00\x03" + name.encode() + b"\x00"
                    + deb[10:])
        assert hashlib.sha256(original).hexdigest() == data.FASHION_MNIST.gz_sha256[name]


def test_an_unknown_data_set_is_a_usage_error_with_a_suggestion() -> None:
    with pytest.raises(UsageError, match="did you mean 'mnist'"):
        data.dataset("mnsit")


# --------------------------------------------------------------------------- IDX sets over HTTP


@pytest.mark.parametrize("name", ["mnist", "kmnist"])
def test_an_idx_set_downloads_from_its_mirror_into_its_cache_folder_and_loads(
    name: str, serve, isolated: dict[str, Path], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    ds = data.DATASETS[name]
    files = _idx_set(3)
    _pin_gz(monkeypatch, ds, files)
    mirror = serve({f"{n}.gz": body for n, body in files.items()})
    monkeypatch.setitem(data.MIRRORS_OF, name, (mirror.url,))
    loaded = data.load(data=name)
    assert loaded.name == name and loaded.n_classes == 10 and loaded.classes == ds.classes
    assert loaded.source == isolated["cache"].parent / name
    assert loaded.train_images.shape == (40, 28, 28) and loaded.test_images.shape == (12, 28, 28)
    assert loaded.train_labels.dtype.is_floating_point is False and int(loaded.train_labels[13]) == 3
    assert sorted(p.name for p in loaded.source.iterdir()) == sorted(f"{n}.gz" for n in files)
    assert all(c.ok for c in data.verify(ds=name))
    data.load(data=name)  # the second load reads the cache: no new request
    assert len(mirror.requests) == 4


def test_an_idx_set_pinned_only_as_served_does_not_verify_a_decompressed_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _idx_set(4)
    _pin_gz(monkeypatch, data.MNIST, files)
    for n, body in files.items():
        (tmp_path / f"{n}.gz").write_bytes(body)
    (tmp_path / f"{data.MNIST.test_labels}.gz").unlink()
    (tmp_path / data.MNIST.test_labels).write_bytes(gzip.decompress(files[data.MNIST.test_labels]))
    checks = {c.name: c for c in data.verify(tmp_path, ds="mnist")}
    assert checks[data.MNIST.test_labels].state == "mismatch"
    assert "keep the .gz file" in checks[data.MNIST.test_labels].detail
    with pytest.raises(DataError, match="cannot be verified"):
        data.load(tmp_path, data="mnist", download=False)


def test_a_wrong_file_from_the_mirror_is_rejected_and_nothing_is_left(
    serve, isolated: dict[str, Path], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    files = _idx_set(5)
    _pin_gz(monkeypatch, data.KMNIST, files)
    served = dict(files)
    served[data.KMNIST.train_images] = _idx_set(6)[data.KMNIST.train_images]  # valid IDX, wrong bytes
    mirror = serve({f"{n}.gz": body for n, body in served.items()})
    with pytest.raises(DataError, match="SHA-256 mismatch"):
        data.download(ds="kmnist", mirrors=[mirror.url])
    assert not (isolated["cache"].parent / "kmnist").exists()  # the folder it made, removed again


def test_the_fashion_mnist_data_dir_variable_does_not_name_other_sets_folders(
    tmp_path: Path, isolated: dict[str, Path], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.setenv(data.ENV_DATA_DIR, str(tmp_path / "fashion"))
    assert data.status().directory == tmp_path / "fashion"
    assert data.status(ds="mnist").directory == isolated["cache"].parent / "mnist"


# --------------------------------------------------------------------------- CIFAR-10


def test_cifar10_downloads_as_its_tarball_and_loads_with_three_channels(
    serve, isolated: dict[str, Path], monkeypatch: pytest.MonkeyPatch, cifar_tar  # noqa: F811
) -> None:
    body, want = cifar_tar
    mirror = serve({"cifar-10-python.tar.gz": body})
    loaded = data.load(data="cifar10", mirrors=[mirror.url])
    assert loaded.name == "cifar10" and loaded.input_shape == (3, 32, 32) and loaded.n_classes == 10
    for split, array in want.items():
        np.testing.assert_array_equal(getattr(loaded, split).numpy(), array)
    assert (loaded.source / "cifar-10-python.tar.gz").read_bytes() == body
    arrays, _ = data.load_arrays(data="cifar10", download=False)
    assert set(arrays) == set(data.SPLITS)


def test_the_cifar_batches_are_read_as_real_python2_pickles(cifar_tar) -> None:
    """The synthetic batches use the real files' opcodes: Python 2 strings, numpy.core's reconstructor."""
    body, _ = cifar_tar
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(body))) as tar:
        names = sorted(m.name for m in tar.getmembers())
        blob = tar.extractfile(f"{cifar.FOLDER}/data_batch_1").read()  # type: ignore[union-attr]
    assert names == sorted(f"{cifar.FOLDER}/{n}" for n in (*cifar.TRAIN_BATCHES, *cifar.TEST_BATCHES))
    assert b"cnumpy.core.multiarray\n_reconstruct\n" in blob and b"_codecs" not in blob
    batch = pickle.loads(blob, encoding="bytes")  # trusted here: our own synthetic bytes
    assert set(batch) == {b"batch_label", b"labels", b"data", b"filenames"}
    assert batch[b"data"].shape == (5, 3072)


class _Boom:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("touch BOOM",))


@pytest.mark.parametrize("payload", [_Boom(), {b"data": _Boom(), b"labels": []}],
                         ids=["whole-batch", "inside-the-dict"])
def test_a_pickle_that_would_run_code_is_refused_before_anything_runs(
    payload: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    evil = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    with pytest.raises(DataError, match="refusing the global (posix|os|nt).system"):
        cifar.parse_batch(evil, "batch")
    assert not (tmp_path / "BOOM").exists()


def test_a_pinned_tarball_whose_batch_is_not_a_cifar_batch_is_a_data_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name in (*cifar.TRAIN_BATCHES, *cifar.TEST_BATCHES):
            blob = pickle.dumps({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}, protocol=2)
            info = tarfile.TarInfo(f"{cifar.FOLDER}/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    body = gzip.compress(out.getvalue(), mtime=0)
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(body)
    _pin_gz(monkeypatch, data.CIFAR10, {"cifar-10-python.tar": body})
    with pytest.raises(DataError, match=r"(refusing the global _codecs|expected uint8 images of shape \(N, 3072\))"):
        data.load(tmp_path, data="cifar10", download=False)


# --------------------------------------------------------------------------- the command line


def test_cli_download_status_and_verify_take_the_data_set(
    serve, isolated: dict[str, Path], monkeypatch: pytest.MonkeyPatch, cifar_tar  # noqa: F811
) -> None:
    from actviz.cli.app import app

    body, _ = cifar_tar
    mirror = serve({"cifar-10-python.tar.gz": body})
    result = runner.invoke(app, ["data", "download", "--data", "cifar10", "--mirror", mirror.url])
    assert result.exit_code == 0, result.output
    assert "Downloaded cifar-10-python.tar" in result.stdout
    result = runner.invoke(app, ["data", "--data", "cifar10", "verify"])
    assert result.exit_code == 0, result.output
    assert "CIFAR-10 directory" in result.stdout and "SHA-256 matches" in result.stdout
    result = runner.invoke(app, ["data", "status", "--data", "cifar10", "-f", "json"])
    assert '"data": "cifar10"' in result.stdout and '"complete": true' in result.stdout
    (isolated["cache"].parent / "cifar10" / "cifar-10-python.tar.gz").write_bytes(body[:-5] + b"xxxxx")
    result = runner.invoke(app, ["data", "verify", "--data", "cifar10"])
    assert result.exit_code == 1
    assert "1 of 1 CIFAR-10 files failed verification" in error_line(result)
    assert "actviz data download --force --data cifar10" in error_line(result)


def test_cli_unknown_data_set_is_one_line_and_exit_2() -> None:
    from actviz.cli.app import app

    result = runner.invoke(app, ["data", "status", "--data", "svhn"])
    assert result.exit_code == 2
    assert "unknown data set 'svhn'" in error_line(result)


# --------------------------------------------------------------------------- compare and the store


def test_compare_on_mnist_downloads_it_and_names_the_data_set_in_the_store_and_the_tables(
    serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    import json

    from actviz.cli.app import app

    files = _idx_set(7, n_train=64, n_test=16)
    _pin_gz(monkeypatch, data.MNIST, files)
    mirror = serve({f"{n}.gz": body for n, body in files.items()})
    monkeypatch.setenv(data.ENV_MIRRORS, mirror.url)
    out = tmp_path / "store"
    result = runner.invoke(app, ["compare", "relu", "tanh", "--data", "mnist", "-e", "1", "--seeds", "2",
                                 "--hidden", "8", "-b", "16", "--probe-size", "16", "--no-plots", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "data=mnist" in result.stdout and "actviz compare — MNIST" in result.stdout
    doc = json.loads((out / "results.json").read_text())
    assert {r["config"]["data"] for r in doc["runs"]} == {"mnist"}
    assert all(r["config_label"].endswith("data=mnist") for r in doc["runs"])
    shown = runner.invoke(app, ["results", str(out)])
    assert shown.exit_code == 0, shown.output
    assert "actviz results — MNIST" in shown.stdout and "784-8-10" in shown.stdout
    latex = runner.invoke(app, ["results", str(out), "--format", "latex"])
    assert latex.exit_code == 0, latex.output
    assert "data=mnist" in latex.stdout


def test_a_run_stored_before_data_sets_existed_keeps_its_key_and_reads_as_fashion_mnist() -> None:
    from actviz.bench.config import TrainConfig
    from actviz.results.labels import LATER, config_label, run_key, training_config

    old = {k: v for k, v in training_config(TrainConfig()).items() if k not in LATER}
    assert "data" not in old
    assert training_config(old)["data"] == "fashion-mnist"
    assert run_key("relu", {}, old, 0) == run_key("relu", {}, TrainConfig(), 0)
    assert '"data"' not in run_key("relu", {}, TrainConfig(), 0)  # the key old stores hold
    assert run_key("relu", {}, TrainConfig(data="mnist"), 0) != run_key("relu", {}, TrainConfig(), 0)
    assert config_label(training_config(TrainConfig(data="cifar10"))) == "data=cifar10"


# --------------------------------------------------------------------------- resuming a download


def _app():  # type: ignore[no-untyped-def]
    from actviz.cli.app import app

    return app


class _Resumable:
    """A mirror on 127.0.0.1 for one file that cuts the first transfer short and honours ``Range`` after."""

    def __init__(self, body: bytes, *, ranges: bool = True) -> None:
        import http.server
        import threading

        owner = self
        self.body, self.ranges, self.requests = body, ranges, []  # type: ignore[var-annotated]

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                header = self.headers.get("Range")
                owner.requests.append(header)
                if len(owner.requests) == 1:  # promise everything, send a third, hang up
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(owner.body)))
                    self.end_headers()
                    self.wfile.write(owner.body[: len(owner.body) // 3])
                    self.close_connection = True
                    return
                start = int(header[6:-1]) if header and owner.ranges else 0
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(owner.body) - 1}/{len(owner.body)}")
                self.send_header("Content-Length", str(len(owner.body) - start))
                self.end_headers()
                self.wfile.write(owner.body[start:])

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("ranges", [True, False], ids=["resumed", "mirror-without-ranges"])
def test_a_download_cut_short_is_resumed_by_the_next_one(
    ranges: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cifar_tar
) -> None:
    body, want = cifar_tar
    mirror = _Resumable(body, ranges=ranges)
    tmp_path = tmp_path / "cache"
    try:
        seen: list[tuple[int, int | None]] = []
        with pytest.raises(DataError, match="cut short"):
            data.download(tmp_path, ds="cifar10", mirrors=[mirror.url])
        partial = tmp_path / ".cifar-10-python.tar.gz.partial"
        assert partial.read_bytes() == body[: len(body) // 3]
        shown = runner.invoke(_app(), ["data", "status", "--data", "cifar10", "--data-dir", str(tmp_path)])
        assert "partial (resumes)" in shown.stdout
        data.download(tmp_path, ds="cifar10", mirrors=[mirror.url], progress=lambda n, d, t: seen.append((d, t)))
    finally:
        mirror.close()
    assert mirror.requests == [None, f"bytes={len(body) // 3}-"]
    assert seen[0] == ((len(body) // 3, len(body)) if ranges else (0, len(body)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-10-python.tar.gz"]
    np.testing.assert_array_equal(data.load(tmp_path, data="cifar10").train_images.numpy(), want["train_images"])


def test_the_mlp_trains_on_cifar10_flattened_to_3072_inputs(tmp_path: Path, cifar_tar) -> None:
    import json

    from actviz.bench.compare import run_compare
    from actviz.bench.config import TrainConfig

    body, _ = cifar_tar
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "cifar-10-python.tar.gz").write_bytes(body)
    run_compare(["relu"], TrainConfig(epochs=1, hidden=8, batch_size=5, probe_size=5, data="cifar10", threads=1),
                seeds=[0], data_dir=tmp_path / "d", out=tmp_path / "out")
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    (run,) = doc["runs"]
    assert run["status"] == "completed" and run["config"]["data"] == "cifar10"
    assert run["config_label"].endswith("data=cifar10")
    (entry,) = doc["summary"]
    assert entry["inputs"] == 3072


@pytest.mark.slow
def test_a_second_download_into_the_same_folder_waits_and_fetches_only_what_is_still_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, serve  # noqa: F811
) -> None:
    import fcntl
    import threading
    import time

    files = _idx_set(8)
    _pin_gz(monkeypatch, data.MNIST, files)
    mirror = serve({f"{n}.gz": body for n, body in files.items()})
    dest = tmp_path / "mnist"
    dest.mkdir()
    fd = os.open(dest, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # "another process" is downloading into the folder
    errors: list[BaseException] = []

    def second() -> None:
        try:
            data.download(dest, ds="mnist", mirrors=[mirror.url])
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    worker = threading.Thread(target=second)
    worker.start()
    time.sleep(0.5)
    assert mirror.requests == []  # it waits for the folder
    for name in data.MNIST.files[:3]:  # the first download finishes three files, then stops
        (dest / f"{name}.gz").write_bytes(files[name])
    os.close(fd)
    worker.join(30)
    assert not errors and not worker.is_alive()
    assert mirror.requests == [f"/{data.MNIST.test_labels}.gz"]
    assert all(c.ok for c in data.verify(dest, ds="mnist"))


def test_the_configuration_offers_every_registered_data_set_and_toy_problem_and_nothing_else():
    from actviz.bench.config import DATA
    from actviz.bench.data.registry import DATASETS
    from actviz.bench.data.toy import TOY

    assert DATA == (*DATASETS, *TOY)
