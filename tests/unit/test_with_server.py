"""``copilot-magic serve --with-server CMD...`` with a fake runtime and small servers.

The fake runtime is a script that says it listens (as the real one does) and records its
pid and the names of its environment variables; the "servers" are short Python commands.
Each test runs the command as a subprocess (it installs signal handlers) and ends with no
fake runtime left running. The real runtime under a real JupyterHub is in
tests/e2e/test_jupyterhub_e2e.py.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from copilot_magic import cli
from copilot_magic.cli import _server_command
from copilot_magic.runtime.served import read_server_state, server_folder

REPO = Path(__file__).resolve().parents[2]
DEADLINE = 30.0


def _fake_runtime(folder: Path) -> Path:
    """A runtime that records its pid and environment, says it listens, and waits."""
    script = folder / "fake-runtime"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, time\n"
        f"open({str(folder / 'runtime.json')!r}, 'w').write("
        "json.dumps({'pid': os.getpid(), 'env': sorted(os.environ)}))\n"
        "print('CLI server listening on port 4321', flush=True)\n"
        "time.sleep(120)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)  # as a runtime would have made it: readable by all
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("COPILOT_")},
        "PYTHONPATH": str(REPO),
        "COPILOT_HOME": str(data_dir),
        "COPILOT_CLI_PATH": str(_fake_runtime(tmp_path)),
        "COPILOT_MAGIC_PROVIDER_API_KEY": "sk-fake-unit-key-never-shown-4711",
        "JUPYTERHUB_API_TOKEN": "hub-token-of-the-server",
    }


def _serve(env: dict[str, str], server: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "copilot_magic", "serve", "--with-server", "--"]
    return subprocess.Popen(
        [*command, sys.executable, "-c", server],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _runtime_pid(tmp_path: Path) -> int:
    return int(json.loads((tmp_path / "runtime.json").read_text())["pid"])


def _gone(pid: int) -> bool:
    try:
        psutil.Process(pid).wait(DEADLINE)
    except psutil.NoSuchProcess:
        return True
    except psutil.TimeoutExpired:
        return False
    return True


def test_everything_after_with_server_is_the_servers_command() -> None:
    argv = ["serve", "--port", "9", "--with-server", "--", "server", "--port", "1", "--", "x"]
    assert _server_command(argv) == (
        ["serve", "--port", "9", "--with-server"],
        ["server", "--port", "1", "--", "x"],
    )
    assert _server_command(["serve", "--with-server", "server", "--idle"]) == (
        ["serve", "--with-server"],
        ["server", "--idle"],
    )
    assert _server_command(["list", "--search", "--with-server"]) == (
        ["list", "--search", "--with-server"],
        None,
    )


def test_with_server_needs_a_command_and_goes_without_idle(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["serve", "--with-server"]) == 2
    assert capsys.readouterr().err == (
        "copilot-magic: error: --with-server needs the server's command after it.\n"
    )
    assert cli.main(["serve", "--idle", "5", "--with-server", "--", "server"]) == 2
    assert "--idle and --with-server go apart" in capsys.readouterr().err


def test_the_runtime_runs_while_the_server_does_and_stops_with_it(
    tmp_path: Path, env: dict[str, str]
) -> None:
    data_dir = Path(env["COPILOT_HOME"])
    # The server sees the data directory owner-only and the runtime's files, then exits 7.
    server = (
        "import json, os, stat, sys\n"
        f"folder = {str(server_folder(data_dir))!r}\n"
        "state = json.load(open(os.path.join(folder, 'server.json')))\n"
        f"mode = stat.S_IMODE(os.stat({str(data_dir)!r}).st_mode)\n"
        "print(json.dumps({'state': state, 'mode': mode, 'home': os.environ['COPILOT_HOME']}))\n"
        "sys.exit(7)\n"
    )
    serving = _serve(env, server)
    out, err = serving.communicate(timeout=DEADLINE)
    assert serving.returncode == 7, err
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == (
        f"Serving the Copilot runtime of {data_dir} at 127.0.0.1:4321 while the server runs."
    )
    seen = json.loads(lines[2])
    assert seen["mode"] == 0o700
    assert seen["home"] == str(data_dir)
    assert seen["state"]["address"] == "127.0.0.1:4321"
    assert seen["state"]["pid"] == _runtime_pid(tmp_path)
    assert lines[3] == f"{sys.executable} ended (exit status 7): the Copilot runtime stops with it."
    assert _gone(_runtime_pid(tmp_path))
    assert not (server_folder(data_dir) / "server.json").exists()
    assert not (server_folder(data_dir) / "token").exists()
    runtime_env = json.loads((tmp_path / "runtime.json").read_text())["env"]
    assert not [name for name in runtime_env if name.startswith(("COPILOT_MAGIC_", "JUPYTERHUB_"))]


def test_a_stop_signal_is_passed_to_the_server_and_the_runtime_stops_with_it(
    tmp_path: Path, env: dict[str, str]
) -> None:
    ready = tmp_path / "server-ready"
    server = (
        "import pathlib, signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *_: (print('stopping', flush=True), sys.exit(0)))\n"
        f"pathlib.Path({str(ready)!r}).touch()\n"
        "time.sleep(120)\n"
    )
    serving = _serve(env, server)
    deadline = time.monotonic() + DEADLINE
    while not ready.exists():
        assert serving.poll() is None, serving.communicate()
        assert time.monotonic() < deadline, "the server never started"
        time.sleep(0.05)
    runtime = _runtime_pid(tmp_path)
    assert psutil.pid_exists(runtime)
    serving.send_signal(signal.SIGTERM)
    out, err = serving.communicate(timeout=DEADLINE)
    assert (serving.returncode, err) == (0, "")
    assert "stopping" in out.splitlines()
    assert _gone(runtime)


def test_a_runtime_that_ends_while_the_server_runs_is_started_again(
    tmp_path: Path, env: dict[str, str]
) -> None:
    ready = tmp_path / "server-ready"
    server = f"import pathlib, time\npathlib.Path({str(ready)!r}).touch()\ntime.sleep(120)\n"
    serving = _serve(env, server)
    deadline = time.monotonic() + DEADLINE
    while not ready.exists():
        assert serving.poll() is None, serving.communicate()
        assert time.monotonic() < deadline, "the server never started"
        time.sleep(0.05)
    first = _runtime_pid(tmp_path)
    os.kill(first, signal.SIGKILL)
    data_dir = Path(env["COPILOT_HOME"])
    while (state := read_server_state(data_dir)) is None or state.pid in (first, 0):
        assert time.monotonic() < deadline, "the runtime was not started again"
        time.sleep(0.05)
    second = _runtime_pid(tmp_path)
    assert state.pid == second
    serving.send_signal(signal.SIGTERM)
    out, _ = serving.communicate(timeout=DEADLINE)
    assert "The Copilot runtime ended (exit status -9): starting it again." in out.splitlines()
    assert _gone(second)


def test_a_runtime_that_cannot_start_leaves_the_server_running(
    tmp_path: Path, env: dict[str, str]
) -> None:
    env["COPILOT_CLI_PATH"] = str(tmp_path / "no-such-runtime")
    serving = _serve(env, "print('the server runs')")
    out, err = serving.communicate(timeout=DEADLINE)
    assert serving.returncode == 0
    assert "the server runs" in out.splitlines()
    assert err == (
        f"copilot-magic: error: The Copilot runtime was not found at {tmp_path}/no-such-runtime"
        ", the cli_path setting: install it with `npm install @github/copilot`, or change the "
        "setting. Set it with the environment variable COPILOT_CLI_PATH. The server runs "
        "without a Copilot runtime of its own: its kernels start a shared runtime when they "
        "need one.\n"
    )


def test_a_server_that_cannot_be_run_is_one_line_and_no_runtime_is_left(
    tmp_path: Path, env: dict[str, str]
) -> None:
    serving = subprocess.run(
        [sys.executable, "-m", "copilot_magic", "serve", "--with-server", "no-such-server-cmd"],
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    assert serving.returncode == 127
    assert serving.stderr == (
        "copilot-magic: error: Could not run no-such-server-cmd: No such file or directory.\n"
    )
    assert _gone(_runtime_pid(tmp_path))
