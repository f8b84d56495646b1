"""The README's JupyterHub set-up, on a real JupyterHub with two people on one host.

A real ``jupyterhub`` (LocalProcessSpawner, behind configurable-http-proxy) runs as root
with the README's recommended configuration: ``Spawner.cmd`` is ``copilot-magic serve
--with-server -- jupyterhub-singleuser``, one central runtime (``COPILOT_CLI_PATH``, its
package unpacked once, read-only for the users), the echo model as everybody's provider
and a provider key per person through ``Spawner.environment``. Two Unix users, created by
the test, each get a single-user server running as themselves; the test drives their
kernels through the hub's proxy (REST API and kernel websocket), as a browser would.

It checks what the issue found broken: both people converse at once, each on a runtime of
their own on a free port; each resumes their conversation after their server is stopped
and started again; neither can read the other's data directory; a listener of one on the
other's recorded port receives no token, key or prompt; and nothing of a stopped server
(its ``serve``, its runtime, its kernels) is left after a few seconds. It writes what one
person costs (the runtime's and a kernel's memory) to artifacts/jupyterhub/cost.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from other_user import as_user, let_through, open_parent, unix_user
from runtime_support import REPO
from secrets_scan import remember_runtime_token

from copilot_magic.runtime.served import server_folder
from copilot_magic.testing.echo_model import EchoModelServer

from .cells import SLOW_REPLY, copilot_cell, reply_of
from .hub import Hub, HubConfig, HubKernel, find_proxy

pytestmark = pytest.mark.slow  # on the shared runtime, the default, as people get it

ADA, BOB = "cm-hub-ada", "cm-hub-bob"
KEYS = {ADA: "sk-hub-ada-key-0123456789", BOB: "sk-hub-bob-key-0123456789"}
QUESTIONS = {ADA: "ada asks about tides", BOB: "bob asks about bread"}
LEFT_WAIT = 20.0  # seconds a stopped server's processes have to be gone
VENV_BIN = Path(sys.executable).parent
COST = REPO / "artifacts" / "jupyterhub" / "cost.md"
MB = 1e6

# A listener of one person on another's port: it records what it receives, hex-encoded.
SQUATTER = """\
import socket, sys, threading, time
port = int(sys.argv[1])
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
deadline = time.monotonic() + 20
while True:
    try:
        server.bind(("127.0.0.1", port))
        break
    except OSError:
        if time.monotonic() > deadline:
            print("taken", flush=True)
            sys.exit(3)
        time.sleep(0.05)
server.listen()
print("listening", flush=True)

def take(connection):
    while data := connection.recv(65536):
        print(data.hex(), flush=True)

while True:
    connection, _ = server.accept()
    print("connection", flush=True)
    threading.Thread(target=take, args=(connection,), daemon=True).start()
"""


@dataclass
class Person:
    user: pwd.struct_passwd

    @property
    def name(self) -> str:
        return self.user.pw_name

    @property
    def data_dir(self) -> Path:
        return Path(self.user.pw_dir) / ".copilot"

    def state(self) -> dict[str, object]:
        """What the person's server.json says (read as root)."""
        return dict(json.loads((server_folder(self.data_dir) / "server.json").read_text()))

    def token(self) -> str:
        return (server_folder(self.data_dir) / "token").read_text().strip()

    def processes(self) -> list[psutil.Process]:
        """Every process of this person (zombies too)."""
        found = []
        for process in psutil.process_iter(["uids"]):
            with contextlib.suppress(psutil.Error):
                if process.info["uids"].real == self.user.pw_uid:
                    found.append(process)
        return found

    def serve_process(self) -> psutil.Process:
        (serve,) = [p for p in self.processes() if "--with-server" in _cmdline(p)]
        return serve


class Squatter:
    """A listener run as ``person`` on ``port``, recording what it is sent."""

    def __init__(self, person: Person, port: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", SQUATTER, str(port)],
            user=person.user.pw_uid,
            group=person.user.pw_gid,
            extra_groups=[],
            cwd="/",
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        said = self.process.stdout.readline().strip()
        assert said == "listening", f"the port {port} was not free for the listener: {said}"
        self.said: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.said.append(line.strip())

    @property
    def received(self) -> bytes:
        return b"".join(bytes.fromhex(line) for line in list(self.said) if line != "connection")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.reader.join(30)


def _cmdline(process: psutil.Process) -> list[str]:
    with contextlib.suppress(psutil.Error):
        return process.cmdline()
    return []


def _rss(process: psutil.Process) -> int:
    """The resident memory of ``process`` and every process it started."""
    total = 0
    for each in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += each.memory_info().rss
    return total


def _wait_until_gone(person: Person) -> None:
    deadline = time.monotonic() + LEFT_WAIT
    while left := person.processes():
        if time.monotonic() > deadline:
            described = [(p.pid, p.status(), " ".join(_cmdline(p))[:120]) for p in left]
            raise AssertionError(f"{person.name}'s stopped server left {described}")
        time.sleep(0.1)  # polling the process table until the processes are gone


def _kill_all(people: list[Person]) -> None:
    """End what the test users still run (a failed earlier run's servers)."""
    for person in people:
        for process in person.processes():
            with contextlib.suppress(psutil.Error):
                process.kill()


@pytest.fixture
def people() -> Iterator[list[Person]]:
    with contextlib.suppress(KeyError):  # a failed earlier run's servers, if any
        _kill_all([Person(pwd.getpwnam(name)) for name in (ADA, BOB)])
    parent = open_parent()
    people = [Person(unix_user(name, parent / name)) for name in (ADA, BOB)]
    yield people
    _kill_all(people)
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def hub(
    people: list[Person], runtime_path: str, echo_model: EchoModelServer, tmp_path: Path
) -> Iterator[Hub]:
    """JupyterHub with the README's set-up for ``people``, the users let through the folders
    that hold the tests' Python and the runtime if those are closed (root's home)."""
    # The central install: the runtime's package unpacked once, as root, readable by all (the
    # users only read it). A folder of its own: the tests' shared cache is unpacked by
    # whichever runtime starts first, under copilot_magic's owner-only umask.
    package_cache = str(REPO / ".hub" / "package-cache")
    central = {"COPILOT_PKG_CACHE_HOME": package_cache}
    subprocess.run(
        [runtime_path, "--version"],
        env={**os.environ, **central},
        capture_output=True,
        check=True,
        timeout=120,
        umask=0o022,
    )
    folder = Path(tempfile.mkdtemp(prefix="cm-jupyterhub-"))  # root's: the config holds keys
    config = HubConfig(
        users=[person.name for person in people],
        server_command=[
            str(VENV_BIN / "copilot-magic"),
            "serve",
            "--with-server",
            "--",
            str(VENV_BIN / "jupyterhub-singleuser"),
        ],
        environment={
            "PYTHONPATH": str(REPO),  # this checkout's copilot_magic
            "COPILOT_CLI_PATH": runtime_path,
            "COPILOT_SKIP_CLI_DOWNLOAD": "1",
            **central,
            "COPILOT_MAGIC_PROVIDER_URL": echo_model.url,
            "COPILOT_MAGIC_MODEL": "echo",
        },
        per_user={"COPILOT_MAGIC_PROVIDER_API_KEY": KEYS},
        proxy=find_proxy(),
        folder=folder,
    )
    needed = [sys.prefix, os.path.realpath(sys.executable), REPO, runtime_path, package_cache]
    with let_through(needed, [person.user for person in people]):
        checked = as_user(people[0].user, [str(VENV_BIN / "copilot-magic"), "--version"])
        assert checked.returncode == 0, f"the test users cannot run copilot-magic: {checked}"
        hub = Hub(config)
        try:
            hub.wait_until_up()
            yield hub
        finally:
            hub.shutdown()
            with contextlib.suppress(OSError):  # the servers' output joins the secrets scan
                shutil.copy(hub.log, tmp_path / "jupyterhub.log")
            shutil.rmtree(folder, ignore_errors=True)


def _open(kernel: HubKernel, session: str) -> str:
    loaded = kernel.execute("%load_ext copilot_magic")
    assert loaded.error is None, loaded.error_line
    opened = kernel.execute(f"%copilot_session {session}")
    assert opened.error is None, opened.error_line
    return opened.stdout


def _reply(kernel: HubKernel, prompt: str) -> str:
    return str(reply_of(kernel.execute(copilot_cell(prompt)))["data"]["text/plain"])


def _runtime_of(kernel: HubKernel) -> int:
    said = kernel.execute("print(get_ipython()._copilot_magics.store.bridge.runtime_pid or 0)")
    return int(said.stdout)


def test_two_people_on_one_jupyterhub_each_with_a_runtime_that_lives_and_ends_with_their_server(
    hub: Hub, people: list[Person], echo_model: EchoModelServer
) -> None:
    ada, bob = people
    hub.start(ada.name, bob.name)
    _each_serves_a_runtime_of_their_own(people)
    _neither_reads_the_others_data_directory(people)
    _both_converse_at_once(hub, people, echo_model)

    # Both servers stop (as the person, or the hub's idle culler, does): nothing is left.
    old = {person.name: (person.state(), person.token()) for person in people}
    for person in people:
        remember_runtime_token(person.data_dir)  # the scan looks for it in the hub's log
    hub.stop(ada.name, bob.name)
    for person in people:
        _wait_until_gone(person)
        assert not (server_folder(person.data_dir) / "server.json").exists()
        assert not (server_folder(person.data_dir) / "token").exists()

    # Each listens on the other's last port; the servers start again, each on another port.
    port = {name: int(str(state["address"]).rpartition(":")[2]) for name, (state, _) in old.items()}
    on_adas_port, on_bobs_port = Squatter(bob, port[ada.name]), Squatter(ada, port[bob.name])
    hub.start(ada.name, bob.name)
    for person in people:
        assert person.state()["address"] != old[person.name][0]["address"]
    _each_resumes(hub, people)
    assert on_adas_port.said == on_bobs_port.said == []  # nobody knocked on the old ports

    # A kernel told Ada's old address and token (as the README's "kernels elsewhere" are)
    # finds Bob listening there: it refuses, and sends nothing (the kernel checks whose
    # listening socket it is before it sends anything).
    old_address, old_token = str(old[ada.name][0]["address"]), old[ada.name][1]
    elsewhere = hub.kernel(ada.name)
    for line in (
        "%load_ext copilot_magic",
        f"%config CopilotMagics.runtime = {old_address!r}",
        f"%config CopilotMagics.runtime_token = {old_token!r}",
    ):
        assert elsewhere.execute(line).error is None
    refused = elsewhere.execute("%copilot_session hub-elsewhere")
    asked = elsewhere.execute(copilot_cell("ada's secret question"))
    on_adas_port.stop()
    on_bobs_port.stop()
    for secret in (old_token, KEYS[ada.name], "secret question"):
        assert secret.encode() not in on_adas_port.received, f"{secret[:8]}... reached Bob"
    assert refused.error is not None, "the kernel used another person's listener"
    assert asked.error is not None

    hub.stop(ada.name, bob.name)
    for person in people:
        _wait_until_gone(person)


def _each_serves_a_runtime_of_their_own(people: list[Person]) -> None:
    """Each server's runtime runs as its person, under its serve, in a 0700 data directory."""
    for person in people:
        runtime = psutil.Process(int(person.state()["pid"]))  # type: ignore[arg-type]
        assert runtime.uids().real == person.user.pw_uid
        assert runtime in person.serve_process().children(recursive=True)
        data_dir = person.data_dir.stat()
        assert (stat.S_IMODE(data_dir.st_mode), data_dir.st_uid) == (0o700, person.user.pw_uid)
    assert people[0].state()["address"] != people[1].state()["address"]


def _neither_reads_the_others_data_directory(people: list[Person]) -> None:
    """Their homes are open (0755): the data directory's own mode keeps the other out."""
    for reader, owner in (people, people[::-1]):
        looked = as_user(reader.user, ["ls", str(owner.data_dir)])
        assert "Permission denied" in looked.stderr, looked
        assert looked.returncode != 0
        token_file = server_folder(owner.data_dir) / "token"
        assert as_user(reader.user, ["cat", str(token_file)]).returncode != 0


def _both_converse_at_once(hub: Hub, people: list[Person], echo_model: EchoModelServer) -> None:
    """Bob's whole turn while Ada's reply streams; each with their own key, on their own
    server's runtime. What Ada's kernel costs goes to the cost table."""
    ada, bob = people
    ada_kernel, bob_kernel = hub.kernel(ada.name), hub.kernel(bob.name)
    bare_kernel = psutil.Process(ada_kernel.pid()).memory_info().rss
    for kernel in (ada_kernel, bob_kernel):
        assert "Created session hub-talk" in _open(kernel, "hub-talk")
    streaming = ada_kernel.send(copilot_cell(f"{SLOW_REPLY} {QUESTIONS[ada.name]}"))
    assert QUESTIONS[bob.name] in _reply(bob_kernel, QUESTIONS[bob.name])
    ada_reply = reply_of(ada_kernel.collect(streaming))["data"]["text/plain"]
    assert QUESTIONS[ada.name] in ada_reply
    for person, kernel in ((ada, ada_kernel), (bob, bob_kernel)):
        assert _runtime_of(kernel) == person.state()["pid"]  # the server's runtime, no other
        keys = {
            key for key, prompt in list(echo_model.api_keys) if QUESTIONS[person.name] in prompt
        }
        assert keys == {KEYS[person.name]}
    _write_cost(ada, ada_kernel, bare_kernel)
    for kernel in (ada_kernel, bob_kernel):
        kernel.socket.close()


def _each_resumes(hub: Hub, people: list[Person]) -> None:
    """Each person's new kernel resumes the conversation, on the new runtime."""
    for person in people:
        kernel = hub.kernel(person.name)
        assert "Resumed session hub-talk: 1 turn" in _open(kernel, "hub-talk")
        history = kernel.execute("%copilot_session --history hub-talk")
        assert QUESTIONS[person.name] in history.printed
        assert "again" in _reply(kernel, f"{person.name} asks again")
        assert _runtime_of(kernel) == person.state()["pid"]
        kernel.socket.close()


def _write_cost(person: Person, kernel: HubKernel, bare_kernel: int) -> None:
    """What one person costs: their runtime, serve, server and a kernel, in MB of RSS."""
    serve = person.serve_process()
    runtime = psutil.Process(int(person.state()["pid"]))  # type: ignore[arg-type]
    (server,) = [p for p in serve.children() if "jupyterhub-singleuser" in " ".join(_cmdline(p))]
    used = psutil.Process(kernel.pid()).memory_info().rss
    figures = {
        "the runtime (and its processes)": _rss(runtime),
        "`copilot-magic serve --with-server` itself": serve.memory_info().rss,
        "jupyterhub-singleuser (without its kernels)": server.memory_info().rss,
        "a kernel before `%load_ext copilot_magic`": bare_kernel,
        "the same kernel after one `%%copilot` reply": used,
        "copilot_magic's part of that kernel": used - bare_kernel,
    }
    COST.parent.mkdir(parents=True, exist_ok=True)
    lines = ["| one person on JupyterHub | MB (RSS) |", "|---|---|"]
    lines += [f"| {what} | {size / MB:.0f} |" for what, size in figures.items()]
    COST.write_text("\n".join(lines) + "\n")
