"""Child processes in their own process group, logged to a file, stopped without strays.

A child started from the main thread goes through util-linux's ``setpriv --pdeathsig
KILL``: the kernel kills it the moment the process that started it dies, however that
dies (SIGKILL included), so a launcher that is killed, or whose terminal is closed,
leaves nothing running. The signal follows the *thread* that started the child, not the
process (prctl(2)), so a child started from another thread (a test restarting a worker
from ``asyncio.to_thread``, whose pool thread ends with its event loop) goes without it:
it would be killed as that thread ends. The child's own process group still lets a clean
stop signal it and anything it started.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

log = logging.getLogger(__name__)


class StackError(RuntimeError):
    """A local server could not be set up or started; the message says what to do."""


def dies_with_parent() -> list[str]:
    """The prefix that makes a command die with the process that starts it (a
    parent-death signal, set before the command is executed; it survives the exec)."""
    if not sys.platform.startswith("linux"):
        return []  # no parent-death signal elsewhere: a clean stop still stops all
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise StackError("setpriv is missing: apt-get install util-linux")
    return [setpriv, "--pdeathsig", "KILL", "--"]


class ManagedProcess:
    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            bound = (
                dies_with_parent() if threading.current_thread() is threading.main_thread() else []
            )
            self._proc = subprocess.Popen(
                [*bound, *self.argv],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        log.info("started %s (pid %d), log %s", self.name, self._proc.pid, self.log_path)

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise StackError(f"{self.name} was never started")
        return self._proc.pid

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the whole process group (used by fault tests too)."""
        if self.alive():
            os.killpg(self.pid, signum)

    def stop(self, timeout_s: float = 15.0) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, signal.SIGTERM)
                self._proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0fs; killing it", self.name, timeout_s)
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
            except ProcessLookupError:
                pass
        self._proc = None

    def tail(self, lines: int = 40) -> str:
        """The log's last lines, after any line that says why a native part gave up (a
        Rust panic's backtrace would push its message out of the tail)."""
        try:
            all_lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return ""
        why = [line for line in all_lines[:-lines] if "panicked at" in line]
        return "\n".join([*why[-3:], *all_lines[-lines:]])
