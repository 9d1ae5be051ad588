"""Issue 26: the local launcher (``consentry-stack up``, what ``make up`` runs) leaves no
process running once it is gone, whatever ends it: SIGKILL (its children's parent-death
signal), its terminal closed (SIGHUP, a clean stop), or Ctrl-C after the reader of its
output has gone (``make up | tee up.log``: the stop goes on without printing). Each test
runs the real launcher -- Kafka, Redis, every service (and the HTTP servers' workers),
Prometheus -- and counts what is left of every process it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.eventually import eventually


def descendants(pid: int) -> set[int]:
    """The processes ``pid`` started, and those they started (an HTTP service's server
    starts its workers), now."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces; ppid follows the last ')'.
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (a zombie has ended)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            running.add(pid)
    return running


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], set[int]]]:
    """The launcher, up, with its children (Kafka, Redis x3, the services, Prometheus);
    every child left over is killed after the test, so a failure strays nothing."""
    process = subprocess.Popen(
        [sys.executable, "-m", "consentry_stack", "up", "--env-file", str(tmp_path / "up.env")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    seen = b""
    while b"Consentry is up" not in seen:
        line = process.stdout.readline()
        assert line, f"the launcher ended before it was up:\n{seen.decode()}"
        seen += line
    started = descendants(process.pid)
    assert len(started) >= 12, f"Kafka, Redis, services and workers, Prometheus: {len(started)}"
    try:
        yield process, started
    finally:
        for pid in alive(started):
            os.kill(pid, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()


def none_left(started: set[int]) -> None:
    eventually(lambda: not alive(started), 30, "every child of the launcher gone")


def test_a_killed_launcher_leaves_no_child(
    launcher: tuple[subprocess.Popen[bytes], set[int]],
) -> None:
    process, started = launcher
    process.kill()  # SIGKILL: nothing of the launcher runs any more
    process.wait()
    none_left(started)


def test_closing_the_launchers_terminal_stops_it_and_every_child(
    launcher: tuple[subprocess.Popen[bytes], set[int]],
) -> None:
    process, started = launcher
    process.send_signal(signal.SIGHUP)  # what the terminal's closing sends
    assert process.wait(60) == 0
    none_left(started)


def test_ctrl_c_after_the_output_pipe_closed_stops_every_child(
    launcher: tuple[subprocess.Popen[bytes], set[int]],
) -> None:
    process, started = launcher
    assert process.stdout is not None
    process.stdout.close()  # `tee` is gone: the launcher's next write breaks
    process.send_signal(signal.SIGINT)
    assert process.wait(60) == 0, "a clean stop, though nothing can be printed"
    none_left(started)
