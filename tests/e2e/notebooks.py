"""Notebooks run as Jupyter runs them: nbclient in a fresh kernel, saved afterwards.

nbclient tells the kernel that nobody answers ``input()``, as a headless run does.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook


def run_notebook(
    path: Path, env: dict[str, str], as_jupyter_would: bool = True
) -> nbformat.NotebookNode:
    """Execute the notebook at ``path`` in a fresh kernel and save it, as Jupyter would."""
    notebook = nbformat.read(str(path), as_version=4)
    kernel_env = dict(env, JPY_SESSION_NAME=str(path)) if as_jupyter_would else env
    resources = {"metadata": {"path": str(path.parent)}}  # the kernel runs beside the notebook
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", resources=resources)
    client.execute(env=kernel_env)
    nbformat.write(notebook, str(path))
    return notebook


def write_notebook(path: Path, *sources: str) -> Path:
    notebook = new_notebook(cells=[new_code_cell(source) for source in sources])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, str(path))
    return path


def outputs_text(notebook: nbformat.NotebookNode) -> list[str]:
    """Each code cell's outputs as text (streams and the plain text of displays)."""
    texts = []
    for cell in notebook.cells:
        parts = []
        for output in cell.get("outputs", []):
            parts.append(output.get("text") or output.get("data", {}).get("text/plain", ""))
        texts.append("".join(parts))
    return texts
