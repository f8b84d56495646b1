"""The notebook frontend that ran a ``%%copilot`` cell, reached over a Jupyter comm.

copilot_magic's JupyterLab and Notebook 7 extension registers the comm target
:data:`TARGET`. For each turn the kernel opens a comm; the frontend whose
execute request started the cell (the comm's parent message is that request,
so a second window on the same notebook stays silent) answers ``hello`` and then
answers each request of the notebook tools: ``cells`` (read every cell),
``review`` (show an edit, an insert or a delete as a diff on its cell and wait
for the person's Accept or Reject) and ``outputs`` (show what a cell the person
let Copilot run printed and displayed, under that cell).
The comm closes when the cell ends; the frontend then withdraws a review still
open.

The frontend's answers arrive while the cell still runs: JupyterLab 4.2+ and
Notebook 7.2+ send comm messages on a kernel subshell (ipykernel 7), which the
kernel reads beside the busy main shell. A frontend that cannot (no subshells)
or does not answer (terminal IPython has no comms; VS Code and JupyterLab
without the extension close the comm or stay silent; nbclient ignores it) is
no frontend: the turn runs without the notebook tools (see :class:`FrontendProbe`
for how long a turn waits for the hello).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import asdict, replace
from typing import Any

from copilot_magic.kernel.notebook import AppliedChange, Change, Lost

TARGET = "copilot_magic.notebook"
PROTOCOL = 1
FIRST_WAIT = 2.0  # seconds a turn waits for the frontend's hello (until one fails to come)
GONE = "the notebook's frontend closed the link (its kernel connection ended)"
SILENT = "the notebook's frontend stopped answering (the page was closed or reloaded)"
PING_EVERY = 5.0  # seconds between the kernel's pings while it waits for an answer
SILENT_FOR = 20.0  # seconds without a pong, or any word, after which the frontend is gone


class FrontendGone(Lost):
    """The frontend closed the comm, or the link was closed, before it answered."""


class FrontendLink:
    """One turn's comm with the frontend that ran the cell
    (a :class:`~copilot_magic.kernel.notebook_tools.Notebook`)."""

    def __init__(
        self,
        comm: Any,
        on_hello: Callable[[], None] | None = None,
        *,
        ping_every: float = PING_EVERY,
        silent_for: float = SILENT_FOR,
    ) -> None:
        self.present = False  # the frontend said hello in time: the notebook tools are offered
        self.path = ""  # the notebook's, as the frontend's hello gave it
        self.apply_at_once = False  # notebook_edits "apply": edits and new cells land at once
        self._applied: Callable[[AppliedChange], None] | None = None
        self._on_hello = on_hello
        # A page closed or reloaded sends nothing: while waiting, the kernel pings, and a
        # frontend that stops answering them is gone (its review with it).
        self._ping_every, self._silent_for = ping_every, silent_for
        self._heard_at = time.monotonic()
        self._comm = comm
        self._hello: Future[Mapping[str, Any]] = Future()
        self._pending: dict[int, Future[Mapping[str, Any]]] = {}
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._closed = False
        comm.on_msg(self._received)
        comm.on_close(lambda message: self._ended())

    # -- messages from the frontend (on a subshell's thread) --------------------------
    def _received(self, message: Mapping[str, Any]) -> None:
        data = message.get("content", {}).get("data", {})
        if not isinstance(data, dict):
            return
        self._heard_at = time.monotonic()
        if data.get("type") == "hello":
            if not self._hello.done():
                self.path = str(data.get("path") or "")
                self._hello.set_result(data)
            if self._on_hello is not None:
                self._on_hello()
            return
        if data.get("type") == "answer" and isinstance(data.get("id"), int):
            with self._lock:
                waiting = self._pending.pop(data["id"], None)
            if waiting is not None and not waiting.done():
                answer = data.get("answer")
                waiting.set_result(answer if isinstance(answer, dict) else {})

    def _ended(self) -> None:
        with self._lock:
            self._closed = True
        if not self._hello.done():
            self._hello.set_exception(FrontendGone(GONE))
        with self._lock:
            pending, self._pending = self._pending, {}
        for waiting in pending.values():
            if not waiting.done():
                waiting.set_exception(FrontendGone(GONE))

    # -- the kernel's side (the main thread) -----------------------------------------
    def answered(self, wait: float) -> bool:
        """Whether the frontend said hello within ``wait`` seconds."""
        try:
            return bool(_result(self._hello, wait))
        except (FrontendGone, TimeoutError):
            return False

    def request(self, operation: str, **arguments: Any) -> Mapping[str, Any]:
        """Ask the frontend for ``operation`` and wait for its answer (as long as the person
        takes to review, while the frontend answers the pings; an interrupt stops the
        wait). Raises :class:`FrontendGone`."""
        number = next(self._numbers)
        waiting: Future[Mapping[str, Any]] = Future()
        with self._lock:
            if self._closed:
                raise FrontendGone(GONE)
            self._pending[number] = waiting
        self._comm.send({"type": "request", "id": number, "operation": operation, **arguments})
        self._heard_at = time.monotonic()
        try:
            while True:
                try:
                    return _result(waiting, self._ping_every)
                except TimeoutError:
                    if time.monotonic() - self._heard_at > self._silent_for:
                        raise FrontendGone(SILENT) from None
                    self._comm.send({"type": "ping"})
        finally:
            with self._lock:
                self._pending.pop(number, None)

    def close(self) -> None:
        """End the turn's comm: the frontend withdraws any review still open."""
        self._ended()
        self._comm.close()

    # -- the Notebook protocol -------------------------------------------------------
    def cells(self) -> Sequence[Mapping[str, Any]]:
        found = self.request("cells").get("cells")
        return [cell for cell in found if isinstance(cell, dict)] if isinstance(found, list) else []

    def propose(self, change: Change) -> Mapping[str, Any]:
        # At once only what shows whole: a proposal with hidden characters is reviewed.
        at_once = self.apply_at_once and change.kind in ("edit", "insert") and not change.hidden
        if at_once and change.purpose == "propose":
            change = replace(change, purpose="apply")
        fields = asdict(change)
        fields["lines"] = [list(line) for line in change.lines]
        done = self.request("review", **fields)
        landed = done.get("outcome") in ("accepted", "applied")
        kept = change.kind != "run" and change.purpose != "rewind"  # a way back is no change
        if landed and kept and self._applied:
            self._applied(applied_change(change, done, self.path))
        return done

    def watch(self, applied: Callable[[AppliedChange], None]) -> None:
        self._applied = applied

    def show_outputs(
        self, cell_id: str, outputs: Sequence[Mapping[str, Any]], execution_count: int | None
    ) -> bool:
        """Show ``outputs`` (nbformat's) under code cell ``cell_id`` instead of its own, with
        ``execution_count``; whether the frontend did (the cell may be gone, or the page)."""
        try:
            done = self.request(
                "outputs", cell_id=cell_id, outputs=list(outputs), execution_count=execution_count
            )
        except Lost:
            return False
        return done.get("outcome") == "shown"


def applied_change(change: Change, done: Mapping[str, Any], notebook: str) -> AppliedChange:
    """What an accepted ``change`` did, as the frontend answered it (a new cell's id, the
    cell above a deleted one), to be kept with its turn."""
    if change.kind == "insert":
        cell_id = str(done.get("cell_id") or "")
        source = str(done.get("source", change.source))
        return AppliedChange(
            "insert", cell_id, "", source, change.cell_type, change.cell_id, notebook
        )
    above = str(done.get("above") or "")
    if change.kind == "delete":
        return AppliedChange(
            "delete", change.cell_id, change.old, "", change.cell_type, above, notebook
        )
    after = str(done.get("source", change.source))
    return AppliedChange("edit", change.cell_id, change.old, after, change.cell_type, "", notebook)


def _result(future: Future[Mapping[str, Any]], wait: float | None) -> Mapping[str, Any]:
    """The future's result, waited for in short steps so that an interrupt is felt at once
    (``wait`` 0: only if it is there already)."""
    if wait is not None and wait <= 0:
        if future.done():
            return future.result()
        raise TimeoutError
    steps = None if wait is None else max(1, int(wait / 0.05))
    for _ in itertools.count() if steps is None else range(steps):
        try:
            return future.result(timeout=0.05)
        except TimeoutError:
            continue
    raise TimeoutError


class FrontendProbe:
    """Finds, for each ``%%copilot`` cell, the frontend that can act in the notebook.

    Only a cell that came with a cell id (JupyterLab, Notebook 7 and VS Code send one; a
    terminal and nbclient do not) is asked about. The first such cell of a kernel waits up
    to :data:`FIRST_WAIT` seconds for the frontend's hello; once one did not come in time,
    later cells do not wait at all, and a hello that comes late (during the turn) makes the
    next cell wait again.
    """

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.missed = False  # no hello came in time last time: do not wait

    def open(self, cell_id: str | None) -> FrontendLink | None:
        """The current cell's link (:meth:`FrontendLink.present` says whether a frontend
        answered), or ``None`` where nothing can answer; the caller closes it at the cell's
        end."""
        if not cell_id or getattr(self.shell, "kernel", None) is None:  # no comms to ask
            return None
        try:
            comm = _kernel_comm(self.shell.kernel)
            link = FrontendLink(comm, self._heard)  # listening before the hello can come
            comm.open(data={"protocol": PROTOCOL})
        except Exception:  # noqa: BLE001 - no comm to open: no frontend to act in the notebook
            return None
        try:
            link.present = link.answered(0.0 if self.missed else FIRST_WAIT)
        except BaseException:  # interrupted while waiting: the comm goes with the cell
            link.close()
            raise
        self.missed = not link.present
        return link

    def _heard(self) -> None:
        self.missed = False


def _kernel_comm(kernel: Any) -> Any:
    """A comm of ``kernel``'s, not yet open, whose answers are read where they arrive.

    ipykernel's own comms (7.4) route a frontend's answer to the shell that sent the last
    message, here the main shell, busy running the cell until the turn ends: the answer
    would wait for it. This one publishes like them, through the ``comm`` package's base
    class, without that routing, so an answer sent on a subshell is read on that
    subshell's thread while the cell runs.
    """
    from comm.base_comm import BaseComm

    class TurnComm(BaseComm):
        def handle_msg(self, msg: Any) -> None:
            """The answer, to its callback alone (BaseComm's would fire IPython's
            pre_execute and post_execute events, on the subshell's thread, mid-cell)."""
            if self._msg_callback is not None:
                self._msg_callback(msg)

        def publish_msg(
            self,
            msg_type: str,
            data: Mapping[str, Any] | None = None,
            metadata: Mapping[str, Any] | None = None,
            buffers: list[bytes] | None = None,
            **keys: Any,
        ) -> None:
            content = {"data": dict(data or {}), "comm_id": self.comm_id, **keys}
            kernel.session.send(
                kernel.iopub_socket,
                msg_type,
                content,
                metadata=dict(metadata or {}),
                parent=kernel.get_parent(),
                ident=self.topic,
                buffers=buffers,
            )

    return TurnComm(target_name=TARGET, primary=False)
