"""Linux process helpers for the dividend benchmark and fault test: a worker's process tree, killing all of it
with SIGKILL (nothing may survive to finish the task), and a process's peak resident memory."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (children first level, then theirs), from /proc."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.append(child)
                    queue.append(child)
    return found


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def kill_tree(proc) -> list[int]:
    """SIGKILL a ``subprocess.Popen`` and every descendant at once (children first, so none is orphaned
    still running a task); waits until none is alive. Returns the pids killed."""
    pids = descendants(proc.pid)
    for pid in [*pids, proc.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [pid for pid in pids if alive(pid)]
    if survivors:
        raise RuntimeError(f"processes survived SIGKILL: {survivors}")
    return [proc.pid, *pids]


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM) in MiB; 0.0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
