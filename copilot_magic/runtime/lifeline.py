"""Keeps a Copilot runtime alive exactly as long as the process that started it.

Run as ``python -m copilot_magic.runtime.lifeline RUNTIME [ARGS...]`` in a process
session of its own (so a kernel interrupt never reaches the runtime). It starts
the runtime in server mode and writes two lines on its standard output:
``pid N`` and then ``port N`` (or ``failed CODE: REASON`` if the runtime exits
before it listens). Then it waits:

* when its standard input closes (the kernel stopped, crashed or was killed),
  it stops the runtime and exits;
* when the runtime exits, it exits the same way (the same code, or the same
  signal), so the starter sees the runtime's fate on this process.

Only the standard library is used, and nothing of copilot_magic is imported.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections import deque
from typing import IO

STOP_GRACE = 5.0  # seconds the runtime gets to exit after SIGTERM, then SIGKILL
_LISTENING = re.compile(rb"listening on port (\d+)", re.IGNORECASE)


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _stop(runtime: subprocess.Popen[bytes]) -> None:
    if runtime.poll() is None:
        runtime.terminate()
        try:
            runtime.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            runtime.kill()
            runtime.wait()


def _exit_like(code: int) -> None:
    """Exit with the runtime's code, or die of the runtime's signal."""
    sys.stdout.flush()
    if code < 0:
        if -code != signal.SIGKILL:  # SIGKILL has no handler to reset
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code if code >= 0 else 1)


def _drain(stream: IO[bytes], keep: deque[bytes]) -> None:
    for line in stream:
        keep.append(line)


def main(command: list[str]) -> None:
    if not command:
        _say("failed 2: no runtime given")
        return
    try:
        runtime = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError as error:
        _say(f"failed 127: {error.strerror or error}")
        return
    _say(f"pid {runtime.pid}")

    def on_terminate(*_: object) -> None:
        _stop(runtime)
        _exit_like(0)

    signal.signal(signal.SIGTERM, on_terminate)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    errors: deque[bytes] = deque(maxlen=20)
    assert runtime.stdout is not None
    assert runtime.stderr is not None
    threading.Thread(target=_drain, args=(runtime.stderr, errors), daemon=True).start()
    for line in runtime.stdout:
        found = _LISTENING.search(line)
        if found:
            _say(f"port {int(found.group(1))}")
            break
    else:
        code = runtime.wait()
        reason = next((e for e in reversed(errors) if e.strip()), b"no output").strip()
        _say(f"failed {code}: {reason.decode(errors='replace')}")
        return
    threading.Thread(target=_drain, args=(runtime.stdout, deque(maxlen=1)), daemon=True).start()

    def follow_runtime() -> None:
        _exit_like(runtime.wait())

    threading.Thread(target=follow_runtime, daemon=True).start()
    sys.stdin.buffer.read()  # returns when the starter's end of the pipe closes
    _stop(runtime)
    _exit_like(0)


if __name__ == "__main__":
    main(sys.argv[1:])
