"""Which runtime a process uses: the shared one, one served at an address, or its own.

The ``runtime`` setting decides: ``shared`` (one runtime for every kernel of
the data directory, :mod:`~copilot_magic.runtime.shared`), ``own`` (started
by :mod:`~copilot_magic.runtime.launcher` for this process alone) or
``HOST:PORT`` (:mod:`~copilot_magic.runtime.served`). Failures to reach it are
one line each.
"""

from __future__ import annotations

import functools
import os

from copilot_magic.config import RUNTIME_OWN, RUNTIME_SHARED, Settings
from copilot_magic.errors import Advice, Remedy, RuntimeUnavailable, TokenRefused, one_line
from copilot_magic.runtime import sdk
from copilot_magic.runtime.launcher import START_TIMEOUT, LaunchedRuntime, launch
from copilot_magic.runtime.served import ServedRuntime
from copilot_magic.runtime.shared import shared_runtime


def resolve_runtime(settings: Settings) -> str:
    """The runtime binary: ``cli_path`` (or ``COPILOT_CLI_PATH``), else the SDK's own."""
    path = settings.cli_path
    if path:
        if not os.path.isfile(path):
            raise RuntimeUnavailable(
                f"The Copilot runtime was not found at {path}, the cli_path setting: install "
                "it with `npm install @github/copilot`, or change the setting.",
                advice=Advice(Remedy.SET_SETTING, setting="cli_path"),
            )
        if not os.access(path, os.X_OK):
            raise RuntimeUnavailable(f"The Copilot runtime at {path} is not executable.")
        return path
    try:
        return sdk.installed_runtime()
    except Exception as error:  # noqa: BLE001 - the SDK downloads it; offline this fails
        reason = one_line(error) or type(error).__name__
        raise RuntimeUnavailable(
            f"The Copilot runtime could not be installed ({reason}): point the cli_path "
            "setting at a `copilot` binary (npm install @github/copilot).",
            advice=Advice(Remedy.SET_SETTING, setting="cli_path"),
        ) from None


def runtime_for(settings: Settings, starts_shared: bool) -> LaunchedRuntime | ServedRuntime:
    """The runtime the settings name, reached now: the shared one (started if none runs and
    ``starts_shared``), the one served at an address, or one of this process's own (also
    for a one-off command while no shared runtime runs)."""
    if settings.runtime == RUNTIME_SHARED:
        binary = functools.partial(resolve_runtime, settings)
        shared = shared_runtime(
            settings.data_path,
            binary,
            settings.runtime_idle,
            start=starts_shared,
            chosen=settings.cli_path,
        )
        if shared is not None:
            return shared
    if settings.runtime in (RUNTIME_OWN, RUNTIME_SHARED):
        return launch(resolve_runtime(settings), str(settings.data_path), START_TIMEOUT)
    token = settings.runtime_token.reveal()
    return ServedRuntime.find(settings.runtime, token, settings.data_path)


def not_connected(
    runtime: LaunchedRuntime | ServedRuntime, error: Exception, timeout: float
) -> RuntimeUnavailable:
    """The one line for a client that could not start on ``runtime``: one of ours as it is
    (the socket it reached is not the person's own), else what went wrong."""
    if isinstance(error, RuntimeUnavailable):
        return error
    timed_out = isinstance(error, TimeoutError)
    reason = f"no answer within {timeout:g} s" if timed_out else one_line(error)
    reason = reason or type(error).__name__
    if not isinstance(runtime, ServedRuntime):
        if timed_out:
            return RuntimeUnavailable("The Copilot runtime did not start in time.")
        return RuntimeUnavailable(f"The Copilot runtime failed to start: {reason}")
    if sdk.says_wrong_token(error):
        return TokenRefused(
            f"The Copilot runtime at {runtime.address} refused this kernel ({reason}): "
            "its token is not the one given (COPILOT_MAGIC_RUNTIME_TOKEN, or the token file "
            "of a runtime served on this data directory)."
        )
    return RuntimeUnavailable(
        f"Nothing at {runtime.address} answers as a Copilot runtime ({reason}): start one "
        "there with `copilot-magic serve`, or check the runtime setting.",
        advice=Advice(Remedy.SET_SETTING, setting="runtime"),
    )
