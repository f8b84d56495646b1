"""JupyterLab and headless Chromium for the benchmark, as the browser tests start them.

The browser tests' set-up (``tests/browser/conftest.py``) is the one way this
project starts JupyterLab on the real runtime and the echo model and drives it
with the system's Chromium. Its pieces are pytest fixtures; the benchmark is no
pytest run, so it calls the functions behind them (``inspect.unwrap``: a fixture
keeps its function as ``__wrapped__``, as any wrapper does) instead of writing them again: the same
directories, server command, kernel environment, browser flags and page.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from pathlib import Path

from browser import conftest as lab_fixtures
from browser.conftest import LabPage

from copilot_magic.testing.echo_model import EchoModelServer


class _Folders:
    """What ``lab_dirs`` asks of pytest's ``tmp_path_factory``: a new folder under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def mktemp(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True)
        return path


@contextlib.contextmanager
def lab_page(runtime: str, echo: EchoModelServer, root: Path, notebook: str) -> Iterator[LabPage]:
    """A page in headless Chromium on a JupyterLab whose kernels use ``runtime`` and ``echo``,
    with every folder under ``root``."""
    dirs = inspect.unwrap(lab_fixtures.lab_dirs)(_Folders(root))
    env = inspect.unwrap(lab_fixtures.lab_kernel_env)(runtime, echo, dirs)
    with (
        contextlib.contextmanager(inspect.unwrap(lab_fixtures.jupyter_lab))(dirs, env) as server,
        contextlib.contextmanager(inspect.unwrap(lab_fixtures.chromium))() as browser,
        lab_fixtures.page_on(browser, server, dirs, notebook) as lab,
    ):
        yield lab
