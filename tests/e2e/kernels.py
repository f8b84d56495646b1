"""Real Jupyter kernels for end-to-end tests: run cells, watch outputs, interrupt.

A :class:`Kernel` is an ipykernel process started by jupyter_client with the
environment a test gives it. :meth:`Kernel.execute` runs one cell and returns
what a notebook would store: its outputs and, if it failed, the error.
"""

from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import output_log
import psutil
from jupyter_client.manager import KernelManager

CELL_TIMEOUT = 120.0


@dataclass
class CellResult:
    """The outputs of one executed cell, as nbformat would store them."""

    outputs: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    payload: list[dict[str, Any]] = field(default_factory=list)  # of the execute reply
    asked: list[str] = field(default_factory=list)  # the prompts of input requests

    @property
    def next_input(self) -> str | None:
        """The text a ``set_next_input`` payload puts into the next cell, if any."""
        found = [p["text"] for p in self.payload if p.get("source") == "set_next_input"]
        return found[-1] if found else None

    @property
    def stdout(self) -> str:
        return "".join(o["text"] for o in self.outputs if o.get("name") == "stdout")

    @property
    def printed(self) -> str:
        """What the cell printed and returned, as a terminal shows it (stdout, then the
        plain text of its result: ``--list`` and ``--show`` return their table)."""
        results = [
            o["data"].get("text/plain", "") + "\n"
            for o in self.outputs
            if o["output_type"] == "execute_result"
        ]
        return self.stdout + "".join(results)

    @property
    def stderr(self) -> str:
        return "".join(o["text"] for o in self.outputs if o.get("name") == "stderr")

    @property
    def displays(self) -> list[dict[str, Any]]:
        """display_data outputs, each with the latest update applied."""
        return [o for o in self.outputs if o["output_type"] == "display_data"]

    @property
    def error_line(self) -> str:
        """The error as the kernel reported it, ``Name: message``."""
        if self.error is None:
            return ""
        return f"{self.error['ename']}: {self.error['evalue']}"

    @property
    def shown_error(self) -> str:
        """What the cell printed on stderr (IPython shows a UsageError there, on one line)."""
        return self.stderr.strip()

    def text(self) -> str:
        """Everything the cell showed, as text (streams, displays' HTML and plain text)."""
        parts = [self.stdout, self.stderr]
        for output in self.displays:
            parts.extend(str(v) for v in output["data"].values())
        return "\n".join(parts)


class _LaunchedKernelManager(KernelManager):  # type: ignore[misc]
    """A kernel manager that starts the kernel through a launcher command."""

    launcher: tuple[str, ...] = ()

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return [*self.launcher, *super().format_kernel_cmd(extra_arguments)]


class Kernel:
    """One live ipykernel with a blocking client.

    ``launcher`` is a command the kernel's own command line is appended to
    (for instance one that mounts the data directory read-only first).
    """

    def __init__(
        self, env: dict[str, str], cwd: str | None = None, launcher: tuple[str, ...] = ()
    ) -> None:
        self.manager = _LaunchedKernelManager(kernel_name="python3")
        self.manager.launcher = launcher
        self.manager.start_kernel(env=env, cwd=cwd)
        self.client = self.manager.blocking_client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.updates: list[dict[str, Any]] = []  # update_display_data messages of the last cell

    def send(self, code: str, allow_stdin: bool = False, cell_id: str | None = None) -> str:
        """Start running ``code``; returns the message id to :meth:`collect` with.

        Like nbclient, the kernel is told by default that nobody answers ``input()``;
        with ``allow_stdin`` it asks, and :meth:`collect` gives the answers. With
        ``cell_id`` the request carries the cell's id, as JupyterLab and VS Code send it.
        """
        self.updates = []
        if cell_id is None:
            return str(self.client.execute(code, allow_stdin=allow_stdin))
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": allow_stdin,
            "stop_on_error": True,
        }
        message = self.client.session.msg("execute_request", content, metadata={"cellId": cell_id})
        self.client.shell_channel.send(message)
        return str(message["header"]["msg_id"])

    def collect(
        self,
        msg_id: str,
        timeout: float = CELL_TIMEOUT,
        on_message: Callable[[dict[str, Any]], None] | None = None,
        answers: list[str | None] | None = None,
    ) -> CellResult:
        """Gather iopub output of ``msg_id`` until the kernel is idle again, answering its
        input requests with ``answers`` in order (a person typing them; ``None``: the person
        interrupts the kernel instead of answering)."""
        result = CellResult()
        by_display_id: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        pending = list(answers or [])
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"cell did not finish within {timeout} s")
            if answers is not None:
                self._answer_input(result, pending)
            try:
                wait = min(remaining, 0.05) if answers is not None else remaining
                message = self.client.get_iopub_msg(timeout=wait)
            except queue.Empty:
                continue
            output_log.record_iopub(self.manager.kernel_id, message)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if on_message is not None:
                on_message(message)
            if kind == "status" and content["execution_state"] == "idle":
                self._read_reply(msg_id, result, deadline)
                return result
            if kind == "stream":
                result.outputs.append({"output_type": "stream", **content})
            elif kind == "display_data":
                output = {
                    "output_type": "display_data",
                    "data": content["data"],
                    "metadata": content["metadata"],
                }
                result.outputs.append(output)
                display_id = content.get("transient", {}).get("display_id")
                if display_id:
                    by_display_id[display_id] = output
            elif kind == "execute_result":
                result.outputs.append(
                    {"output_type": kind, "data": content["data"], "metadata": content["metadata"]}
                )
            elif kind == "update_display_data":
                self.updates.append(message)
                target = by_display_id.get(content.get("transient", {}).get("display_id"))
                if target is not None:
                    target["data"], target["metadata"] = content["data"], content["metadata"]
            elif kind == "error":
                result.error = content

    def _read_reply(self, msg_id: str, result: CellResult, deadline: float) -> None:
        """The execute reply says whether the cell failed (a UsageError has no iopub error)."""
        while True:
            reply = self.client.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") != msg_id:
                continue
            content = reply["content"]
            result.payload = list(content.get("payload", []))
            if content["status"] == "error" and result.error is None:
                result.error = {
                    "ename": content.get("ename", ""),
                    "evalue": content.get("evalue", ""),
                    "traceback": [],
                }
            return

    def _answer_input(self, result: CellResult, pending: list[str | None]) -> None:
        try:
            request = self.client.get_stdin_msg(timeout=0)
        except queue.Empty:
            return
        if request["msg_type"] == "input_request":
            result.asked.append(request["content"]["prompt"])
            answer = pending.pop(0) if pending else ""
            if answer is None:
                self.interrupt()
            else:
                self.client.input(answer)

    def execute(
        self, code: str, timeout: float = CELL_TIMEOUT, cell_id: str | None = None
    ) -> CellResult:
        return self.collect(self.send(code, cell_id=cell_id), timeout)

    def execute_answering(self, code: str, answers: list[str | None]) -> CellResult:
        """Run ``code`` as a frontend with standard input does, typing ``answers``."""
        return self.collect(self.send(code, allow_stdin=True), answers=answers)

    def complete(self, code: str, cursor: int | None = None) -> dict[str, Any]:
        """What Tab offers at ``cursor`` (default: the end): the ``complete_reply`` content."""
        msg_id = self.client.complete(code, len(code) if cursor is None else cursor)
        deadline = time.monotonic() + 30
        while True:
            reply = self.client.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg_id:
                content: dict[str, Any] = reply["content"]
                return content

    @property
    def pid(self) -> int:
        return int(self.manager.provisioner.process.pid)

    def runtime_pids(self) -> list[int]:
        """The Copilot runtime processes this kernel started and that still run.

        The kernel's descendants count (the runtime runs under its small lifeline
        process), but not a runtime's own short-lived forks, which have the same
        command line.
        """
        try:
            descendants = psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        return _not_forks([p for p in descendants if _is_runtime(p)])

    def serving_runtime(self) -> int:
        """The pid of the runtime that serves this kernel now (its own, or the shared one),
        as the kernel knows it; 0 before it has one."""
        said = self.execute("print(get_ipython()._copilot_magics.store.bridge.runtime_pid or 0)")
        return int(said.stdout)

    def interrupt(self) -> None:
        self.manager.interrupt_kernel()

    def shutdown(self) -> None:
        """Stop the kernel (as closing a notebook does); safe to call twice."""
        if self.manager.has_kernel:
            self.client.stop_channels()
            self.manager.shutdown_kernel(now=False)


def _is_runtime(process: psutil.Process) -> bool:
    """The runtime shows as "MainThread"; its command line tells it apart."""
    try:
        command = process.cmdline()
        return bool(command) and command[0].endswith("copilot") and "--headless" in command
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False


def _not_forks(runtimes: list[psutil.Process]) -> list[int]:
    """The runtimes that are not a runtime's own short-lived forks (same command line)."""
    pids = {p.pid for p in runtimes}
    found = []
    for process in runtimes:
        with contextlib.suppress(psutil.Error):
            if process.ppid() not in pids:
                found.append(process.pid)
    return found


def serving_runtimes(data_dir: Path) -> list[int]:
    """The running Copilot runtimes that use ``data_dir`` (not counting their forks)."""
    processes = []
    for pid in runtimes_on(data_dir):
        with contextlib.suppress(psutil.Error):
            processes.append(psutil.Process(pid))
    return _not_forks(processes)


def runtimes_on(data_dir: Path) -> list[int]:
    """Every running Copilot runtime process (and fork of one) that uses ``data_dir``."""
    found = []
    for process in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error):
            if _is_runtime(process) and process.environ().get("COPILOT_HOME") == str(data_dir):
                found.append(process.pid)
    return found


def gone(pids: list[int], timeout: float = 15.0) -> bool:
    """Whether all these processes have exited (waiting up to ``timeout`` for them)."""
    processes = []
    for pid in pids:
        try:
            processes.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    return not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
