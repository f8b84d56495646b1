"""End-to-end fixtures: the real Copilot runtime, the echo model, real kernels.

The runtime is the one the Makefile installs from npm (or ``COPILOT_CLI_PATH``).
Without it these tests fail; they are never skipped. Each test gets its own
data directory, so tests cannot see each other's sessions.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import output_log
import pytest
from runtime_support import (
    MODES,
    find_runtime,
    in_runtime_mode,
    kernel_environment,
    settings_for_tests,
)
from secrets_scan import fake_github_env, remember_runtime_token

from copilot_magic import cli
from copilot_magic.sessions.store import SessionStore
from copilot_magic.testing.echo_model import EchoModelServer

from .cli_runner import FAKE_KEY, Ran, runtimes_here, shared_runtime_family, stray_runtimes
from .kernels import Kernel

pytestmark = pytest.mark.e2e


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked ``both_runtimes`` (the runtime mode changes what it proves) runs in each
    mode: ``[shared]`` (the default, as people get it) and ``[own]`` (a runtime per kernel)."""
    if metafunc.definition.get_closest_marker("both_runtimes") is not None:
        metafunc.parametrize("runtime_mode", MODES, indirect=True)


@pytest.fixture(autouse=True)
def runtime_mode(request: pytest.FixtureRequest) -> Iterator[str]:
    """The test's runtime mode (shared, unless it runs in both), for its kernels, commands and
    stores; set before any other fixture of the test's starts one."""
    mode = str(getattr(request, "param", MODES[0]))
    with in_runtime_mode(mode):
        yield mode


@pytest.fixture(scope="session")
def runtime_path() -> str:
    return find_runtime()


@pytest.fixture(scope="session")
def echo_model() -> Iterator[EchoModelServer]:
    with EchoModelServer() as server:
        yield server


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """The test's data directory, owner-only as copilot_magic makes one. At its end, the
    token of the runtime serving it (its kernels have ended; a shared runtime serves it a few
    seconds more) joins the scan."""
    path = tmp_path / "copilot-home"
    path.mkdir(mode=0o700)
    yield path
    remember_runtime_token(path)


@pytest.fixture
def kernel_env(
    runtime_path: str, echo_model: EchoModelServer, data_dir: Path, isolated_home: Path
) -> dict[str, str]:
    """The environment of a kernel that uses the runtime, the echo model and ``data_dir``."""
    env = kernel_environment(
        home=isolated_home,
        data_dir=data_dir,
        runtime=runtime_path,
        provider_url=echo_model.url,
        provider_key="sk-e2e-test-key-0123456789",
    )
    env.update(fake_github_env())  # the run's recognisable fake token, never a real one
    return env


@pytest.fixture
def start_kernel(kernel_with: Callable[..., Kernel]) -> Callable[[], Kernel]:
    """Start real kernels (each a fresh process) sharing this test's data directory."""
    return kernel_with


@pytest.fixture
def open_store(
    runtime_path: str, echo_model: EchoModelServer, data_dir: Path
) -> Iterator[Callable[[], SessionStore]]:
    """Open SessionStores in this process, each with its own client, on ``data_dir``."""
    stores: list[SessionStore] = []
    settings = settings_for_tests(
        model="echo", provider_url=echo_model.url, data_dir=str(data_dir), cli_path=runtime_path
    )

    def open_one() -> SessionStore:
        store = SessionStore(settings)
        stores.append(store)
        return store

    yield open_one
    for store in stores:
        store.close()


@pytest.fixture
def cli_env(kernel_env: dict[str, str]) -> dict[str, str]:
    return {**kernel_env, "COPILOT_MAGIC_PROVIDER_API_KEY": FAKE_KEY}


def _recorded_and_checked(command: list[str], ran: Ran, runtime_path: str, data_dir: Path) -> Ran:
    """Record what a command printed; it must show no key and no traceback, and leave no
    runtime of its own on ``data_dir``."""
    output_log.record_command(command, ran.status, ran.out, ran.err)
    assert FAKE_KEY not in ran.out + ran.err
    assert "Traceback" not in ran.err, ran.err
    assert stray_runtimes(runtime_path, data_dir) == [], "a runtime was left running"
    return ran


@pytest.fixture
def run_cli(
    cli_env: dict[str, str], runtime_path: str, data_dir: Path, tmp_path: Path
) -> Callable[..., Ran]:
    """Run ``python -m copilot_magic ARGS`` without a terminal, with ``cli_env`` plus ``env``."""

    def run(*args: str, env: dict[str, str] | None = None) -> Ran:
        done = subprocess.run(
            [sys.executable, "-m", "copilot_magic", *args],
            env={**cli_env, **(env or {})},
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        return _recorded_and_checked(
            done.args, Ran(done.returncode, done.stdout, done.stderr), runtime_path, data_dir
        )

    return run


@pytest.fixture
def run_here(
    *,
    cli_env: dict[str, str],
    runtime_path: str,
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., Ran]:
    """``copilot-magic ARGS`` in this process (``cli.main``), with ``cli_env`` plus ``env``
    as its whole Copilot environment, in ``tmp_path`` and without a terminal (stdin empty);
    like ``run_cli`` it leaves no runtime running but the shared one. For what the command
    prints and leaves on disk; ``run_cli`` where the separate process is the point."""

    def run(*args: str, env: dict[str, str] | None = None) -> Ran:
        given = {**cli_env, **(env or {})}
        with monkeypatch.context() as patch:
            for name in os.environ:
                if name.startswith(("COPILOT_", "GH_", "GITHUB_")) and name not in given:
                    patch.delenv(name)
            for name, value in given.items():
                patch.setenv(name, value)
            patch.chdir(tmp_path)
            patch.setattr(sys, "stdin", io.StringIO())  # no terminal to ask on, even under -s
            before = runtimes_here(runtime_path)
            capsys.readouterr()
            status = cli.main(list(args))
            done = capsys.readouterr()
        ran = _recorded_and_checked(
            ["copilot_magic.cli.main", *args],
            Ran(status, done.out, done.err),
            runtime_path,
            data_dir,
        )
        # only the shared runtime (it stops once idle) may outlive a command
        assert runtimes_here(runtime_path) - before <= shared_runtime_family(data_dir), (
            "a runtime was left"
        )
        return ran

    return run


@pytest.fixture
def kernel_with(kernel_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Kernel]]:
    """Start a kernel with some environment variables changed (None removes one)."""
    kernels: list[Kernel] = []

    def start(**changes: str | None) -> Kernel:
        env = dict(kernel_env)
        for name, value in changes.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        kernel = Kernel(env, cwd=str(tmp_path))
        kernels.append(kernel)
        assert kernel.execute("%load_ext copilot_magic").error is None
        return kernel

    yield start
    for kernel in kernels:
        kernel.shutdown()
