"""Where copilot_magic finds its runtime, its data and its model.

:class:`Settings` is plain data, free of IPython, shared by the magics, the
command line and the tests. Each field can come from the environment (see
:meth:`Settings.from_environment`); in a notebook, the traits of
``CopilotMagics`` override them (``%config CopilotMagics.model = "..."``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_MODEL = "COPILOT_MAGIC_MODEL"
ENV_PROVIDER_URL = "COPILOT_MAGIC_PROVIDER_URL"
ENV_PROVIDER_TYPE = "COPILOT_MAGIC_PROVIDER_TYPE"
ENV_PROVIDER_API_KEY = "COPILOT_MAGIC_PROVIDER_API_KEY"
ENV_ABSTAIN_SIGNAL = "COPILOT_MAGIC_ABSTAIN_SIGNAL"
ENV_DATA_DIR = "COPILOT_HOME"  # the runtime's own variable
ENV_CLI_PATH = "COPILOT_CLI_PATH"  # the SDK's own variable
ENV_NOTEBOOK = "COPILOT_MAGIC_NOTEBOOK"
ENV_REPLY_TIMEOUT = "COPILOT_MAGIC_REPLY_TIMEOUT"

DEFAULT_ABSTAIN_SIGNAL = "[[POR_ABSTAIN]]"
PROVIDER_TYPES = ("openai", "azure", "anthropic")
# Seconds a reply may go without any sign from the runtime before it is stopped.
# A hung model server gets no answer from the runtime for 10 minutes, then 5 retries.
DEFAULT_REPLY_TIMEOUT = 120.0


class Secret:
    """A string that never shows itself: ``repr`` and ``str`` print asterisks.

    Use :meth:`reveal` at the single place where the value is handed to the SDK.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "'********'" if self._value else "''"

    __str__ = __repr__


def _seconds(text: str, fallback: float) -> float:
    """A positive number of seconds from the environment, else ``fallback``."""
    try:
        value = float(text)
    except ValueError:
        return fallback
    return value if value > 0 else fallback


@dataclass(frozen=True)
class Settings:
    """Everything needed to reach the runtime and a model.

    ``data_dir`` empty means the runtime's default (``~/.copilot``); ``cli_path``
    empty means the runtime the SDK installs. ``provider_url`` set means BYOK:
    the runtime talks to that OpenAI-compatible, Azure or Anthropic endpoint
    instead of GitHub Copilot.
    """

    model: str = ""
    provider_url: str = ""
    provider_type: str = "openai"
    provider_api_key: Secret = field(default_factory=lambda: Secret(""))
    data_dir: str = ""
    cli_path: str = ""
    abstain_signal: str = DEFAULT_ABSTAIN_SIGNAL
    notebook_path: str = ""  # the notebook this kernel runs, when set by hand
    reply_timeout: float = DEFAULT_REPLY_TIMEOUT  # seconds of silence before a turn is stopped

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings read from ``COPILOT_MAGIC_*``, ``COPILOT_HOME`` and ``COPILOT_CLI_PATH``."""
        env = os.environ if environ is None else environ
        return cls(
            model=env.get(ENV_MODEL, ""),
            provider_url=env.get(ENV_PROVIDER_URL, ""),
            provider_type=env.get(ENV_PROVIDER_TYPE, "") or "openai",
            provider_api_key=Secret(env.get(ENV_PROVIDER_API_KEY, "")),
            data_dir=env.get(ENV_DATA_DIR, ""),
            cli_path=env.get(ENV_CLI_PATH, ""),
            abstain_signal=env.get(ENV_ABSTAIN_SIGNAL, "") or DEFAULT_ABSTAIN_SIGNAL,
            notebook_path=env.get(ENV_NOTEBOOK, ""),
            reply_timeout=_seconds(env.get(ENV_REPLY_TIMEOUT, ""), DEFAULT_REPLY_TIMEOUT),
        )

    @property
    def data_path(self) -> Path:
        """The data directory the runtime actually uses."""
        return Path(self.data_dir).expanduser() if self.data_dir else Path.home() / ".copilot"

    @property
    def uses_provider(self) -> bool:
        return bool(self.provider_url)

    def provider_config(self) -> dict[str, Any] | None:
        """The SDK's ``provider=`` argument, or ``None`` for GitHub Copilot itself."""
        if not self.provider_url:
            return None
        config: dict[str, Any] = {"type": self.provider_type, "base_url": self.provider_url}
        if self.provider_api_key:
            config["api_key"] = self.provider_api_key.reveal()
        return config

    def describe_model(self) -> str:
        """A one-line, secret-free description of the model in use."""
        model = self.model or "the default model"
        if self.provider_url:
            return f"{model} via {self.provider_type} provider at {self.provider_url}"
        return f"{model} via GitHub Copilot"
