"""Signal a real ``actviz`` process once it says that its handlers are installed.

With ``ACTVIZ_READY=1`` a command prints :data:`READY` on stderr at the moment its own
signal handlers are in place (``compare``: when training starts).  :class:`Watched`
starts the process with that variable, reads its stderr on a thread, waits for the line,
and only then sends a signal, so a test cannot pass because the command finished first.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable

from actviz.core.signals import READY_ENV, READY_LINE

READY = READY_LINE


class Watched:
    """A subprocess whose stderr lines are collected as they come."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None, **kw):
        env = {**(env if env is not None else os.environ), READY_ENV: "1"}
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env, **kw)
        self.lines: list[str] = []
        self.ready = threading.Event()
        self._stdout: list[str] = []
        self._readers = [threading.Thread(target=self._read_err, daemon=True),
                         threading.Thread(target=self._read_out, daemon=True)]
        for t in self._readers:
            t.start()

    def _read_out(self) -> None:  # read, so that a full pipe never blocks the command
        self._stdout.append(self.proc.stdout.read())

    def _read_err(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            if line.rstrip("\n") == READY:
                self.ready.set()

    def wait_ready(self, timeout: float = 180) -> None:
        """Wait for the readiness line; fail (and kill the process) if it does not come."""
        if not self.ready.wait(timeout):
            self.kill()
            raise AssertionError(f"no readiness line within {timeout} s; stderr: {self.lines[-20:]}")

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
        """Wait until ``condition()`` holds; fail if ``timeout`` passes or the process ends first."""
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"{what}: {self.lines[-20:]}"
            assert self.proc.poll() is None, f"ended before {what}: {self.lines[-20:]}"
            time.sleep(0.05)

    def send(self, signum: int) -> None:
        """Send ``signum``; fail if the process has already finished (the test would prove nothing)."""
        assert self.proc.poll() is None, f"the command finished before the signal: {self.lines[-20:]}"
        self.proc.send_signal(signum)

    def finish(self, timeout: float = 120) -> tuple[int, list[str]]:
        """The exit code and the stderr lines after the readiness line."""
        try:
            self.proc.wait(timeout)
        finally:
            self.kill()
        for t in self._readers:
            t.join(10)
        last = max((i for i, line in enumerate(self.lines) if line == READY), default=-1)
        after = self.lines[last + 1:]
        return self.proc.returncode, after

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
