"""Every setting of copilot_magic, declared once.

Each field of :class:`Settings` is declared with
:func:`~copilot_magic.values.setting`: its default,
its environment variable, its help and its check. Everything else is derived
from that one declaration: the ``CopilotMagics`` traits (``%config
CopilotMagics.model = "..."``) with their environment defaults and validation,
:meth:`Settings.from_environment` for the command line, the README's
configuration table (``make tables``) and ``copilot-magic doctor``.
Nothing here imports IPython.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, Field, dataclass, fields
from pathlib import Path
from typing import Any

from copilot_magic.errors import InvalidSetting
from copilot_magic.values import (
    Declaration,
    Secret,
    above_zero,
    at_least,
    display_rate,
    http_url,
    kind_words,
    notebook_file,
    parse_text,
    runtime_choice,
    setting,
)

DEFAULT_ABSTAIN_SIGNAL = "[[POR_ABSTAIN]]"
PROVIDER_TYPES = ("openai", "azure", "anthropic")
RUN_CODE_CHOICES = ("ask", "never")  # there is no setting that runs code without asking
NOTEBOOK_EDITS_CHOICES = ("ask", "apply", "off")
# Seconds a reply may go without any sign from the runtime before it is stopped.
# A hung model server gets no answer from the runtime for 10 minutes, then 5 retries.
DEFAULT_REPLY_TIMEOUT = 120.0

ENV_MODEL = "COPILOT_MAGIC_MODEL"
ENV_PROVIDER_URL = "COPILOT_MAGIC_PROVIDER_URL"
ENV_DATA_DIR = "COPILOT_HOME"  # the runtime's own variable
ENV_CLI_PATH = "COPILOT_CLI_PATH"  # the SDK's own variable
ENV_NOTEBOOK = "COPILOT_MAGIC_NOTEBOOK"
RUNTIME_OWN = "own"
RUNTIME_SHARED = "shared"
DEFAULT_RUNTIME_IDLE = 1800.0  # seconds a shared runtime waits for a kernel before it stops

# GitHub tokens the runtime reads; never shown, never sent to the model.
TOKEN_VARIABLES = ("GH_TOKEN", "GITHUB_TOKEN", "COPILOT_GITHUB_TOKEN")


# -- the declaration ----------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Everything needed to reach the runtime and a model, and how replies behave.

    ``data_dir`` empty means the runtime's default (``~/.copilot``); ``cli_path``
    empty means the runtime the SDK installs. ``provider_url`` set means BYOK:
    the runtime talks to that OpenAI-compatible, Azure or Anthropic endpoint
    instead of GitHub Copilot.
    """

    model: str = setting(
        "",
        env=ENV_MODEL,
        help="Model for sessions (empty: the runtime's default). A change applies to the "
        "active session from its next turn.",
    )
    provider_url: str = setting(
        "",
        env=ENV_PROVIDER_URL,
        help="Base URL of your own model provider (BYOK), e.g. http://localhost:11434/v1 "
        "for Ollama. Empty: GitHub Copilot.",
        check=http_url,
    )
    provider_type: str = setting(
        "openai",
        env="COPILOT_MAGIC_PROVIDER_TYPE",
        help="Kind of provider_url: openai (any OpenAI-compatible server), azure or anthropic.",
        choices=PROVIDER_TYPES,
    )
    provider_api_key: Secret = setting(
        Secret(""),
        env="COPILOT_MAGIC_PROVIDER_API_KEY",
        help="API key for provider_url; never shown, logged or stored.",
    )
    data_dir: str = setting(
        "",
        env=ENV_DATA_DIR,
        help="Where sessions are stored (empty: the runtime's default, ~/.copilot).",
    )
    cli_path: str = setting(
        "",
        env=ENV_CLI_PATH,
        help="The Copilot runtime binary (empty: the one the SDK installs).",
    )
    runtime: str = setting(
        RUNTIME_SHARED,
        env="COPILOT_MAGIC_RUNTIME",
        help="shared: one runtime for all your kernels on this data directory, started by the "
        "first that needs it; own: this kernel starts a runtime of its own; HOST:PORT: the "
        "runtime that `copilot-magic serve` runs there.",
        check=runtime_choice,
    )
    runtime_token: Secret = setting(
        Secret(""),
        env="COPILOT_MAGIC_RUNTIME_TOKEN",
        help="Token of the runtime at HOST:PORT (empty: read from the token file `copilot-magic "
        "serve` writes in the data directory); never shown.",
    )
    runtime_idle: float = setting(
        DEFAULT_RUNTIME_IDLE,
        env="COPILOT_MAGIC_RUNTIME_IDLE",
        help="Seconds the shared runtime keeps running with no kernel attached before it stops "
        "(read when a kernel starts it; the next kernel that needs one starts it again).",
        check=above_zero,
    )
    abstain_signal: str = setting(
        DEFAULT_ABSTAIN_SIGNAL,
        env="COPILOT_MAGIC_ABSTAIN_SIGNAL",
        help="Text that marks a reply as an abstention (empty: none is marked).",
    )
    notebook_path: str = setting(
        "",
        env=ENV_NOTEBOOK,
        help="The notebook this kernel runs, when Jupyter or VS Code do not say it "
        "(it ties the notebook to its conversation).",
        check=notebook_file,
    )
    reply_timeout: float = setting(
        DEFAULT_REPLY_TIMEOUT,
        env="COPILOT_MAGIC_REPLY_TIMEOUT",
        help="Seconds a reply may go without any sign from Copilot before it is stopped "
        "with an error (a hung model server otherwise stalls the cell for many minutes).",
        check=above_zero,
    )
    updates_per_second: float = setting(
        10.0,
        env="COPILOT_MAGIC_UPDATES_PER_SECOND",
        help="Most display updates a second while a reply streams.",
        check=display_rate,
    )
    kernel_tools: bool = setting(
        True,
        env="COPILOT_MAGIC_KERNEL_TOOLS",
        help="Let Copilot look at the kernel's variables, cells and last error while it "
        "replies (read-only; each look is a line in the cell), and offer run_code.",
    )
    run_code: str = setting(
        "ask",
        env="COPILOT_MAGIC_RUN_CODE",
        help="ask: Copilot may ask to run Python in the kernel, shown and run only on your y; "
        "never: it may not.",
        choices=RUN_CODE_CHOICES,
    )
    notebook_edits: str = setting(
        "ask",
        env="COPILOT_MAGIC_NOTEBOOK_EDITS",
        help="ask: in JupyterLab and Notebook 7 with copilot_magic's extension, Copilot may "
        "read the notebook's cells and propose edits, new cells and deletions, each shown as "
        "a diff on its cell and made only when you accept (and ask to run a cell, while "
        "run_code is ask); apply: edits and new cells are made at once and shown as a diff "
        "with Undo (deletions and runs still ask); off: it may not.",
        choices=NOTEBOOK_EDITS_CHOICES,
    )
    context_limit: int = setting(
        4000,
        env="COPILOT_MAGIC_CONTEXT_LIMIT",
        help="Most characters of each description ({df}, {Out[3]}, --error) or tool result.",
        check=at_least(200),
    )
    verbose_errors: bool = setting(
        False,
        env="COPILOT_MAGIC_VERBOSE_ERRORS",
        help="Show the traceback of the environment's failures too (the runtime, the model, "
        "the disk), not only their one line: for a report.",
    )

    def __post_init__(self) -> None:
        for name, value in self.items():
            if kind_of(name) is Secret and isinstance(value, str):  # a key given as text
                object.__setattr__(self, name, Secret(value))
                continue
            problem = check_value(name, value)
            if problem:
                raise InvalidSetting(problem)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings read from the environment variables (an empty variable is unset).

        Raises :class:`~copilot_magic.errors.InvalidSetting` naming the variable
        when a value cannot be used.
        """
        env = os.environ if environ is None else environ
        return cls(**{name: environment_value(name, env) for name in setting_names()})

    def items(self) -> Iterator[tuple[str, Any]]:
        for name in setting_names():
            yield name, getattr(self, name)

    @property
    def data_path(self) -> Path:
        """The data directory the runtime actually uses."""
        return Path(self.data_dir).expanduser() if self.data_dir else Path.home() / ".copilot"

    @property
    def notebook_tools_on(self) -> bool:
        """Whether the notebook tools may be offered (where a notebook frontend answers)."""
        return self.kernel_tools and self.notebook_edits != "off"

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

    def secrets(self, environ: Mapping[str, str] | None = None) -> list[str]:
        """The values no output may show and the model never sees: every secret setting (the
        provider key) and the GitHub tokens."""
        env = os.environ if environ is None else environ
        held = [value.reveal() for _, value in self.items() if isinstance(value, Secret)]
        values = [*held, *(env.get(name, "") for name in TOKEN_VARIABLES)]
        return [value for value in values if value]


# -- what is derived from the declaration --------------------------------------------


def _fields() -> tuple[Field[Any], ...]:
    return fields(Settings)


def setting_names() -> tuple[str, ...]:
    return tuple(f.name for f in _fields())


def declaration(name: str) -> Declaration:
    (found,) = (f for f in _fields() if f.name == name)
    declared: Declaration = found.metadata["declaration"]
    return declared


def default_of(name: str) -> Any:
    (found,) = (f for f in _fields() if f.name == name)
    assert found.default is not MISSING
    return found.default


def kind_of(name: str) -> type:
    """The Python type of a setting's values: str, int, float, bool or Secret."""
    return type(default_of(name))


def environment_variables() -> tuple[str, ...]:
    """Every environment variable a setting is read from."""
    return tuple(declaration(name).env for name in setting_names())


def check_value(name: str, value: object) -> str:
    """``""`` if ``value`` suits the setting, else a sentence that says what would."""
    kind = kind_of(name)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        shown = f"a {type(value).__name__}" if kind is Secret else repr(value)  # never the key
        return f"{name} must be {kind_words(kind)}, not {shown}."
    check = declaration(name).check
    wanted = check(value) if check else ""
    return f"{name} must be {wanted}, not {value!r}." if wanted else ""


def environment_value(name: str, environ: Mapping[str, str]) -> Any:
    """The setting's value from ``environ``: its default when the variable is unset or empty.

    Raises :class:`~copilot_magic.errors.InvalidSetting` naming the variable.
    """
    declared = declaration(name)
    text = environ.get(declared.env, "")
    if not text:
        return default_of(name)
    shown = "********" if kind_of(name) is Secret else repr(text)
    try:
        value = parse_text(kind_of(name), text)
    except ValueError as error:
        raise InvalidSetting(f"{declared.env}={shown} must be {error}.") from None
    problem = check_value(name, value)
    if problem:
        raise InvalidSetting(f"{declared.env}={shown}: {problem}")
    return value
