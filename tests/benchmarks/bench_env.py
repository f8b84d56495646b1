"""What every benchmark uses: the real runtime, the echo model, kernels, data directories.

Each figure gets a data directory of its own under one temporary root, so
that sessions made for one figure never weigh on another.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from e2e.kernels import CellResult, Kernel
from runtime_support import kernel_environment

from copilot_magic.config import Secret, Settings
from copilot_magic.sessions.store import SessionStore
from copilot_magic.testing.echo_model import EchoModelServer

PROVIDER_KEY = "sk-bench-key"  # the echo model ignores it; a provider needs one


@dataclass
class TimedCell:
    """A cell run in a kernel, timed by the kernel's own message stamps."""

    result: CellResult
    messages: list[dict[str, Any]]

    def stamp(self, message: dict[str, Any]) -> float:
        """When the kernel sent ``message`` (its header's date), in seconds."""
        date = message["header"]["date"]
        if isinstance(date, str):
            date = datetime.fromisoformat(date)
        return float(date.timestamp())

    def _first(self, kind: str, state: str = "") -> dict[str, Any]:
        for message in self.messages:
            if message["msg_type"] == kind and (
                not state or message["content"].get("execution_state") == state
            ):
                return message
        raise LookupError(f"no {kind} message in the cell")

    @property
    def started(self) -> float:
        """When the kernel began the cell (its ``execute_input`` message)."""
        return self.stamp(self._first("execute_input"))

    @property
    def seconds(self) -> float:
        """From the start of the cell to the kernel being idle again."""
        return self.stamp(self._first("status", "idle")) - self.started

    def first_display_with(self, text: str) -> float:
        """Seconds from the start to the first display (or update) that shows ``text``."""
        for message in self.messages:
            shown = message["content"].get("data", {}).get("text/plain", "")
            if message["msg_type"] in ("display_data", "update_display_data") and text in shown:
                return self.stamp(message) - self.started
        raise LookupError(f"no display showed {text!r}")


class BenchKernel:
    """A real kernel whose cells are timed; failing cells stop the benchmark."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.kernel = Kernel(env, cwd=str(cwd))

    def run(self, code: str, timeout: float = 600) -> TimedCell:
        messages: list[dict[str, Any]] = []
        result = self.kernel.collect(self.kernel.send(code), timeout, on_message=messages.append)
        if result.error is not None:
            raise RuntimeError(f"benchmark cell failed: {result.error_line}\n{code[:300]}")
        return TimedCell(result, messages)

    @property
    def pid(self) -> int:
        return self.kernel.pid

    def shutdown(self) -> None:
        self.kernel.shutdown()


@dataclass
class Bench:
    """The runtime, the echo model and a temporary root for data directories."""

    runtime: str
    echo: EchoModelServer
    quick: bool
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="copilot-bench-")))
    _kernels: list[BenchKernel] = field(default_factory=list)
    _stores: list[SessionStore] = field(default_factory=list)

    def data_dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def provider(self) -> dict[str, str]:
        return {"type": "openai", "base_url": self.echo.url, "api_key": PROVIDER_KEY}

    def kernel_env(self, data_dir: Path) -> dict[str, str]:
        home = self.root / "home"
        home.mkdir(exist_ok=True)
        return kernel_environment(
            home=home,
            data_dir=data_dir,
            runtime=self.runtime,
            provider_url=self.echo.url,
            provider_key=PROVIDER_KEY,
        )

    def kernel(self, data_dir: Path, env: dict[str, str] | None = None) -> BenchKernel:
        """A kernel on ``data_dir``, with ``env`` changing its environment."""
        kernel = BenchKernel({**self.kernel_env(data_dir), **(env or {})}, cwd=self.root)
        self._kernels.append(kernel)
        return kernel

    def store(self, data_dir: Path) -> SessionStore:
        """A SessionStore in this process, with its own runtime, on ``data_dir``."""
        settings = Settings(
            runtime="own",
            model="echo",
            provider_url=self.echo.url,
            provider_api_key=Secret(PROVIDER_KEY),
            data_dir=str(data_dir),
            cli_path=self.runtime,
        )
        store = SessionStore(settings)
        self._stores.append(store)
        return store

    def close(self) -> None:
        for kernel in self._kernels:
            kernel.shutdown()
        for store in self._stores:
            store.close()
        shutil.rmtree(self.root, ignore_errors=True)
