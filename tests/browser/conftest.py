"""Browser fixtures: a real JupyterLab server and headless Chromium on the real runtime.

One JupyterLab server and one Chromium serve the whole test session. The
server's environment is the end-to-end kernel environment (the real Copilot
runtime, the echo model, a data directory of its own and a HOME of its own), so
every kernel it starts talks to the echo model through the real runtime. Each
test gets a fresh browser context, its own notebook and its own kernel; the
kernel is shut down after the test. Any uncaught error in the page fails the
test; console messages and dialogs are recorded for the test's own assertions.

Nothing here sleeps to synchronise: the server is ready when ``/api/status``
answers, the page when Playwright sees what it waits for. The timeouts only
guard against hangs. The fixtures do not reuse ``tests/e2e/conftest.py``: its
data directory and kernel environment are per test, and the server needs them
for the whole session, so the few lines are re-declared here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import psutil
import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Locator,
    Page,
    ViewportSize,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from runtime_support import find_runtime, kernel_environment, settings_for_tests
from secrets_scan import fake_github_env, remember_runtime_token

from copilot_magic.config import Secret, Settings
from copilot_magic.testing.echo_model import EchoModelServer

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
# Exactly these flags: without the background-networking ones Chromium storms the closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PROVIDER_API_KEY = "sk-browser-test-key-0123456789"
VIEWPORT: ViewportSize = {"width": 1440, "height": 1000}

# Hang guards only: nothing waits for them to pass.
SERVER_START_TIMEOUT = 90.0
SERVER_STOP_TIMEOUT = 30.0
PROCESS_EXIT_TIMEOUT = 20.0
PAGE_LOAD_TIMEOUT_MS = 60_000
KERNEL_IDLE_TIMEOUT_MS = 90_000
UI_TIMEOUT_MS = 30_000

# Notebook 7.6 throws these on its own: on every page load (its keyboard shortcuts' settings),
# and when its file browser restore, after a JupyterLab page of the same server, asks for the
# file browser that a notebook page has not. Any other uncaught page error fails the test.
NOTEBOOK7_KNOWN_ERRORS = {
    "Cannot read properties of undefined (reading 'schema')",
    "Command 'filebrowser:open-path' not registered.",
}
_KERNEL_REALLY_IDLE = """(path) => {
    const widget = window.jupyterapp?.shell?.currentWidget;
    const context = widget?.sessionContext;
    const kernel = context?.session?.kernel;
    return Boolean(widget?.context?.path === path && context.isReady && kernel
        && kernel.status === 'idle' && kernel.connectionStatus === 'connected');
}"""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "browser: JupyterLab in headless Chromium (Playwright) with the real runtime",
    )


# -- the runtime, the model and the directories -------------------------------------------------
@dataclass(frozen=True)
class LabDirs:
    """Every directory the server, its kernels and the runtime write to: all temporary."""

    home: Path
    data_dir: Path
    root: Path
    jupyter_config: Path
    jupyter_runtime: Path
    jupyter_data: Path
    ipython: Path
    user_settings: Path
    workspaces: Path


@pytest.fixture(scope="session")
def lab_runtime_path() -> str:
    return find_runtime()


@pytest.fixture(scope="session")
def lab_echo_model() -> Iterator[EchoModelServer]:
    with EchoModelServer() as server:
        yield server


@pytest.fixture(scope="session")
def lab_dirs(tmp_path_factory: pytest.TempPathFactory) -> LabDirs:
    base = tmp_path_factory.mktemp("browser")
    dirs = LabDirs(
        home=base / "home",
        data_dir=base / "copilot-home",
        root=base / "root",
        jupyter_config=base / "jupyter-config",
        jupyter_runtime=base / "jupyter-runtime",
        jupyter_data=base / "jupyter-data",
        ipython=base / "ipython",
        user_settings=base / "lab-settings",
        workspaces=base / "lab-workspaces",
    )
    for path in vars(dirs).values():
        path.mkdir()
    (dirs.workspaces / "notebook").mkdir()
    # The "get notified about Jupyter news?" pop-up is stopped only by this settings file.
    notification = dirs.user_settings / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    return dirs


@pytest.fixture(scope="session")
def lab_kernel_env(
    lab_runtime_path: str, lab_echo_model: EchoModelServer, lab_dirs: LabDirs
) -> dict[str, str]:
    """The environment of the server and so of its kernels: runtime, echo model, data dir."""
    env = kernel_environment(
        home=lab_dirs.home,
        data_dir=lab_dirs.data_dir,
        runtime=lab_runtime_path,
        provider_url=lab_echo_model.url,
        provider_key=PROVIDER_API_KEY,
    )
    env.update(fake_github_env())  # the run's recognisable fake token, never a real one
    return env


@pytest.fixture(scope="session")
def lab_settings(
    lab_runtime_path: str, lab_echo_model: EchoModelServer, lab_dirs: LabDirs
) -> Settings:
    """The same runtime, model and data directory, for a store in the test process."""
    return settings_for_tests(
        model="echo",
        provider_url=lab_echo_model.url,
        provider_api_key=Secret(PROVIDER_API_KEY),
        data_dir=str(lab_dirs.data_dir),
        cli_path=lab_runtime_path,
    )


@contextlib.contextmanager
def runtime_environment(env: dict[str, str]) -> Iterator[None]:
    """Run a block with the kernels' environment, for a runtime started by the test process."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name not in env:
                patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        yield


# -- the server ---------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LabServer:
    """A running ``jupyter lab`` in a process group of its own."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen[bytes]
    log: Path
    seen: dict[int, psutil.Process] = field(default_factory=dict)
    stop_timeout: float = SERVER_STOP_TIMEOUT  # seconds for each step of stop()

    def api(self, method: str, path: str, timeout: float = 10.0) -> Any:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            headers={"Authorization": f"token {self.token}"},
            data=b"" if method in {"POST", "DELETE"} else None,
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def remember_processes(self) -> None:
        """Note the server's descendants (kernels, their runtimes) to be sure they end."""
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(self.process.pid).children(recursive=True):
                self.seen.setdefault(child.pid, child)

    def shutdown_notebook_kernels(self, notebook: str) -> None:
        """Shut down the kernels of the sessions that have ``notebook`` open."""
        self.remember_processes()
        for session in self.api("GET", "/api/sessions"):
            if session.get("path") == notebook:
                self.api("DELETE", f"/api/sessions/{session['id']}", timeout=60.0)

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            try:
                self.api("GET", "/api/status", timeout=5.0)
            except (urllib.error.URLError, OSError):
                pass
            else:
                return
            if time.monotonic() > deadline:
                pytest.fail(
                    f"JupyterLab did not answer /api/status within {SERVER_START_TIMEOUT:g} s:\n"
                    + self.log_tail(),
                    pytrace=False,
                )
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self.process.wait(timeout=0.25)  # the poll interval; also sees a crash
                pytest.fail(
                    f"JupyterLab exited with code {code} before it was ready:\n" + self.log_tail(),
                    pytrace=False,
                )

    def stop(self) -> list[str]:
        """Shut down via the API (it stops the kernels), else end the process group.

        Returns a description of every process that outlived the server and had
        to be killed (none, normally).
        """
        self.remember_processes()
        with contextlib.suppress(urllib.error.URLError, OSError):
            self.api("POST", "/api/shutdown")
        try:
            self.process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, sig)
                try:
                    self.process.wait(timeout=self.stop_timeout)
                    break
                except subprocess.TimeoutExpired:
                    continue
        _, alive = psutil.wait_procs(list(self.seen.values()), timeout=PROCESS_EXIT_TIMEOUT)
        leftovers = []
        for process in alive:
            with contextlib.suppress(psutil.Error):
                leftovers.append(f"{process.pid} {' '.join(process.cmdline())[:200]}")
                process.kill()
        psutil.wait_procs(alive, timeout=PROCESS_EXIT_TIMEOUT)
        return leftovers


@contextlib.contextmanager
def running_lab(
    lab_dirs: LabDirs,
    lab_kernel_env: dict[str, str],
    name: str,
    *options: str,
    stop_timeout: float = SERVER_STOP_TIMEOUT,
) -> Iterator[LabServer]:
    """JupyterLab (and Notebook 7) on 127.0.0.1 with a token, in the temporary directories,
    with ``options``; its log is ``name``.log beside the root. Stopped at the end (each step
    of the stop given ``stop_timeout`` seconds), and any process it left is named in a
    failure."""
    token = secrets.token_hex(24)
    port = _free_port()
    env = dict(
        lab_kernel_env,
        JUPYTER_CONFIG_DIR=str(lab_dirs.jupyter_config),
        JUPYTER_RUNTIME_DIR=str(lab_dirs.jupyter_runtime),
        JUPYTER_DATA_DIR=str(lab_dirs.jupyter_data),
        IPYTHONDIR=str(lab_dirs.ipython),
    )
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--allow-root",
        f"--IdentityProvider.token={token}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={lab_dirs.root}",
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={lab_dirs.user_settings}",
        f"--LabApp.workspaces_dir={lab_dirs.workspaces}",
        # The same server serves Notebook 7 (the `notebook` package) at /notebooks/.
        "--JupyterNotebookApp.expose_app_in_browser=True",
        f"--JupyterNotebookApp.user_settings_dir={lab_dirs.user_settings}",
        f"--JupyterNotebookApp.workspaces_dir={lab_dirs.workspaces / 'notebook'}",
        *options,
    ]
    log = lab_dirs.root.parent / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=lab_dirs.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LabServer(f"http://127.0.0.1:{port}", token, lab_dirs.root, process, log)
    server.stop_timeout = stop_timeout
    try:
        server.wait_until_ready()
        yield server
    finally:
        leftovers = server.stop()
    if leftovers:
        pytest.fail(
            "Processes outlived the JupyterLab server and were killed:\n" + "\n".join(leftovers),
            pytrace=False,
        )


@pytest.fixture(scope="session")
def jupyter_lab(lab_dirs: LabDirs, lab_kernel_env: dict[str, str]) -> Iterator[LabServer]:
    """JupyterLab for the whole session, each window with a document of its own (real-time
    collaboration, installed for its own test, is off here)."""
    with running_lab(
        lab_dirs, lab_kernel_env, "jupyter-lab", "--YDocExtension.disable_rtc=True"
    ) as server:
        yield server


# -- the browser --------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """The system's Chromium, headless. Never ``playwright install``: it cannot work here."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium is missing ({CHROMIUM} does not exist): run `make test`, which installs it.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageWatch:
    """What the page did besides what a test looks at."""

    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def on_error(self, error: PlaywrightError) -> None:
        if error.message in NOTEBOOK7_KNOWN_ERRORS:
            return
        self.errors.append(f"{error.name}: {error.message}")

    def on_console(self, message: ConsoleMessage) -> None:
        self.console.append(f"{message.type}: {message.text}")

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


def _notebook_name(test_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", test_name).strip("-") + ".ipynb"


LIGHT, DARK = "JupyterLab Light", "JupyterLab Dark"


class LabPage:
    """A page of one test in JupyterLab (``app="lab"``) or Notebook 7 (``"notebook"``): open
    a notebook, run it, change the theme, take screenshots."""

    def __init__(self, page: Page, server: LabServer, watch: PageWatch, notebook: str) -> None:
        self.page = page
        self.server = server
        self.watch = watch
        self.notebook = notebook
        self.opened = False
        self.app = "lab"
        self.theme = LIGHT

    def set_theme(self, theme: str) -> None:
        """Switch the app's theme (kept in the server's settings: the fixture sets it back)."""
        self.page.evaluate(
            "(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})",
            theme,
        )
        light = "true" if theme == LIGHT else "false"
        self.page.wait_for_function(
            f"() => document.body.dataset.jpThemeLight === '{light}'", timeout=UI_TIMEOUT_MS
        )
        # JupyterLab shows its splash screen over the page while the theme changes.
        self.page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=UI_TIMEOUT_MS)
        self.theme = theme

    def reopen(self) -> None:
        """Load the page again, as a person reopening the saved notebook does."""
        self.page.reload(timeout=PAGE_LOAD_TIMEOUT_MS)
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=PAGE_LOAD_TIMEOUT_MS)

    def save(self) -> None:
        self.page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        self.page.wait_for_function(
            "() => !window.jupyterapp.shell.currentWidget.context.model.dirty",
            timeout=UI_TIMEOUT_MS,
        )

    def open_notebook(
        self, sources: list[str], app: str = "lab", ids: dict[int, str] | None = None
    ) -> None:
        """Write a notebook of code cells into the server root, open it, wait for its kernel.
        ``ids`` gives cells (by index) an id of the test's choosing."""
        given = ids or {}
        cells = [nbformat.v4.new_code_cell(source) for source in sources]
        for index, cell_id in given.items():
            cells[index].id = cell_id
        notebook = nbformat.v4.new_notebook(
            cells=cells,
            metadata={
                "kernelspec": {
                    "name": "python3",
                    "display_name": "Python 3 (ipykernel)",
                    "language": "python",
                }
            },
        )
        nbformat.write(notebook, self.server.root / self.notebook)
        self.opened = True
        self.app = app
        # A workspace of its own, so JupyterLab does not reopen other tests' notebooks.
        workspace = self.notebook.removesuffix(".ipynb")
        where = (
            f"lab/workspaces/{workspace}/tree/{self.notebook}"
            if app == "lab"
            else f"notebooks/{self.notebook}"
        )
        self.page.goto(
            f"{self.server.url}/{where}?token={self.server.token}", timeout=PAGE_LOAD_TIMEOUT_MS
        )
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=PAGE_LOAD_TIMEOUT_MS)
        # The toolbar says "idle" too early; then Run All opens a kernel picker. Ask the app.
        self.page.wait_for_function(
            _KERNEL_REALLY_IDLE, arg=self.notebook, timeout=KERNEL_IDLE_TIMEOUT_MS
        )
        if app == "lab":  # more room for the notebook, and a cleaner screenshot
            self.page.evaluate("() => window.jupyterapp.shell.collapseLeft()")

    def open_existing(self, app: str = "lab") -> None:
        """Open the notebook another window opened (and wrote), as a second window."""
        self.opened, self.app = True, app
        workspace = self.notebook.removesuffix(".ipynb") + "-other"
        self.page.goto(
            f"{self.server.url}/lab/workspaces/{workspace}/tree/{self.notebook}"
            f"?token={self.server.token}",
            timeout=PAGE_LOAD_TIMEOUT_MS,
        )
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=PAGE_LOAD_TIMEOUT_MS)
        self.page.wait_for_function(
            _KERNEL_REALLY_IDLE, arg=self.notebook, timeout=KERNEL_IDLE_TIMEOUT_MS
        )

    def run_all(self) -> None:
        self.page.evaluate(
            "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
        )

    def restart_and_run_all(self) -> None:
        """Restart the kernel (a fresh one, as for a reopened notebook), then Run All."""
        self.page.evaluate(
            "async () => { await window.jupyterapp.shell.currentWidget.sessionContext"
            ".restartKernel(); }"
        )
        self.page.wait_for_function(
            _KERNEL_REALLY_IDLE, arg=self.notebook, timeout=KERNEL_IDLE_TIMEOUT_MS
        )
        self.run_all()

    def append_and_run(self, source: str) -> None:
        """Add a code cell holding ``source`` at the end of the notebook and run it."""
        self.page.evaluate(
            """(source) => {
                const app = window.jupyterapp;
                const notebook = app.shell.currentWidget.content;
                notebook.model.sharedModel.insertCell(notebook.widgets.length,
                    {cell_type: 'code', source});
                notebook.activeCellIndex = notebook.widgets.length - 1;
                app.commands.execute('notebook:run-cell');
            }""",
            source,
        )

    def outputs_text(self) -> str:
        """Every cell output's text, for failure messages."""
        return "\n---\n".join(self.page.locator(".jp-OutputArea-output").all_inner_texts())

    def wait_for_output(self, selector: str, timeout_ms: int = KERNEL_IDLE_TIMEOUT_MS) -> None:
        """Wait for ``selector`` to appear; on a timeout, fail with what the cells printed."""
        try:
            self.page.wait_for_selector(selector, timeout=timeout_ms)
        except PlaywrightTimeoutError:
            pytest.fail(
                f"{selector} did not appear within {timeout_ms / 1000:g} s. Cell outputs:\n"
                + self.outputs_text(),
                pytrace=False,
            )

    def screenshot(self, name: str, element: Locator | None = None) -> Path:
        """The page (or just ``element``) as ``artifacts/screenshots/NAME``."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        if element is not None:
            element.screenshot(path=str(path))
            return path
        self.page.screenshot(path=str(path))
        return path


@contextlib.contextmanager
def page_on(
    chromium: Browser, server: LabServer, lab_dirs: LabDirs, notebook: str
) -> Iterator[LabPage]:
    """A fresh browser context (a window of its own) on ``server``; page errors fail the
    test."""
    watch = PageWatch()
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.on("pageerror", watch.on_error)
    page.on("console", watch.on_console)
    page.on("dialog", watch.on_dialog)
    lab = LabPage(page, server, watch, notebook)
    try:
        yield lab
    finally:
        if lab.theme != LIGHT:  # the theme is a server-side setting: the next test's too
            with contextlib.suppress(PlaywrightError):
                lab.set_theme(LIGHT)
        context.close()
        remember_runtime_token(lab_dirs.data_dir)
        if lab.opened:
            server.shutdown_notebook_kernels(lab.notebook)
    if watch.errors:
        pytest.fail("Uncaught errors in the page:\n" + "\n".join(watch.errors), pytrace=False)


@pytest.fixture
def lab_page(
    chromium: Browser, jupyter_lab: LabServer, lab_dirs: LabDirs, request: pytest.FixtureRequest
) -> Iterator[LabPage]:
    """A fresh browser context on the server; page errors fail the test."""
    with page_on(chromium, jupyter_lab, lab_dirs, _notebook_name(request.node.name)) as lab:
        yield lab
