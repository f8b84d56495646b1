"""Keeps a Copilot runtime alive exactly as long as the process that started it.

Run as ``python -I lifeline.py RUNTIME [ARGS...]`` (isolated: the standard
library only, nothing from the starter's folder or of copilot_magic), in a
process session of its own, so a kernel interrupt never reaches the runtime.
It starts the runtime in server mode and tells the starter, one line each on
its standard output:

* ``pid N`` once the runtime is started;
* ``port N`` once it listens, or ``failed CODE: REASON`` if it ends first;
* ``exit CODE`` when the runtime has ended (a signal as a negative number).

It stops the runtime and every process it started (SIGTERM to the runtime's
process group, then SIGKILL after a grace period) as soon as
its standard input closes, which happens when the starter stops, crashes or
is killed, at any moment, also while the runtime is still starting; or when
it receives SIGTERM itself.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections import deque

STOP_GRACE = 5.0  # seconds the runtime gets to exit after SIGTERM, then SIGKILL
GROUPS = sys.platform != "win32"  # the runtime gets a process group of its own, to signal whole
KILL = getattr(signal, "SIGKILL", signal.SIGTERM)
_LISTENING = re.compile(rb"listening on port (\d+)", re.IGNORECASE)
# Node's way of failing: "Error: ENOSPC: no space left on device, ..." then "    at ..." frames
# and a "{ errno: ... }" block; the error line says why, the frames do not.
_ERROR_LINE = re.compile(rb"^(?:[a-z]*error|uncaught)\b[^:]*:\s*\S", re.IGNORECASE)
_NOT_A_REASON = re.compile(rb"^\s*(?:at\s|[{}^]|$)|^\s+\w+:\s")


def reason_of(said: list[bytes]) -> str:
    """The line that says why the runtime ended: its last error line, else its last line
    that is not a stack frame or part of an error's details."""
    lines = [line.rstrip() for line in said]
    chosen = next((s for s in reversed(lines) if _ERROR_LINE.match(s)), None)
    chosen = chosen or next((s for s in reversed(lines) if not _NOT_A_REASON.match(s)), None)
    chosen = chosen or next((s for s in reversed(lines) if s.strip()), b"no output")
    return chosen.strip().decode(errors="replace")


def _say(line: str) -> bool:
    """Tell the starter; ``False`` when it is gone (nobody reads any more)."""
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except (BrokenPipeError, ValueError, OSError):
        return False
    return True


def _signal(runtime: subprocess.Popen[bytes], how: signal.Signals) -> None:
    """Signal the runtime's whole process group: started through npm's ``copilot`` loader,
    the runtime is the loader's child, and ending the loader alone would leave it running."""
    try:
        if GROUPS:
            os.killpg(runtime.pid, how)
        else:
            runtime.send_signal(how)
    except (ProcessLookupError, PermissionError):
        pass  # ended already


def _stop(runtime: subprocess.Popen[bytes]) -> None:
    """Ask the runtime to end, and make sure it does (the main thread waits for it)."""
    _signal(runtime, signal.SIGTERM)
    timer = threading.Timer(STOP_GRACE, _signal, (runtime, KILL))
    timer.daemon = True
    timer.start()


def _watch_starter(runtime: subprocess.Popen[bytes]) -> None:
    sys.stdin.buffer.read()  # returns when the starter's end of the pipe closes
    _stop(runtime)


def main(command: list[str]) -> None:
    if not command:
        _say("failed 2: no runtime given")
        return
    try:
        runtime = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0 if GROUPS else None,
        )
    except OSError as error:
        _say(f"failed 127: {error.strerror or error}")
        return
    signal.signal(signal.SIGTERM, lambda *_: _stop(runtime))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_starter, args=(runtime,), daemon=True).start()
    if not _say(f"pid {runtime.pid}"):
        _stop(runtime)
    assert runtime.stdout is not None
    said: deque[bytes] = deque(maxlen=40)
    for line in runtime.stdout:
        found = _LISTENING.search(line)
        if found:
            if not _say(f"port {int(found.group(1))}"):
                _stop(runtime)
            break
        said.append(line)
    else:
        code = runtime.wait()
        _say(f"failed {code}: {reason_of(list(said))}")
        return
    for _line in runtime.stdout:  # keep reading, so the runtime never blocks on a full pipe
        pass
    _say(f"exit {runtime.wait()}")


if __name__ == "__main__":
    main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(0)  # the daemon thread may still be reading stdin
