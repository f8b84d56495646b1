"""Calling into the person's objects without letting them hang or break a description.

Describing a value runs code that belongs to it: ``__repr__``, properties, a
DataFrame's own methods. :class:`Guard` runs each such call under a time budget
shared by the whole description and turns any failure into a line of text
(``<repr failed: ValueError: bad>``, ``<repr took longer than 1 s>``), so a
description always finishes and never raises.

The time limit is a ``SIGALRM`` timer (``signal.setitimer``), which Python
allows only on the main thread of the main interpreter, where IPython runs
cells. There a hanging call is stopped; on any other thread the budget is only
checked between calls, so a call that hangs there is not interrupted. The
alarm stops Python code: a call stuck inside C code is stopped when it returns
to Python. The alarm fires again every 50 ms until the call stops, in case the
call catches it once, but code that catches every exception in an endless loop
cannot be stopped. A timer or ``SIGALRM`` handler set before is restored; when
the handler was set outside Python (and so could not be), no alarm is used.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import TypeVar

from copilot_magic.values import cut_line

T = TypeVar("T")

MESSAGE_WIDTH = 120
LONGEST_TIME_LIMIT = 3600.0
_SHORTEST_ALARM = 0.001  # setitimer rounds to microseconds, and 0 would switch the timer off
_REPEAT = 0.05  # the alarm fires again until the call stops, should it swallow the first one


class _TimedOut(BaseException):
    """Raised by the alarm in a call out of time; not an ``Exception``, which the call may catch."""


@dataclass(frozen=True, slots=True)
class Failed:
    """A call that raised or ran out of time; ``line`` says which, for the description."""

    line: str


def error_line(error: BaseException, width: int = MESSAGE_WIDTH) -> str:
    """``ValueError: message``: the type, and the message's first line within ``width``."""
    try:
        name = str.__str__(type(error).__name__)
    except Exception:  # noqa: BLE001 - a metaclass lying about the name
        name = "exception"
    try:
        message = str(error)
        lines = [line.strip() for line in str.__str__(message).splitlines() if line.strip()]
    except Exception:  # noqa: BLE001 - a __str__ that raises or returns a non-str
        lines = ["<str() failed>"]
    if not lines:
        return name
    first = lines[0]
    return f"{name}: {cut_line(first, width)}"


class Guard:
    """Runs the calls of one description within ``time_limit`` seconds in all."""

    def __init__(self, time_limit: float) -> None:
        seconds = time_limit if time_limit > 0 else 0.0  # NaN too
        self.time_limit = min(seconds, LONGEST_TIME_LIMIT)
        self._deadline = time.monotonic() + self.time_limit

    @property
    def seconds(self) -> str:
        """The time limit as written in the lines: ``1``, ``0.2``."""
        return f"{self.time_limit:g}"

    def call(self, what: str, call: Callable[[], T]) -> T | Failed:
        """``call()``, or a :class:`Failed` saying how ``what`` failed or that it took too long."""
        remaining = self._deadline - time.monotonic()
        if remaining < _SHORTEST_ALARM:
            return Failed(f"<{what} skipped: the description took longer than {self.seconds} s>")
        try:
            return _with_alarm(lambda: _attempt(what, call), remaining)
        except _TimedOut:
            return Failed(f"<{what} took longer than {self.seconds} s>")

    def text(self, what: str, call: Callable[[], object]) -> str:
        """``call()`` as a plain ``str``, or the line saying why there is none."""
        result = self.call(what, call)
        if isinstance(result, Failed):
            return result.line
        if isinstance(result, str) and issubclass(type(result), str):
            return str.__str__(result)
        return f"<{what} failed: returned {type(result).__name__}, not str>"


def _attempt(what: str, call: Callable[[], T]) -> T | Failed:
    try:
        return call()
    except (KeyboardInterrupt, SystemExit, _TimedOut):
        raise
    except BaseException as error:  # noqa: BLE001 - the object's failure becomes a line
        return Failed(f"<{what} failed: {error_line(error)}>")


class _Alarm:
    """The SIGALRM handler of one call: raises while the call runs, then does nothing."""

    def __init__(self) -> None:
        self.armed = True

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.armed:
            raise _TimedOut

    def disarm(self) -> None:
        while True:  # an alarm landing here is dropped: the call is over
            try:
                self.armed = False
                return
            except _TimedOut:
                continue


def _with_alarm(call: Callable[[], T], seconds: float) -> T:
    if not _can_alarm():
        return call()
    alarm = _Alarm()
    previous_handler = signal.getsignal(signal.SIGALRM)
    if previous_handler is None:  # set from C: it could not be put back
        return call()
    try:
        signal.signal(signal.SIGALRM, alarm)
    except ValueError:  # not the main interpreter
        return call()
    previous_delay, previous_interval = signal.getitimer(signal.ITIMER_REAL)
    if previous_delay > 0:
        seconds = max(min(seconds, previous_delay), _SHORTEST_ALARM)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds, _REPEAT)
    try:
        return call()
    finally:
        alarm.disarm()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay > 0:
            left = previous_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), previous_interval)


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
