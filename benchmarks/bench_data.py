"""Loading the data sets: the parsers' throughput, and does a hashing thread or ISA-L inflate pay for itself?

    python benchmarks/bench_data.py [--dir DIR] [--repeat N] [--parsers-only] [--cifar-images N]

First the parsers alone (IDX on the real Fashion-MNIST training images, CIFAR-10's
pickled batches through the restricted unpickler on a synthetic tarball in the real
layout), in MB/s against a plain ``numpy.frombuffer`` copy of the same bytes measured
in the same run; the target is at least 100 MB/s.  Then the whole load of Fashion-MNIST:

it times what every load does to the four ``.gz`` files (about 30 MB compressed, 55 MB
decompressed): inflate in 1 MiB pieces into one preallocated buffer, SHA-256 of the
decompressed bytes, parse the IDX header into a numpy array.  The variants:

* ``zlib, hash inline`` -- the reference: the hash is updated in the inflating thread;
* ``zlib, hash thread`` -- the hash runs in a helper thread fed through a queue
  (outputs of 8 MiB or more), overlapping the inflating;
* ``isal, hash inline`` / ``isal, hash thread`` -- ``isal.isal_zlib`` instead of
  :mod:`zlib` (only when the optional ``isal`` package is importable);
* ``actviz.bench.data.load_arrays`` (``load`` in a fresh process) -- the library as it
  stands (zlib, hash inline, files in parallel, plus finding and checking the files).

The data layer once had both the hashing thread and an optional ISA-L inflater.  They
were dropped: the thread gained nothing measurable, and ISA-L, while about 30% faster
at inflating in a warm process, gained nothing in a cold ``load`` (the decompression
already runs while torch is imported) and is not installed with the project.  Run
this again to check that judgement on other machines.

Each is timed three ways: the four files one after the other; the four files in
parallel threads (as :func:`actviz.bench.data.load` reads them); and in a fresh
process, the four files in parallel threads while ``import torch`` runs, which is what
a cold ``load`` does (the decompression hides behind the import).  The median of N
runs is printed with its ratio to the reference measured in the same run (lower is
faster).
"""

from __future__ import annotations

import argparse
import hashlib
import queue
import statistics
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")
CHUNK = 1 << 20
THREADED_HASH_MIN = 1 << 23


class _HashThread:
    """``update``/``hexdigest`` like :mod:`hashlib`, with the hashing done in a helper thread."""

    def __init__(self) -> None:
        self.sha = hashlib.sha256()
        self.queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while (piece := self.queue.get()) is not None:
            self.sha.update(piece)

    def update(self, piece: bytes) -> None:
        self.queue.put(piece)

    def hexdigest(self) -> str:
        self.queue.put(None)
        self.thread.join()
        return self.sha.hexdigest()


def inflate_hash_parse(path: Path, zmod: Any, threaded: bool) -> tuple[np.ndarray, str]:
    """Decompress ``path`` with ``zmod`` into one buffer, hash it, parse it as IDX."""
    src = path.read_bytes()
    size = struct.unpack("<I", src[-4:])[0]
    buf = bytearray(size)
    view = memoryview(buf)
    sha: Any = _HashThread() if threaded and size >= THREADED_HASH_MIN else hashlib.sha256()
    dec = zmod.decompressobj(31)
    pos = 0
    whole = memoryview(src)
    for start in range(0, len(src), CHUNK):
        piece = dec.decompress(whole[start : start + CHUNK])
        view[pos : pos + len(piece)] = piece
        pos += len(piece)
        sha.update(piece)
    piece = dec.flush()
    view[pos : pos + len(piece)] = piece
    pos += len(piece)
    sha.update(piece)
    view.release()
    digest = sha.hexdigest()
    assert pos == size and dec.eof, path
    ndim = buf[3]
    dims = struct.unpack(f">{ndim}I", bytes(buf[4 : 4 + 4 * ndim]))
    array = np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    return array, digest


def run_files(paths: list[Path], one: Callable[[Path], Any], parallel: bool) -> None:
    if parallel:
        with ThreadPoolExecutor(len(paths)) as pool:
            list(pool.map(one, paths))
    else:
        for p in paths:
            one(p)


def median_time(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm the page cache and the imports
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def variants(paths: list[Path], directory: Path) -> dict[str, Callable[[bool], None]]:
    rows: dict[str, Callable[[bool], None]] = {
        "zlib, hash inline (reference)": lambda par: run_files(
            paths, lambda p: inflate_hash_parse(p, zlib, threaded=False), par
        ),
        "zlib, hash thread": lambda par: run_files(
            paths, lambda p: inflate_hash_parse(p, zlib, threaded=True), par
        ),
    }
    try:
        from isal import isal_zlib  # type: ignore[import-not-found]
    except ImportError:
        print("isal is not importable here: the ISA-L rows are skipped")
    else:
        rows["isal, hash inline"] = lambda par: run_files(
            paths, lambda p: inflate_hash_parse(p, isal_zlib, threaded=False), par
        )
        rows["isal, hash thread"] = lambda par: run_files(
            paths, lambda p: inflate_hash_parse(p, isal_zlib, threaded=True), par
        )
    try:
        from actviz.bench import data
    except ImportError:
        return rows

    def library(parallel: bool) -> None:  # the library always reads the files in parallel
        data.load_arrays(directory, download=False)

    rows["actviz.bench.data.load_arrays"] = library
    return rows


def cold_child(directory: Path, variant: str) -> None:
    """In a fresh process: read the four files in parallel while torch is imported."""
    paths = sorted(directory.glob("*-ubyte.gz"))
    if variant == "library":
        from actviz.bench import data

        data.load(directory, download=False)
        return
    zname, hashing = variant.split("-")
    zmod: Any = zlib
    if zname == "isal":
        from isal import isal_zlib

        zmod = isal_zlib
    with ThreadPoolExecutor(len(paths)) as pool:
        futures = [pool.submit(inflate_hash_parse, p, zmod, hashing == "thread") for p in paths]
        import torch  # noqa: F401

        for fut in futures:
            fut.result()


def cold_rows(directory: Path, names: list[str]) -> dict[str, Callable[[bool], None]]:
    keys = {
        "zlib, hash inline (reference)": "zlib-inline",
        "zlib, hash thread": "zlib-thread",
        "isal, hash inline": "isal-inline",
        "isal, hash thread": "isal-thread",
        "actviz.bench.data.load_arrays": "library",
    }

    def child(key: str) -> Callable[[bool], None]:
        cmd = [sys.executable, __file__, "--dir", str(directory), "--child", key]
        return lambda _parallel: subprocess.run(cmd, check=True)

    return {name.replace("load_arrays", "load"): child(keys[name]) for name in names}


def parser_throughput(directory: Path, repeat: int, cifar_images: int) -> None:
    """The parsers alone, on decompressed bytes in memory: MB/s, against a plain ``numpy.frombuffer`` copy.

    IDX: the real Fashion-MNIST training images (47 MB); the parsed array is a view of the
    buffer, so it is copied once to be timed like the reference.  CIFAR-10: a tarball in the real
    layout (Python 2 pickles, numpy.core's reconstructor) of ``cifar_images`` random
    images, five training batches and a test batch, parsed through the restricted
    unpickler.  The target is at least 100 MB/s for each.
    """
    import gzip
    import io
    import tarfile

    from actviz.bench.data import cifar
    from actviz.bench.data.formats import parse_idx, read_contents

    idx = read_contents(directory / "train-images-idx3-ubyte.gz", compressed=True)
    rng = np.random.default_rng(0)
    n_test = cifar_images // 6
    train = (rng.integers(0, 256, (cifar_images - n_test, 3, 32, 32), dtype=np.uint8),
             rng.integers(0, 10, cifar_images - n_test, dtype=np.uint8))
    test = (rng.integers(0, 256, (n_test, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, n_test, dtype=np.uint8))
    tar_path = Path(__import__("tempfile").mkdtemp()) / "cifar-10-python.tar.gz"
    cifar.write_cifar_tar(tar_path, train, test)
    tar_bytes = bytearray(gzip.decompress(tar_path.read_bytes()))
    tar_path.unlink()
    tar_path.parent.rmdir()
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        assert len(tar.getmembers()) == 6
    cases = {
        "IDX (Fashion-MNIST train images, +copy)": (
            idx.length, lambda: parse_idx(idx.buf, idx.length, "train-images").copy(),
            lambda: np.frombuffer(idx.buf, np.uint8, idx.length).copy()),
        f"CIFAR-10 pickles ({cifar_images:,} images)": (
            len(tar_bytes), lambda: cifar.parse_cifar_tar(tar_bytes, len(tar_bytes), "cifar"),
            lambda: np.frombuffer(tar_bytes, np.uint8).copy()),
    }
    print(f"\nparsers on decompressed bytes in memory (median of {repeat}; target >= 100 MB/s):")
    for name, (size, parse, copy) in cases.items():
        t_parse = median_time(lambda _p=parse: _p(), repeat)
        t_copy = median_time(lambda _c=copy: _c(), repeat)
        rate = size / t_parse / 1e6
        print(f"  {name:36s} {size / 1e6:6.1f} MB  parse {t_parse * 1000:7.1f} ms = {rate:7.0f} MB/s   "
              f"frombuffer copy {t_copy * 1000:6.1f} ms   {t_parse / t_copy:5.2f} x the copy   "
              f"{'ok' if rate >= 100 else 'BELOW TARGET'}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="directory with the four .gz files")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--cifar-images", type=int, default=60_000, help="images in the synthetic CIFAR-10 tarball")
    ap.add_argument("--parsers-only", action="store_true", help="time only the IDX and CIFAR-10 parsers")
    args = ap.parse_args()
    if args.child:
        cold_child(args.dir, args.child)
        return
    parser_throughput(args.dir, args.repeat, args.cifar_images)
    if args.parsers_only:
        return
    paths = sorted(args.dir.glob("*-ubyte.gz"))
    if len(paths) != 4:
        raise SystemExit(f"{args.dir} does not hold the four Fashion-MNIST .gz files")
    rows = variants(paths, args.dir)
    modes = (
        ("four files one after the other", False, rows),
        ("four files in parallel threads", True, rows),
        ("fresh process, four files in parallel while torch is imported", True, cold_rows(args.dir, list(rows))),
    )
    for mode, parallel, table in modes:
        print(f"\n{mode} (median of {args.repeat}):")
        times = {
            name: median_time(lambda fn=fn, par=parallel: fn(par), args.repeat) for name, fn in table.items()
        }
        ref = times["zlib, hash inline (reference)"]
        for name, t in times.items():
            print(f"  {name:34s} {t * 1000:7.1f} ms   {t / ref:5.2f} x reference", flush=True)


if __name__ == "__main__":
    main()
