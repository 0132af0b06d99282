"""``compare --executor ray``: the units of a comparison trained as Ray tasks, on one machine or a cluster.

The driver (the ``actviz compare`` process) plans the units (:func:`actviz.bench.units.plan_units`:
one seed of every configuration of a data set each), submits each as a Ray task, and stays the only writer of
the store: every task sends each event of its training (each finished epoch of each run,
the progress steps) through one :class:`ray.util.queue.Queue`, which the driver drains and
records (:class:`actviz.bench.units.Recorder`) with the same atomic rewrite as the local path.

Resources per task: ``num_cpus`` is ``--threads`` when given, else 1 (a worker's torch then
uses that many threads); ``num_gpus`` is 1 with ``--device cuda``, else 0 (Ray then hides the
GPUs from the task, so ``--device auto`` trains on the workers' CPUs).  A task is not
retried: a task that raises, or whose worker dies, marks its unit's unfinished runs
``failed`` and the others go on.  Ctrl-C or SIGTERM cancels the tasks (their workers are
killed); the epochs already received are kept.

Workers load the data set themselves (:func:`actviz.bench.data.load` with the driver's
``--data-dir``: their cache, the Debian package or a download, checksummed), once per worker
process; the driver sends no images.  A data object handed to the library
(``Comparison(data=...)``) is put once into Ray's object store instead.

The address (``--ray-address``): ``auto`` (the default) connects to the cluster that
``ray.init(address="auto")`` finds (``RAY_ADDRESS``, else the latest ``ray start`` on this
machine) and, where there is none (Ray 2.60 raises ``ConnectionError`` then), starts a local
Ray instance with this machine's CPUs, no dashboard, a small object store, and shuts it down
at the end.  Any other value is a cluster's address (``HEAD:6379``, ``ray://HEAD:10001``),
connected to as it is (``HOST:PORT`` is first checked to accept a connection within 10 s: Ray
itself would retry an unreachable address for minutes).  A Ray already initialised in this process (a library caller's) is
used and left running.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Sequence
from typing import Any

from actviz.bench.units import Recorder, Unit, train_unit
from actviz.core.errors import ActvizError

__all__ = ["INSTALL", "LOCAL_OBJECT_STORE", "RayExecutor", "import_ray"]

#: what to install for ``--executor ray``
INSTALL = "pip install 'actviz[ray]'"
#: bytes of object store for a Ray instance started here (only events travel through it)
LOCAL_OBJECT_STORE = 256 * 2**20
#: what a worker reads of a data object (:func:`actviz.bench.data.load` returns one)
_DATA_FIELDS = ("train_images", "train_labels", "test_images", "test_labels", "n_classes", "name", "source")
#: seconds between two looks at the tasks and the queue of events
POLL_S = 0.05


def import_ray() -> Any:
    """The ``ray`` module; ModuleNotFoundError naming the extra to install when it is absent."""
    try:
        import ray
    except ModuleNotFoundError as exc:
        if (exc.name or "ray").split(".")[0] != "ray":
            raise
        raise ModuleNotFoundError(f"--executor ray needs Ray, which is not installed: {INSTALL}", name="ray") from None
    return ray


# --------------------------------------------------------------------------- the worker's side

_DATA: dict[Any, Any] = {}  # per worker process: the data set it loaded, by data directory


def _data(source: Any) -> Any:
    """The data set of a task: loaded (or generated) here, once per process, from ``("load", data_dir, name,
    *toy options)``, else given."""
    if isinstance(source, tuple) and source[:1] == ("load",):
        if source not in _DATA:
            from actviz.bench import data as data_mod

            _DATA[source] = data_mod.load(source[1], data=source[2], **dict(source[3:]))
        return _DATA[source]
    return source


def _run(work: Callable[..., dict[str, Any]], unit: Unit, source: Any, queue: Any) -> dict[str, Any]:
    """A task: train ``unit`` with ``work`` (:func:`train_unit`), every event put on ``queue``."""
    return work(unit, _data(source), queue.put)


# --------------------------------------------------------------------------- the driver's side


class RayExecutor:
    """Trains a comparison's units as Ray tasks (see the module's docstring).

    ``address``: ``auto`` or a cluster's address.  ``work(unit, data, send) -> result`` is
    what each task runs (default :func:`actviz.bench.units.train_unit`).  ``num_cpus``: the
    CPUs of a Ray instance started here (default all of this machine's).
    """

    def __init__(self, address: str = "auto", *, work: Callable[..., dict[str, Any]] = train_unit,
                 num_cpus: int | None = None):
        self.ray = import_ray()
        self.address = address or "auto"
        if self.address != "auto":
            _check_reachable(self.address)  # Ray itself retries an unreachable address for minutes
        self.work = work
        self.num_cpus = num_cpus
        self.started = False  #: whether this executor started the Ray instance
        self.reused = False  #: whether Ray was already initialised in this process (then left running)
        self.connected = ""  #: what it connected to, in words
        self._given: Any = None  #: a library caller's data object, put into the object store once

    # -- connecting
    def connect(self) -> None:
        """Connect (or start a local instance, for ``auto`` without a cluster); SIGTERM stays actviz's."""
        ray = self.ray
        self.reused = ray.is_initialized()
        if self.reused:
            self.connected = "the Ray instance already running in this process"
            return
        previous = signal.getsignal(signal.SIGTERM) if threading.current_thread() is threading.main_thread() else None
        quiet: dict[str, Any] = {"log_to_driver": False, "logging_level": "error"}
        try:
            if self.address == "auto":
                try:
                    ray.init(address="auto", **quiet)
                    self.connected = "the running Ray cluster"
                except ConnectionError:  # no cluster: start one here
                    ray.init(num_cpus=self.num_cpus, include_dashboard=False,
                             object_store_memory=LOCAL_OBJECT_STORE, **quiet)
                    self.started = True
                    self.connected = "a local Ray instance"
            else:
                ray.init(address=self.address, **quiet)
                self.connected = f"the Ray cluster at {self.address}"
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise ActvizError(f"--ray-address {self.address}: cannot connect to a Ray cluster: "
                              f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        finally:
            if previous is not None:  # ray.init installs its own SIGTERM handler (sys.exit)
                signal.signal(signal.SIGTERM, previous)

    def disconnect(self) -> None:
        """Shut down what this executor started; disconnect from a cluster it connected to."""
        if not self.reused and self.ray.is_initialized():
            self.ray.shutdown()
        self.connected, self.started, self.reused = "", False, False

    # -- training
    def _source(self, comparison: Any, unit: Unit) -> Any:
        if comparison.given_data is not None:  # a library caller's data object: once into the object store
            from types import SimpleNamespace

            if self._given is None:
                d = comparison.given_data  # its fields only: its class need not be importable on the workers
                self._given = self.ray.put(SimpleNamespace(**{k: getattr(d, k) for k in _DATA_FIELDS
                                                              if hasattr(d, k)}))
            return self._given
        from actviz.bench.config import data_source

        name, options = data_source(unit.config)
        return ("load", None if comparison.data_dir is None else str(comparison.data_dir), name, *options.items())

    def _submit(self, task: Any, unit: Unit, source: Any, queue: Any) -> Any:
        c = unit.config
        options = {"num_cpus": c.threads or 1, "num_gpus": 1 if c.device == "cuda" else 0, "max_retries": 0}
        return task.options(**options).remote(self.work, unit, source, queue)

    def train(self, comparison: Any, units: Sequence[Unit]) -> bool:
        """Train ``units`` for ``comparison``, recording as results come; True when interrupted."""
        rec = Recorder(comparison, units)
        try:
            self.connect()
            from ray.util.queue import Queue

            queue = Queue(actor_options={"num_cpus": 0})
            self._given = None
            task = self.ray.remote(_run)
            tasks = {self._submit(task, u, self._source(comparison, u), queue): u.index for u in units}
            interrupted = self._follow(tasks, queue, rec)
        except KeyboardInterrupt:
            rec.stopped()
            interrupted = True
        finally:
            comparison.failures.extend(rec.failures)
            self.disconnect()
        return interrupted

    def _follow(self, tasks: dict[Any, int], queue: Any, rec: Recorder) -> bool:
        """Record the events of the tasks until all are done; on a signal cancel the rest (kept: what came)."""
        ray = self.ray
        pending = list(tasks)
        interrupted = False
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=len(pending), timeout=POLL_S)
                _drain(queue, rec)  # a task's events are all queued once it is done: before its result
                for ref in done:
                    try:
                        result = ray.get(ref)
                    except ray.exceptions.RayError as exc:
                        rec.failed(tasks[ref], _reason(exc))
                    else:
                        rec.finished(result)
                        interrupted = interrupted or bool(result["interrupted"])
        except KeyboardInterrupt:
            from actviz.core.signals import shielded

            with shielded(raise_after=False):  # a second signal waits until the tasks are cancelled
                for ref in pending:
                    ray.cancel(ref, force=True)
                _drain(queue, rec)
                rec.stopped()
            return True
        return interrupted


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """ActvizError unless ``HOST:PORT`` accepts a connection (other forms, ``ray://...``, are left to Ray)."""
    import socket

    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "/" in address:
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ActvizError(f"--ray-address {address}: no Ray cluster answers there "
                          f"({exc.strerror or exc or 'no answer'}); start one with 'ray start --head', "
                          "or leave --ray-address out for a local one") from None


def _drain(queue: Any, rec: Recorder) -> None:
    """Apply every event waiting in the queue, in order."""
    n = queue.qsize()
    if n:
        for msg in queue.get_nowait_batch(n):
            rec.message(msg)


def _reason(exc: BaseException) -> str:
    """What went wrong in a task, in one line: the worker's exception, or what happened to the worker."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return f"{type(cause).__name__}: {cause}".splitlines()[0]
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'}"
