"""The one Copilot client of a process, and the thread whose event loop it lives on.

The SDK client must stay on the asyncio loop it was started on, and a Jupyter
kernel already runs a loop of its own. So :class:`RuntimeBridge` owns a daemon
thread with a private loop; synchronous code hands it coroutines with
:meth:`RuntimeBridge.run`. The runtime process is started in a process session
of its own (through a tiny ``setsid`` wrapper), so interrupting a cell does not
kill it, and the bridge notices when it dies and starts a fresh one on the next
call. Nothing here imports IPython; the SDK is imported on first use.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import shutil
import stat
import tempfile
import threading
import weakref
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from copilot_magic.config import ENV_CLI_PATH, ENV_PROVIDER_URL, Settings
from copilot_magic.errors import NotSignedIn, RuntimeRefused, RuntimeUnavailable, one_line

if TYPE_CHECKING:
    from copilot import CopilotClient

T = TypeVar("T")
START_TIMEOUT = 60.0

NOT_SIGNED_IN = (
    "Copilot has no GitHub sign-in and no model provider is configured: run `copilot login` "
    "(or set GH_TOKEN), or set a provider with "
    f"{ENV_PROVIDER_URL} / %config CopilotMagics.provider_url."
)


def _quiet_sdk_logging() -> None:
    """The SDK logs tracebacks of errors it handles itself; keep them out of cells."""
    for name in ("copilot", "copilot._jsonrpc"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _write_setsid_wrapper(directory: Path, runtime: str) -> str:
    """A two-line script that starts ``runtime`` in its own process session.

    Kernel interrupts go to the kernel's whole process group; a runtime in a
    session of its own never receives them. Where ``setsid`` is missing, the
    runtime is used as it is.
    """
    setsid = shutil.which("setsid")
    if setsid is None:
        return runtime
    wrapper = directory / "copilot-runtime"
    wrapper.write_text(f'#!/bin/sh\nexec {setsid} "{runtime}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return str(wrapper)


def _resolve_runtime(settings: Settings) -> str:
    """The runtime binary: ``cli_path`` (or ``COPILOT_CLI_PATH``), else the SDK's own."""
    path = settings.cli_path or os.environ.get(ENV_CLI_PATH, "")
    if path:
        if not os.path.isfile(path):
            raise RuntimeUnavailable(
                f"The Copilot runtime was not found at {path} ({ENV_CLI_PATH} or "
                "CopilotMagics.cli_path): install it with `npm install @github/copilot`."
            )
        if not os.access(path, os.X_OK):
            raise RuntimeUnavailable(f"The Copilot runtime at {path} is not executable.")
        return path
    try:
        from copilot._cli_download import ensure_runtime_wrapper

        return str(ensure_runtime_wrapper())
    except Exception as error:  # noqa: BLE001 - the SDK downloads it; offline this fails
        reason = one_line(error) or type(error).__name__
        raise RuntimeUnavailable(
            f"The Copilot runtime could not be installed ({reason}): set "
            f"{ENV_CLI_PATH} to a `copilot` binary (npm install @github/copilot)."
        ) from None


@dataclass
class _Handles:
    """What must be stopped at exit; kept apart so the finalizer does not hold the bridge."""

    loop: asyncio.AbstractEventLoop | None = None
    thread: threading.Thread | None = None
    client: CopilotClient | None = None


def _stop_at_exit(handles: _Handles) -> None:
    """Stop the runtime quickly when the bridge is collected or Python exits."""
    loop, client = handles.loop, handles.client
    if loop is None or not loop.is_running():
        return
    if client is not None:
        with contextlib.suppress(Exception):  # exiting anyway; the runtime exits with us
            asyncio.run_coroutine_threadsafe(client.force_stop(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)


class PendingCall(Generic[T]):
    """An SDK call started by :meth:`RuntimeBridge.begin`; :meth:`result` waits for it."""

    def __init__(self, bridge: RuntimeBridge, future: concurrent.futures.Future[T]) -> None:
        self._bridge = bridge
        self._future = future

    def result(self, timeout: float) -> T:
        """The call's result; failures become the same one-line errors as ``call``'s.

        If the caller is interrupted (``KeyboardInterrupt``), the call is cancelled.
        """
        try:
            return self._future.result(timeout)
        except BaseException as error:
            self._future.cancel()
            friendly = self._bridge.sdk_error(error, timeout)
            if friendly is None:
                raise
            raise friendly from None


class RuntimeBridge:
    """Runs coroutines on a private loop that owns one SDK client and its runtime.

    The client is started lazily by :meth:`client`, replaced when its runtime
    process has died (``generation`` counts the replacements, so callers know to
    reopen their sessions), and stopped by :meth:`stop` or at interpreter exit.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.generation = 0
        self._handles = _Handles()
        self._lock = threading.RLock()
        self._scratch = Path(tempfile.mkdtemp(prefix="copilot-magic-"))
        self._signed_in: bool | None = None
        weakref.finalize(self, _stop_at_exit, self._handles)
        weakref.finalize(self, shutil.rmtree, self._scratch, True)

    # -- the loop thread ------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            handles = self._handles
            if handles.loop is None or handles.thread is None or not handles.thread.is_alive():
                handles.loop = asyncio.new_event_loop()
                handles.thread = threading.Thread(
                    target=handles.loop.run_forever, name="copilot-magic-runtime", daemon=True
                )
                handles.thread.start()
            return handles.loop

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop thread; the caller waits on the future."""
        return asyncio.run_coroutine_threadsafe(coro, self._ensure_loop())

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop thread and return its result.

        If the caller is interrupted (``KeyboardInterrupt``), the coroutine is
        cancelled and the interrupt goes on.
        """
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()
            raise

    def call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """:meth:`run` for SDK calls: a runtime that died or hangs becomes a one-line error."""
        return self.begin(coro).result(timeout)

    def begin(self, coro: Coroutine[Any, Any, T]) -> PendingCall[T]:
        """Start an SDK call and return at once; its ``result()`` is what :meth:`call` returns.

        For work the caller can do while the runtime answers.
        """
        return PendingCall(self, self.submit(coro))

    def sdk_error(self, error: BaseException, timeout: float) -> Exception | None:
        """The one-line error for a failed SDK call, or ``None`` to let ``error`` go on."""
        from copilot._jsonrpc import JsonRpcError, ProcessExitedError

        if isinstance(error, JsonRpcError):
            detail = one_line(error.message)
            return RuntimeRefused(f"The Copilot runtime refused the request: {detail}", detail)
        if isinstance(error, ProcessExitedError):
            return RuntimeUnavailable(
                f"The Copilot runtime stopped (exit code {self.runtime_exit_code()}); "
                "run the command again to restart it."
            )
        if isinstance(error, TimeoutError):
            return RuntimeUnavailable(f"The Copilot runtime did not answer within {timeout:g} s.")
        return None

    # -- the client -------------------------------------------------------------
    def _process(self) -> Any:
        # The SDK keeps the runtime's Popen here; it offers no public handle.
        return getattr(self._handles.client, "_process", None)

    @property
    def runtime_pid(self) -> int | None:
        return getattr(self._process(), "pid", None)

    def runtime_exit_code(self) -> int | None:
        """``None`` while the runtime runs (or before it started), else its exit code."""
        process = self._process()
        return None if process is None else process.poll()

    def runtime_alive(self) -> bool:
        """Whether the runtime process of the current client is running."""
        return self._process() is not None and self.runtime_exit_code() is None

    def client(self) -> CopilotClient:
        """The started client, starting (or restarting) the runtime if needed."""
        with self._lock:
            if self._handles.client is not None and self.runtime_alive():
                return self._handles.client
            self._discard_client()
            self._handles.client = self._start_client()
            self.generation += 1
            return self._handles.client

    def _start_client(self) -> CopilotClient:
        runtime = _resolve_runtime(self.settings)
        _quiet_sdk_logging()
        from copilot import CopilotClient, RuntimeConnection

        connection = RuntimeConnection.for_stdio(path=_write_setsid_wrapper(self._scratch, runtime))
        client = CopilotClient(
            connection=connection,
            base_directory=self.settings.data_dir or None,
            log_level="error",
        )
        try:
            self.run(client.start(), timeout=START_TIMEOUT)
        except (KeyboardInterrupt, concurrent.futures.TimeoutError):
            self._force_stop(client)
            raise RuntimeUnavailable("The Copilot runtime did not start in time.") from None
        except Exception as error:  # noqa: BLE001 - any start failure is reported the same way
            self._force_stop(client)
            raise RuntimeUnavailable(
                f"The Copilot runtime failed to start: {one_line(error) or type(error).__name__}"
            ) from None
        return client

    def ensure_signed_in(self) -> None:
        """Raise :class:`NotSignedIn` if there is neither a provider nor a GitHub sign-in."""
        if self.settings.uses_provider:
            return
        client = self.client()
        if self._signed_in is None:
            status = self.run(client.get_auth_status(), timeout=START_TIMEOUT)
            self._signed_in = bool(status.isAuthenticated)
        if not self._signed_in:
            raise NotSignedIn(NOT_SIGNED_IN)

    def _force_stop(self, client: CopilotClient) -> None:
        with contextlib.suppress(Exception):  # the runtime is gone already: nothing to save
            self.run(client.force_stop(), timeout=10)

    def _discard_client(self) -> None:
        if self._handles.client is not None:
            self._force_stop(self._handles.client)
        self._handles.client = None
        self._signed_in = None

    def stop(self) -> None:
        """Stop the runtime and the loop thread. A later call starts them again."""
        with self._lock:
            client, loop, thread = self._handles.client, self._handles.loop, self._handles.thread
            if client is not None:
                try:
                    self.run(client.stop(), timeout=10)
                except Exception:  # noqa: BLE001 - stop() failed: make sure it is gone
                    self._force_stop(client)
            if loop is not None:
                loop.call_soon_threadsafe(loop.stop)
                if thread is not None:
                    thread.join(timeout=5)
            self._handles.client = self._handles.loop = self._handles.thread = None
            self._signed_in = None
