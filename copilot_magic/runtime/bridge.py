"""The one Copilot client of a process, and the thread whose event loop it lives on.

The SDK client must stay on the asyncio loop it was started on, and a Jupyter
kernel already runs a loop of its own. So :class:`RuntimeBridge` owns a daemon
thread with a private loop; synchronous code hands it coroutines with
:meth:`RuntimeBridge.run`. The runtime is the one shared by every kernel of the data
directory (:mod:`~copilot_magic.runtime.shared`), one a ``copilot-magic serve``
runs at an address (:mod:`~copilot_magic.runtime.served`), or this process's
own, started by :mod:`~copilot_magic.runtime.launcher`; each runs in a process
session of its own (so interrupting a cell does not kill it). The bridge
notices when the runtime dies, and
when the settings name another runtime or data directory, and starts a fresh
one on the next call. Nothing here imports IPython; the SDK is imported on
first use.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
import weakref
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from copilot_magic.config import Settings
from copilot_magic.errors import Advice, NotSignedIn, Remedy, TokenRefused
from copilot_magic.runtime import sdk
from copilot_magic.runtime.choice import not_connected, runtime_for
from copilot_magic.runtime.launcher import START_TIMEOUT, LaunchedRuntime, descendants
from copilot_magic.runtime.listeners import vet_connection
from copilot_magic.runtime.served import ServedRuntime
from copilot_magic.runtime.shared import retire

if TYPE_CHECKING:
    from copilot_magic.runtime.sdk import CopilotClient

T = TypeVar("T")
FAMILY_FRESH = 1.0  # seconds the list of processes the runtime started is trusted
CONNECT_TIMEOUT = 10.0  # seconds a served runtime has to answer a new client

NOT_SIGNED_IN = (
    "Copilot has no GitHub sign-in and no model provider is configured: run `copilot login` "
    "(or set GH_TOKEN), or set a provider with the provider_url setting."
)
SET_PROVIDER = Advice(Remedy.SET_SETTING, setting="provider_url")


@dataclass
class _Handles:
    """What must be stopped at exit; kept apart so the finalizer does not hold the bridge."""

    loop: asyncio.AbstractEventLoop | None = None
    thread: threading.Thread | None = None
    client: CopilotClient | None = None
    runtime: LaunchedRuntime | ServedRuntime | None = None


def _stop_at_exit(handles: _Handles) -> None:
    """Stop the runtime when the bridge is collected or Python exits."""
    if handles.runtime is not None:
        handles.runtime.stop()
    loop = handles.loop
    if loop is not None and loop.is_running():
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
            friendly = sdk.one_line_error(error, timeout, self._bridge.runtime_exit_code())
            if friendly is None:
                raise
            raise friendly from None


class RuntimeBridge:
    """Runs coroutines on a private loop that owns one SDK client and its runtime.

    ``settings`` is read afresh at every call, so a change (with ``%config``)
    applies from the next command on. The client is started lazily by
    :meth:`client`, replaced when its runtime has died or the settings name
    another runtime or data directory (``generation`` counts the replacements,
    so callers know to reopen their sessions), and stopped by :meth:`stop` or
    at interpreter exit. With ``starts_shared`` false (a one-off command), a
    shared runtime is used when one runs, and otherwise the bridge starts a
    runtime of its own rather than a shared one that would outlive it.
    """

    def __init__(self, settings: Callable[[], Settings], starts_shared: bool = True) -> None:
        self._settings = settings
        self._starts_shared = starts_shared
        self.generation = 0
        self._handles = _Handles()
        self._lock = threading.RLock()
        self._started_for: tuple[object, ...] | None = None  # the settings it started for
        self._signed_in: bool | None = None
        self._family: tuple[int, float, frozenset[int]] = (0, 0.0, frozenset())  # is_runtime
        weakref.finalize(self, _stop_at_exit, self._handles)

    @property
    def settings(self) -> Settings:
        """The settings in force now."""
        return self._settings()

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

    # -- the runtime and the client -----------------------------------------------
    @property
    def runtime_pid(self) -> int | None:
        runtime = self._handles.runtime
        return None if runtime is None else runtime.pid

    def is_runtime(self, pid: int) -> bool:
        """Whether ``pid`` is this bridge's runtime or a process it started: npm's ``copilot``
        is a loader that runs the real runtime, whose pid the session locks carry, as a child.

        A served runtime holds the sessions of every kernel that uses it, so its locks
        say nothing of which kernel has a session open (the kernels' holds say that);
        when its pid is unknown (served from elsewhere), every lock counts as its own."""
        own = self.runtime_pid
        if own is None:
            return False
        if isinstance(self._handles.runtime, ServedRuntime) and not own:
            return True
        if pid == own:
            return True
        now = time.monotonic()
        known_for, at, family = self._family
        if known_for != own or now - at > FAMILY_FRESH:
            family = frozenset(descendants(own))
            self._family = (own, now, family)
        return pid in family

    def runtime_exit_code(self) -> int | None:
        """``None`` while the runtime runs (or before it started), else its exit code."""
        runtime = self._handles.runtime
        return None if runtime is None else runtime.exit_code()

    def runtime_alive(self) -> bool:
        """Whether the runtime of the current client is running."""
        return self._handles.runtime is not None and self.runtime_exit_code() is None

    def client(self) -> CopilotClient:
        """The started client, starting (or restarting) the runtime if needed."""
        with self._lock:
            settings = self.settings
            wanted: tuple[object, ...] = (settings.cli_path, str(settings.data_path))
            wanted += (settings.runtime, settings.runtime_token)
            client = self._handles.client
            if client is not None and self.runtime_alive() and wanted == self._started_for:
                return client
            self._discard()
            runtime = self._handles.runtime = runtime_for(settings, self._starts_shared)
            try:
                self._handles.client = self._connect(runtime)
            except TokenRefused:
                shared = isinstance(runtime, ServedRuntime) and runtime.shared
                if not (shared and self._starts_shared):
                    raise
                # The shared runtime's token file is not its own: start a new one, once.
                assert isinstance(runtime, ServedRuntime)
                retire(settings.data_path, runtime)
                runtime = self._handles.runtime = runtime_for(settings, self._starts_shared)
                self._handles.client = self._connect(runtime)
            self._started_for = wanted
            self.generation += 1
            return self._handles.client

    def _connect(self, runtime: LaunchedRuntime | ServedRuntime) -> CopilotClient:
        # Nothing (the token first) goes to a socket of this machine that is not the person's.
        client = sdk.connect(runtime.address, runtime.token, vet=vet_connection)
        served = isinstance(runtime, ServedRuntime)
        timeout = CONNECT_TIMEOUT if served else START_TIMEOUT
        try:
            self.run(client.start(), timeout=timeout)
        except KeyboardInterrupt:
            self._discard(client, runtime)
            raise
        except Exception as error:  # noqa: BLE001 - any start failure is reported the same way
            self._discard(client, runtime)
            raise not_connected(runtime, error, timeout) from None
        sdk.without_send_delay(client)
        sdk.reads_buffered(client)
        return client

    def ensure_signed_in(self) -> None:
        """Raise :class:`NotSignedIn` if there is neither a provider nor a GitHub sign-in."""
        if self.settings.uses_provider:
            return
        client = self.client()
        if self._signed_in is None:
            status = self.call(client.get_auth_status(), timeout=START_TIMEOUT)
            self._signed_in = sdk.sign_in(status)[0]
        if not self._signed_in:
            raise NotSignedIn(NOT_SIGNED_IN, advice=SET_PROVIDER)

    def _discard(
        self,
        client: CopilotClient | None = None,
        runtime: LaunchedRuntime | ServedRuntime | None = None,
    ) -> None:
        """Disconnect the client and stop its runtime (the current ones by default)."""
        handles = self._handles
        client = client or handles.client
        runtime = runtime or handles.runtime
        if client is not None:
            with contextlib.suppress(Exception):  # the runtime is gone already: nothing to save
                self.run(client.force_stop(), timeout=10)
        if runtime is not None:
            runtime.stop()
        if client is handles.client:
            handles.client = None
        if runtime is handles.runtime:
            handles.runtime = None
        self._started_for = None
        self._signed_in = None

    def stop(self) -> None:
        """Stop the runtime and close the loop thread. A later call starts them again."""
        with self._lock:
            self._discard()
            loop, thread = self._handles.loop, self._handles.thread
            if loop is not None:
                loop.call_soon_threadsafe(loop.stop)
                if thread is not None:
                    thread.join(timeout=5)
                if not loop.is_running():
                    loop.close()
            self._handles.loop = self._handles.thread = None
