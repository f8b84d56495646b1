"""Which process a pid names now, so a leftover lock is never taken for a live holder.

A pid is reused: after a kernel or runtime exits, an unrelated program may get
its number, and a lock or claim naming that pid would make a session look in
use for ever. A process that started after the lock was written cannot have
written it, so each check compares the process's start time with the time the
lock or claim was made.

Whose a process is, and this user's processes running in a folder, are asked here too;
and processes are stopped here, waiting until they have ended.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import psutil

# The kernel's clock for process start times ticks in hundredths of a second and
# is derived from the boot time; a lock is never written before its process starts.
START_TOLERANCE = 1.0


def started_at(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), or ``None`` if there is none."""
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.AccessDenied:
        return 0.0  # another user's live process: started, at a time we may not read
    except (psutil.Error, OverflowError, ValueError):
        return None


def this_process_started() -> float:
    """When this process started."""
    return started_at(os.getpid()) or 0.0


def alive_since(pid: int, made_at: float) -> bool:
    """Whether ``pid`` is a live process that was already running at ``made_at``."""
    started = started_at(pid)
    return started is not None and started <= made_at + START_TOLERANCE


def same_process(pid: int, started: float) -> bool:
    """Whether ``pid`` is still the process that started at ``started`` (not a reused pid)."""
    now = started_at(pid)
    return now is not None and (now == 0.0 or abs(now - started) <= START_TOLERANCE)


def still_running(pid: int, started: float) -> bool:
    """Whether ``pid`` is still the process that started at ``started`` and has not ended
    (a killed process its parent has not reaped yet, a zombie, has ended)."""
    if not same_process(pid, started):
        return False
    with contextlib.suppress(psutil.Error):
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    return True


def is_mine(pid: int) -> bool:
    """Whether process ``pid`` runs as this user (as this process's effective user)."""
    try:
        process = psutil.Process(pid)
        if hasattr(os, "geteuid"):
            return bool(process.uids().effective == os.geteuid())
        return bool(process.username() == psutil.Process().username())
    except psutil.Error:
        return False


def mine_in(folder: Path, *words: str) -> list[int]:
    """This user's processes that run in ``folder`` (their working directory) with each of
    ``words`` in their command line."""
    folder = folder.resolve()  # a process's working directory is told resolved
    found: list[int] = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if process.pid == os.getpid() or not is_mine(process.pid):
                continue
            command = process.cmdline()
            if all(word in command for word in words) and Path(process.cwd()) == folder:
                found.append(process.pid)
    return found


def terminate(pid: int) -> None:
    """Ask process ``pid`` to stop (SIGTERM); nothing when it is gone already."""
    with contextlib.suppress(psutil.Error):
        psutil.Process(pid).terminate()


def stop_and_wait(asked: list[int], pids: list[int], timeout: float) -> list[int]:
    """Ask the processes ``asked`` to stop (SIGTERM), wait up to ``timeout`` seconds until
    each of ``pids`` has ended (a zombie, not yet reaped by its parent, has), and kill those
    that still run then; returns the killed ones."""
    processes = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            processes.append(psutil.Process(pid))  # it remembers its start: never a reused pid
    for pid in asked:
        terminate(pid)
    deadline = time.monotonic() + timeout
    while (running := [p for p in processes if _runs(p)]) and time.monotonic() < deadline:
        psutil.wait_procs(running, timeout=0.2)
    for process in running:
        with contextlib.suppress(psutil.Error):
            process.kill()
    return [process.pid for process in running]


def _runs(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
