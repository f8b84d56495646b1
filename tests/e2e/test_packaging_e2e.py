"""The package as a person installs it: the wheel carries the frontend extension prebuilt.

The wheel is built from this checkout (its build hook reuses the extension that ``make setup``
built from ``frontend/``), installed with JupyterLab into a fresh virtual environment, and
asked, with no Node.js on the PATH, which extensions it has.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).with_name("uv")  # make setup installs it beside the tests' Python
# uv's cache is the one make setup filled (the person's, not the tests' temporary home): the
# packages come from it, and its thousands of files stay out of the secrets scan's folders.
UV_CACHE = os.environ.get("UV_CACHE_DIR") or str(
    Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache" / "uv"
)


def _run(*command: str | Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env or {**os.environ, "UV_CACHE_DIR": UV_CACHE},
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_the_wheel_installs_the_frontend_extension_enabled_without_node(tmp_path: Path) -> None:
    try:
        _install_and_list(tmp_path)
    finally:  # a whole environment of third-party files, which the secrets scan need not read
        shutil.rmtree(tmp_path / "fresh", ignore_errors=True)
        shutil.rmtree(tmp_path / "dist", ignore_errors=True)


def _install_and_list(tmp_path: Path) -> None:
    _run(UV, "build", "--wheel", "--out-dir", tmp_path / "dist", REPO)
    (wheel,) = (tmp_path / "dist").glob("copilot_magic-*.whl")
    shipped = zipfile.ZipFile(wheel).namelist()
    prefix = "copilot_magic-0.1.0.data/data/share/jupyter/labextensions/copilot-magic/"
    assert f"{prefix}package.json" in shipped
    assert f"{prefix}install.json" in shipped
    assert any(name.startswith(f"{prefix}static/") and name.endswith(".js") for name in shipped)

    fresh = tmp_path / "fresh"
    venv.create(fresh)
    constraints = REPO / ".ci" / "constraints.txt"
    _run(
        UV,
        "pip",
        "install",
        "--python",
        fresh / "bin" / "python",
        "-c",
        constraints,
        wheel,
        "jupyterlab",
    )
    path = str(fresh / "bin")
    assert shutil.which("node", path=path) is None
    env = {
        "PATH": path,
        "HOME": str(tmp_path),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }
    listed = _run(fresh / "bin" / "jupyter", "labextension", "list", env=env)
    # Its line, not the folder's (a temporary folder of CI's is named copilot-magic-ci-…).
    line = next((text for text in listed.splitlines() if "copilot-magic v" in text), listed)
    assert line.split()[:2] == ["copilot-magic", "v0.1.0"], listed
    assert "enabled" in line
    assert "OK" in line
    assert "(python, copilot-magic)" in line  # installed by the Python package, not linked
