"""A real JupyterHub for the end-to-end tests: its config, its REST API, and kernels on the
single-user servers it spawns, driven over Jupyter Server's REST API and kernel websocket.

The hub runs as root (LocalProcessSpawner starts each user's server as that Unix user),
behind the configurable-http-proxy that ``make hub`` installs from npm; the test talks to
it through the proxy, as a browser does, with a service token allowed to start, stop and
use the users' servers.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import websocket
from runtime_support import REPO

from .kernels import CellResult

HUB_START = 60.0  # seconds the hub has to answer its API
SERVER_WAIT = 90.0  # seconds a single-user server has to start or stop
CELL_TIMEOUT = 120.0
SERVICE = "copilot-magic-test"


def find_proxy() -> str:
    """configurable-http-proxy: ``CONFIGPROXY_PATH``, else the one ``make hub`` installs."""
    path = os.environ.get("CONFIGPROXY_PATH") or str(
        REPO / ".hub" / "node_modules" / ".bin" / "configurable-http-proxy"
    )
    if not os.access(path, os.X_OK):
        import pytest

        pytest.fail(
            "No configurable-http-proxy: run `make hub` (it installs the pinned one from npm) "
            "or set CONFIGPROXY_PATH.",
            pytrace=False,
        )
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class HubConfig:
    """What the generated jupyterhub_config.py says: the recommended set-up of the README."""

    users: list[str]
    server_command: list[str]  # Spawner.cmd
    environment: dict[str, str]  # Spawner.environment, the same for every user
    per_user: dict[str, dict[str, str]]  # Spawner.environment callables: variable -> user -> value
    proxy: str
    folder: Path
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)

    def text(self) -> str:
        per_user = {
            name: f"lambda spawner: {values!r}[spawner.user.name]"
            for name, values in self.per_user.items()
        }
        environment = ", ".join(
            [f"{k!r}: {v!r}" for k, v in self.environment.items()]
            + [f"{k!r}: {v}" for k, v in per_user.items()]
        )
        return f"""\
c = get_config()  # noqa
c.JupyterHub.bind_url = "http://127.0.0.1:{self.port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.command = [{self.proxy!r}]
c.JupyterHub.db_url = "sqlite:///{self.folder}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{self.folder}/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = "{self.folder}/jupyterhub.pid"
# The test logs in as nobody: it starts and uses the servers with a service token. Each
# server still runs as its own Unix user (LocalProcessSpawner), which is what is tested.
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {set(self.users)!r}
c.JupyterHub.spawner_class = "localprocess"
c.JupyterHub.services = [{{"name": {SERVICE!r}, "api_token": {self.token!r}}}]
c.JupyterHub.load_roles = [{{
    "name": {SERVICE!r},
    "scopes": ["admin:users", "admin:servers", "access:servers"],
    "services": [{SERVICE!r}],
}}]
c.Spawner.cmd = {self.server_command!r}
c.Spawner.environment = {{{environment}}}
# The API answers at once (both servers start, or stop, together); the test polls.
c.JupyterHub.tornado_settings = {{"slow_spawn_timeout": 0, "slow_stop_timeout": 0}}
c.Spawner.start_timeout = {int(SERVER_WAIT)}
c.Spawner.http_timeout = {int(SERVER_WAIT)}
"""


class Hub:
    """``jupyterhub`` started with ``config``, its output in ``folder/jupyterhub.log``."""

    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self.url = f"http://127.0.0.1:{config.port}"
        config_file = config.folder / "jupyterhub_config.py"
        config_file.write_text(config.text())
        self.log = config.folder / "jupyterhub.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(config_file)],
                cwd=config.folder,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {config.token}"

    def wait_until_up(self) -> None:
        self._wait(self._answers, HUB_START, "the hub did not answer its API")

    def _answers(self) -> bool:
        try:
            return self.session.get(f"{self.url}/hub/api/", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    def _wait(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.process.poll() is not None:
                raise AssertionError(f"{what}: the hub exited\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} within {timeout:g} s\n{self.log_tail()}")
            time.sleep(0.2)  # polling the hub's API until the condition holds

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def api(self, method: str, path: str) -> requests.Response:
        return self.session.request(method, f"{self.url}/hub/api/{path}", timeout=30)

    def server(self, user: str) -> dict[str, Any] | None:
        """The user's default server as the hub reports it, or ``None`` when it has none."""
        found = self.api("GET", f"users/{user}").json().get("servers", {}).get("")
        return dict(found) if found else None

    def start(self, *users: str) -> None:
        """Start the servers of ``users`` (together) and wait until each is ready."""
        for user in users:
            started = self.api("POST", f"users/{user}/server")
            assert started.status_code in (201, 202), started.text
        for user in users:
            self._wait(
                lambda user=user: bool((self.server(user) or {}).get("ready")),
                SERVER_WAIT,
                f"the server of {user} did not start",
            )

    def stop(self, *users: str) -> None:
        """Stop the servers of ``users`` (together), as the hub does for a person or its idle
        culler, and wait until the hub has seen each process end."""
        for user in users:
            stopped = self.api("DELETE", f"users/{user}/server")
            assert stopped.status_code in (202, 204), stopped.text
        for user in users:
            self._wait(
                lambda user=user: self.server(user) is None,
                SERVER_WAIT,
                f"the server of {user} did not stop",
            )

    def kernel(self, user: str) -> HubKernel:
        return HubKernel(self, user)

    def shutdown(self) -> None:
        """Stop the hub (it stops the servers it runs, then its proxy)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(SERVER_WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.session.close()


class HubKernel:
    """A kernel on a user's single-user server, reached through the hub's proxy: started
    with the REST API, run over the kernel's websocket (Jupyter's JSON messages)."""

    def __init__(self, hub: Hub, user: str) -> None:
        self.hub = hub
        self.base = f"{hub.url}/user/{user}/api"
        started = hub.session.post(f"{self.base}/kernels", json={"name": "python3"}, timeout=60)
        assert started.status_code == 201, started.text
        self.id = str(started.json()["id"])
        self.socket = websocket.create_connection(
            f"ws://127.0.0.1:{hub.config.port}/user/{user}/api/kernels/{self.id}/channels",
            header=[f"Authorization: token {hub.config.token}"],
            timeout=CELL_TIMEOUT,
        )
        self.session = uuid.uuid4().hex
        self.execute("pass")  # the kernel answers: it is ready

    def send(self, code: str) -> str:
        """Start running ``code``; returns the message id to :meth:`collect` with."""
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": "execute_request",
            "session": self.session,
            "username": "test",
            "version": "5.3",
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        message = {"header": header, "parent_header": {}, "metadata": {}, "content": content}
        self.socket.send(json.dumps({**message, "channel": "shell", "buffers": []}))
        return msg_id

    def collect(self, msg_id: str, timeout: float = CELL_TIMEOUT) -> CellResult:
        """The outputs of ``msg_id`` once the kernel is idle and has replied."""
        result = CellResult()
        by_display_id: dict[str, dict[str, Any]] = {}
        idle = replied = False
        deadline = time.monotonic() + timeout
        while not (idle and replied):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"cell did not finish within {timeout:g} s")
            self.socket.settimeout(remaining)
            message = json.loads(self.socket.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "execute_reply":
                replied = True
                if content["status"] == "error" and result.error is None:
                    result.error = {
                        "ename": content.get("ename", ""),
                        "evalue": content.get("evalue", ""),
                        "traceback": [],
                    }
            elif kind == "status":
                idle = content["execution_state"] == "idle"
            elif kind == "stream":
                result.outputs.append({"output_type": "stream", **content})
            elif kind in ("display_data", "execute_result"):
                output = {"output_type": kind, "data": content["data"]}
                output["metadata"] = content["metadata"]
                result.outputs.append(output)
                display_id = content.get("transient", {}).get("display_id")
                if display_id:
                    by_display_id[display_id] = output
            elif kind == "update_display_data":
                target = by_display_id.get(content.get("transient", {}).get("display_id"))
                if target is not None:
                    target["data"], target["metadata"] = content["data"], content["metadata"]
            elif kind == "error":
                result.error = content
        return result

    def execute(self, code: str, timeout: float = CELL_TIMEOUT) -> CellResult:
        return self.collect(self.send(code), timeout)

    def pid(self) -> int:
        """The kernel's process id (the kernel prints it)."""
        return int(self.execute("import os; print(os.getpid())").stdout)

    def close(self) -> None:
        """Shut the kernel down, as closing a notebook does (the server may be gone)."""
        self.socket.close()
        with contextlib.suppress(requests.RequestException):
            self.hub.session.delete(f"{self.base}/kernels/{self.id}", timeout=30)
