"""The demo: one kernel starts a conversation, a fresh kernel continues it.

Runs ``01_start_a_conversation.ipynb`` and then ``02_continue_in_a_fresh_kernel.ipynb``,
each in a new kernel (with nbclient), saves the executed notebooks under
``artifacts/demo/`` and prints what each cell showed.

The model: with a provider configured (``COPILOT_MAGIC_PROVIDER_URL``) or a
GitHub sign-in that the Copilot runtime accepts, the real model answers.
Otherwise the project's local echo model stands in (it is deterministic and
says how many of your messages it received, which proves the context came back).
Sessions go to ``artifacts/demo/copilot-home`` unless ``COPILOT_HOME`` is set.

At its end, also when it fails or is interrupted, the demo stops the shared Copilot
runtime it started for that data directory (one that served it before the demo, your
own kernels', is left running).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from copilot_magic.config import Settings
from copilot_magic.errors import CopilotMagicError
from copilot_magic.runtime.bridge import RuntimeBridge
from copilot_magic.runtime.shared import stopping_shared_started_within
from copilot_magic.testing.echo_model import EchoModelServer

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parent / "artifacts" / "demo"
NOTEBOOKS = ("01_start_a_conversation.ipynb", "02_continue_in_a_fresh_kernel.ipynb")
CELL_TIMEOUT = 300


def signed_in(settings: Settings) -> str:
    """The GitHub login the runtime would use, or "" when there is none."""
    bridge = RuntimeBridge(lambda: settings)
    try:
        client = bridge.client()
        status = bridge.run(client.get_auth_status(), timeout=60)
        return (status.login or "GitHub user") if status.isAuthenticated else ""
    except CopilotMagicError as error:
        sys.exit(f"demo: {error}")
    finally:
        bridge.stop()


ECHO_PROOF = "I received 4 user messages. The first was: \"I'm exploring the iris dataset"


def continued(notebook: nbformat.NotebookNode) -> bool:
    """Whether the echo model's reply in the second kernel shows it got the first kernel's turns."""
    return any(
        ECHO_PROOF in shown_text(output)
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )


@contextmanager
def model_environment(env: dict[str, str]) -> Iterator[str]:
    """Choose the model; yields a description of it, with ``env`` set up for the kernels."""
    settings = Settings.from_environment(env)
    if settings.uses_provider:
        yield f"your provider: {settings.describe_model()}"
        return
    login = signed_in(settings)
    if login:
        yield f"GitHub Copilot, signed in as {login}"
        return
    with EchoModelServer() as echo:
        env.update(COPILOT_MAGIC_PROVIDER_URL=echo.url, COPILOT_MAGIC_MODEL="echo")
        yield (
            f"the local echo model at {echo.url} (no GitHub sign-in or provider found; it is a "
            "deterministic stand-in that reports what it received)"
        )


def shown_text(output: dict[str, Any]) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return str(output.get("text", ""))
    if kind == "error":  # the cell that fails on purpose (tagged raises-exception)
        return f"{output.get('ename', '')}: {output.get('evalue', '')}"
    data = output.get("data", {})
    if "application/vnd.jupyter.widget-view+json" in data:  # a live panel: its text is a repr
        return ""
    return str(data.get("text/plain", ""))


def run_notebook(name: str, env: dict[str, str]) -> nbformat.NotebookNode:
    """Execute one notebook in a fresh kernel; save it; print its cells and outputs."""
    notebook = nbformat.read(HERE / name, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(HERE)}},
    )
    print(f"\n=== {name} (a fresh kernel) ===")
    log = ARTIFACTS / f"{Path(name).stem}.kernel.log"
    try:
        with log.open("w") as kernel_stderr:  # the kernel's own warnings go here
            client.execute(env=env, stderr=kernel_stderr)
    finally:
        nbformat.write(notebook, ARTIFACTS / name)
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            print(f"\n>>> {cell.source}")
            for output in cell.get("outputs", []):
                text = shown_text(output).rstrip()
                if text:
                    print(text)
    return notebook


def main() -> int:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    # Absolute: the kernels run in notebooks/, and must use the data directory named here.
    home = os.path.expanduser(env.get("COPILOT_HOME") or ARTIFACTS / "copilot-home")
    env["COPILOT_HOME"] = os.path.abspath(home)
    # Its shared runtime would otherwise wait runtime_idle seconds (30 min) for more kernels.
    with stopping_shared_started_within(Settings.from_environment(env).data_path):
        return run_demo(env)


def run_demo(env: dict[str, str]) -> int:
    """Run both notebooks with the model chosen for ``env``; the demo's exit status."""
    with model_environment(env) as model:
        print(f"Model: {model}")
        print(f"Sessions are stored in {env['COPILOT_HOME']}")
        try:
            executed = [run_notebook(name, env) for name in NOTEBOOKS]
        except CellExecutionError as error:
            print(f"\ndemo failed: {str(error).strip().splitlines()[-1]}", file=sys.stderr)
            return 1
        echo = env.get("COPILOT_MAGIC_MODEL") == "echo"
    print(f"\nThe executed notebooks are in {ARTIFACTS}.")
    if not echo:
        print("Read Copilot's answer to 'What were we discussing?' above: the second kernel")
        print("resumed the session from disk, with the first kernel's conversation.")
        return 0
    if not continued(executed[1]):
        print("demo failed: the second kernel's reply lacks the earlier turns", file=sys.stderr)
        return 1
    print("Checked: in the second kernel the model received all four user messages, the first")
    print("three sent by the first kernel. The conversation continued across kernels.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
