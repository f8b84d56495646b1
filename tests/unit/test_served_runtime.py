"""The ``runtime`` setting, the files of ``copilot-magic serve`` and the kernels attached to it
(a listening socket stands in for the served runtime: only whether something accepts
connections is asked of it; ended processes stand in for killed kernels)."""

from __future__ import annotations

import ipaddress
import os
import pwd
import secrets
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot_magic.config import Settings
from copilot_magic.errors import InvalidSetting, RuntimeNotYours, RuntimeUnavailable
from copilot_magic.runtime import listeners
from copilot_magic.runtime.listeners import TcpSocket
from copilot_magic.runtime.served import (
    ServedRuntime,
    ServerState,
    attach,
    attached_kernels,
    read_server_state,
    read_token,
    remove_server_files,
    server_folder,
    write_server_files,
)
from copilot_magic.runtime.shared import SERVING, forget_stale, running_shared, shared_runtime

TOKEN = secrets.token_urlsafe(32)  # a token as the runtime is given one


@pytest.fixture
def listening() -> Iterator[str]:
    """The address of a fake served runtime: a socket that accepts connections."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield f"127.0.0.1:{server.getsockname()[1]}"


@pytest.mark.parametrize("value", ["shared", "own", "127.0.0.1:4321", "localhost:1", "[::1]:65535"])
def test_the_runtime_setting_takes_shared_own_or_an_address(value: str) -> None:
    assert Settings(runtime=value).runtime == value


@pytest.mark.parametrize("value", ["", "shared-ish", "127.0.0.1", "host:0", "host:70000", "a b:1"])
def test_any_other_runtime_value_is_refused_in_one_line(value: str) -> None:
    with pytest.raises(InvalidSetting) as refused:
        Settings(runtime=value)
    assert str(refused.value) == (
        "runtime must be shared (one runtime for all your kernels), own (a runtime of this "
        "kernel's own) or HOST:PORT of one `copilot-magic serve` runs, not "
        f"{value!r}."
    )


def test_the_token_file_is_the_owners_alone_and_goes_with_its_server(tmp_path: Path) -> None:
    state = ServerState.of("127.0.0.1:4321", os.getpid())
    token_file = write_server_files(tmp_path, state, "the-token")
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert read_server_state(tmp_path) == state
    remove_server_files(tmp_path, ServerState("127.0.0.1:9999", 1, 0.0))  # another server's: kept
    assert token_file.exists()
    remove_server_files(tmp_path, state)
    assert list(server_folder(tmp_path).iterdir()) == []


def test_a_kernel_on_the_servers_data_directory_reads_its_token(
    tmp_path: Path, listening: str
) -> None:
    write_server_files(tmp_path, ServerState.of(listening, os.getpid()), TOKEN)
    assert ServerState.of(listening, os.getpid()).serves_here()
    assert ServedRuntime.find(listening, "", tmp_path).token == TOKEN
    assert ServedRuntime.find(listening, "given", tmp_path).token == "given"


def test_no_token_for_a_server_of_another_data_directory_is_one_line(
    tmp_path: Path, listening: str
) -> None:
    with pytest.raises(RuntimeUnavailable) as refused:
        ServedRuntime.find(listening, "", tmp_path)
    assert str(refused.value).startswith(f"No token for the Copilot runtime at {listening}: set")


def test_nothing_listening_is_one_line_before_any_token_is_looked_for(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"  # bound, never listening
        with pytest.raises(RuntimeUnavailable) as refused:
            ServedRuntime.find(address, "a-token", tmp_path)
    assert str(refused.value) == (
        f"No Copilot runtime answers at {address}: start it with `copilot-magic serve`, "
        "or set the runtime setting to shared or own."
    )


def test_a_served_runtime_whose_process_is_gone_has_ended(listening: str) -> None:
    assert ServedRuntime(listening, "t", os.getpid()).exit_code() is None
    assert ServedRuntime(listening, "t", 0).exit_code() is None  # asked through its port
    assert ServedRuntime("127.0.0.1:1", "t", 0).exit_code() == 1
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    assert ServedRuntime(listening, "t", ended.pid).exit_code() == 1  # its port aside


def _ended_pid() -> int:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    return ended.pid


def test_a_state_file_names_a_running_server_only_while_that_process_runs() -> None:
    assert ServerState.of("127.0.0.1:1", os.getpid()).running()
    assert not ServerState("127.0.0.1:1", _ended_pid(), 0.0).running()
    started = ServerState.of("127.0.0.1:1", os.getpid()).started
    reused = ServerState("127.0.0.1:1", os.getpid(), started - 3600.0)  # an older process's
    assert not reused.running(), "a reused pid was taken for the server"
    assert not ServerState("127.0.0.1:1", 0, 0.0).running()


def test_attached_kernels_count_live_processes_only_and_forget_the_rest(tmp_path: Path) -> None:
    mine = attach(tmp_path)
    kernels = mine.parent
    (kernels / f"{_ended_pid()}-ended").write_text("1.0")
    (kernels / f"{os.getpid()}-reused").write_text("1.0")  # this pid, another start time
    (kernels / "not-a-kernel").write_text("x")
    assert attached_kernels(tmp_path) == 1
    assert sorted(p.name for p in kernels.iterdir()) == sorted([mine.name, "not-a-kernel"])
    served = ServedRuntime("127.0.0.1:1", "t", attachment=mine)
    served.stop()
    assert not mine.exists()
    assert attached_kernels(tmp_path) == 0
    served.stop()  # twice is harmless


def test_a_killed_kernel_not_yet_reaped_no_longer_counts(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); "
            "from copilot_magic.runtime.served import attach; from pathlib import Path; "
            "print(attach(Path(sys.argv[2])), flush=True); input()",
            str(Path(__file__).resolve().parents[2]),
            str(tmp_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    child.stdout.readline()
    assert attached_kernels(tmp_path) == 1
    child.kill()
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # dead, still a zombie
    assert attached_kernels(tmp_path) == 0
    child.wait()


def _no_runtime() -> str:
    raise AssertionError("no runtime may be started here")


def test_a_shared_runtime_running_another_program_is_refused_in_one_line(
    tmp_path: Path, listening: str
) -> None:
    state = ServerState.of(listening, os.getpid(), "/opt/copilot-a/copilot")
    write_server_files(tmp_path, state, TOKEN)
    with pytest.raises(RuntimeUnavailable) as refused:
        shared_runtime(tmp_path, _no_runtime, 60.0, chosen="/opt/copilot-b/copilot")
    assert str(refused.value).startswith(
        f"The shared Copilot runtime of {tmp_path} runs /opt/copilot-a/copilot, not "
        "/opt/copilot-b/copilot (the cli_path setting): stop the shared runtime (kill "
    )
    found = shared_runtime(tmp_path, _no_runtime, 60.0, chosen="/opt/copilot-a/copilot")
    assert found is not None
    assert found.address == listening
    assert attached_kernels(tmp_path) == 1


def test_a_shared_runtime_that_runs_and_never_answers_is_one_line_not_a_second_runtime(
    tmp_path: Path,
) -> None:
    with socket.socket() as bound:  # bound, never listening: nothing accepts there
        bound.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{bound.getsockname()[1]}"
        write_server_files(tmp_path, ServerState.of(address, os.getpid()), "t")
        with pytest.raises(RuntimeUnavailable) as silent:
            running_shared(tmp_path, wait=0.3)
    assert str(silent.value).startswith(
        f"The shared Copilot runtime of {tmp_path} (pid {os.getpid()}) runs but does not answer"
    )


def test_a_data_directory_that_cannot_hold_the_runtime_folder_has_no_shared_runtime(
    tmp_path: Path,
) -> None:
    (tmp_path / "a-file").write_text("")  # the tests run as root too: no mode stops a write
    assert shared_runtime(tmp_path / "a-file" / "data", _no_runtime, 60.0) is None


@pytest.mark.parametrize(
    "content",
    [None, b"", b"\n", TOKEN[:20].encode(), b"\xff\xfe\x00garbled", (TOKEN + " x").encode()],
    ids=["missing", "empty", "blank", "cut short", "garbled", "with more"],
)
def test_a_damaged_token_file_reads_as_no_token(tmp_path: Path, content: bytes | None) -> None:
    token_file = write_server_files(tmp_path, ServerState.of("127.0.0.1:1", os.getpid()), TOKEN)
    assert read_token(tmp_path) == TOKEN
    if content is None:
        token_file.unlink()
    else:
        token_file.write_bytes(content)
    assert read_token(tmp_path) == ""


@pytest.mark.parametrize("damage", ["token missing", "token garbled", "server.json cut short"])
def test_damaged_state_files_name_no_running_shared_runtime(
    tmp_path: Path, listening: str, damage: str
) -> None:
    write_server_files(tmp_path, ServerState.of(listening, os.getpid()), TOKEN)
    assert running_shared(tmp_path) is not None
    folder = server_folder(tmp_path)
    if damage == "token missing":
        (folder / "token").unlink()
    elif damage == "token garbled":
        (folder / "token").write_bytes(b"\x00\xff" * 30)
    else:
        (folder / "server.json").write_text((folder / "server.json").read_text()[:25])
    assert running_shared(tmp_path) is None
    assert shared_runtime(tmp_path, _no_runtime, 60.0, start=False) is None


def _squatted(monkeypatch: pytest.MonkeyPatch, address: str) -> str:
    """``/proc/net/tcp`` as it reads while another user listens at ``address``; their name."""
    other = next(u for u in pwd.getpwall() if u.pw_uid != os.geteuid() and u.pw_name)
    host, _, port = address.rpartition(":")
    any_address = ipaddress.ip_address("0.0.0.0")
    squatter = TcpSocket(
        (ipaddress.ip_address(host), int(port)), (any_address, 0), 0x0A, other.pw_uid
    )
    monkeypatch.setattr(listeners, "system_sockets", lambda: [squatter])
    return other.pw_name


def _nobody_connected(server: socket.socket) -> bool:
    server.setblocking(False)
    try:
        server.accept()[0].close()
    except BlockingIOError:
        return True
    return False


def test_another_users_port_gets_no_connection_and_no_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        address = f"127.0.0.1:{squatter.getsockname()[1]}"
        name = _squatted(monkeypatch, address)
        write_server_files(tmp_path, ServerState.of(address, os.getpid()), TOKEN)
        assert running_shared(tmp_path) is None  # stale: the port is not the runtime's
        assert not ServerState.of(address, os.getpid()).serves_here()  # serve may start
        for given in (TOKEN, ""):
            with pytest.raises(RuntimeNotYours) as refused:
                ServedRuntime.find(address, given, tmp_path)
            assert str(refused.value).startswith(
                f"The port {address} belongs to another user, {name} (uid "
            )
        assert _nobody_connected(squatter)


def test_the_token_file_is_read_only_while_its_process_runs_and_holds_the_port(
    tmp_path: Path, listening: str
) -> None:
    write_server_files(tmp_path, ServerState(listening, _ended_pid(), 0.0), TOKEN)
    with pytest.raises(RuntimeUnavailable) as refused:
        ServedRuntime.find(listening, "", tmp_path)
    assert str(refused.value).startswith(f"No token for the Copilot runtime at {listening}")
    other = subprocess.Popen([sys.executable, "-c", "input()"], stdin=subprocess.PIPE)
    try:  # a process of this user's that runs, and does not hold the port
        write_server_files(tmp_path, ServerState.of(listening, other.pid), TOKEN)
        with pytest.raises(RuntimeUnavailable):
            ServedRuntime.find(listening, "", tmp_path)
        assert running_shared(tmp_path) is None
    finally:
        other.kill()
        other.wait()


def test_a_new_shared_runtime_first_stops_the_servers_no_state_file_names(
    tmp_path: Path,
) -> None:
    folder = server_folder(tmp_path)
    folder.mkdir(parents=True)
    write_server_files(tmp_path, ServerState("127.0.0.1:1", _ended_pid(), 0.0), TOKEN)
    orphan = subprocess.Popen(  # stands for `python -m copilot_magic.runtime.serving` there
        [sys.executable, "-c", "input()", SERVING],
        stdin=subprocess.PIPE,
        cwd=folder,
    )
    elsewhere = subprocess.Popen(
        [sys.executable, "-c", "input()", SERVING],
        stdin=subprocess.PIPE,
        cwd=tmp_path,
    )
    try:
        forget_stale(tmp_path)
        assert orphan.wait(timeout=30) == -signal.SIGTERM
        assert elsewhere.poll() is None, "a server of another folder was stopped"
        assert not (folder / "server.json").exists()
        assert not (folder / "token").exists()
    finally:
        for process in (orphan, elsewhere):
            process.kill()
            process.wait()


def test_the_serve_loop_runs_without_the_command_line_and_fails_in_one_line(
    tmp_path: Path,
) -> None:
    """What a kernel starts for the shared runtime: the runtime's own serve loop, which says
    a failure as the ``copilot-magic: error:`` line the kernel reads, and builds no store."""
    env = {**os.environ, "COPILOT_HOME": str(tmp_path), "COPILOT_CLI_PATH": "/nonexistent/x"}
    probe = (
        "import sys; from copilot_magic.runtime.serving import main; code = main(['--idle', '1'])"
        "; sys.exit(100 + code if 'copilot_magic.sessions.store' in sys.modules else code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], check=False, env=env, capture_output=True, text=True
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("copilot-magic: error: ")
    assert "/nonexistent/x" in done.stderr
    assert done.stderr.count("\n") == 1
    assert SERVING == "copilot_magic.runtime.serving"
