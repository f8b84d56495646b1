"""A conversation as a notebook (nbformat v4) or as Markdown.

The notebook opens with a Markdown cell describing the session, then two cells
that reconnect to it (``%load_ext copilot_magic`` and ``%copilot_session ID``),
then one ``%%copilot`` cell per turn: the prompt as its source, the reply as its
output, rendered and sanitised exactly as a live reply, with the same metadata.
Run the two set-up cells and add a cell below to continue the conversation.
Nothing here needs IPython.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from copilot_magic import __version__
from copilot_magic.errors import ExportFailed, InvalidArgument
from copilot_magic.output_metadata import Stage, exported_metadata, reply_metadata
from copilot_magic.sessions.transcript import Turn, strip_signal
from copilot_magic.views.render import ABSTAINED_BANNER, reply_html, reply_text
from copilot_magic.views.text import plural, when

if TYPE_CHECKING:
    from copilot_magic.sessions.models import SessionSummary
    from copilot_magic.sessions.store import SessionStore

SUFFIXES = (".ipynb", ".md")


def _markdown_text(text: str) -> str:
    """``text`` shown as itself by Markdown: ASCII punctuation backslash-escaped (no HTML)."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


def _facts(summary: SessionSummary, turns: list[Turn], model: str) -> list[tuple[str, str]]:
    abstained = sum(t.abstained for t in turns)
    return [
        ("Session", f"`{summary.session_id}`"),
        ("Title", _markdown_text(summary.title) if summary.title else "(none)"),
        ("Model", _markdown_text(model) if model else "unknown"),
        ("Created", when(summary.created)),
        ("Last active", when(summary.last_active)),
        ("Turns", f"{len(turns)} ({plural(abstained, 'abstention')})"),
    ]


def _table_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _header(summary: SessionSummary, turns: list[Turn], model: str) -> str:
    rows = "\n".join(
        f"| {name} | {_table_cell(value)} |" for name, value in _facts(summary, turns, model)
    )
    return (
        f"# Copilot conversation `{summary.session_id}`\n\n| | |\n|---|---|\n{rows}\n\n"
        f"Exported by copilot_magic {__version__} on {when(datetime.now().astimezone())}. "
        "Run the next two cells, then add a `%%copilot` cell below to continue the "
        "conversation (running the exported `%%copilot` cells again would send their "
        "prompts again)."
    )


def _reply_output(session_id: str, turn: Turn, signal: str) -> Any:
    shown = strip_signal(turn.reply or turn.partial, signal)  # a cut-short reply: what showed
    stage = Stage.DONE if turn.reply else (Stage.INTERRUPTED if turn.aborted else Stage.FAILED)
    decorations: dict[str, Any] = {
        "abstained": turn.abstained,
        "error": turn.error,
        "steps": [*([turn.attached_words] if turn.attached else []), *turn.steps],
    }
    return new_output(
        "display_data",
        data={
            "text/html": reply_html(shown, stage, **decorations),
            "text/plain": reply_text(shown, stage, **decorations),
        },
        metadata=reply_metadata(session_id, turn.index, stage, turn.abstained),
    )


def conversation_notebook(
    summary: SessionSummary, turns: list[Turn], abstain_signal: str, model: str = ""
) -> NotebookNode:
    """The notebook of a conversation; valid per ``nbformat.validate``."""
    session_id = summary.session_id
    cells = [
        new_markdown_cell(_header(summary, turns, model)),
        new_code_cell("%load_ext copilot_magic"),
        new_code_cell(f"%copilot_session {session_id}"),
    ]
    for turn in turns:
        cell = new_code_cell(f"%%copilot\n{turn.prompt}")
        cell.outputs = [_reply_output(session_id, turn, abstain_signal)]
        cells.append(cell)
    notebook = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
            **exported_metadata(session_id),
        },
    )
    nbformat.validate(notebook)
    return notebook


def conversation_markdown(
    summary: SessionSummary, turns: list[Turn], abstain_signal: str, model: str = ""
) -> str:
    """The conversation as a Markdown document (the replies are Copilot's Markdown as written)."""
    lines = [f"# Copilot conversation `{summary.session_id}`", ""]
    lines += [f"- **{name}:** {value}" for name, value in _facts(summary, turns, model)]
    for turn in turns:
        lines += ["", f"## {turn.index}. You · {when(turn.asked_at)}", "", turn.prompt, ""]
        if turn.attached:
            lines += [f"_{turn.attached_words}_", ""]
        badge = f" · {ABSTAINED_BANNER}" if turn.abstained else ""
        lines += [f"### Copilot · {when(turn.answered_at)}{badge}", ""]
        lines += [f"- {step}" for step in turn.steps] + ([""] if turn.steps else [])
        if turn.reply:
            lines.append(strip_signal(turn.reply, abstain_signal))
        elif turn.partial:
            ended = "Interrupted" if turn.aborted else "Failed"
            lines += [turn.partial, "", f"_{ended}: the rest was not generated._"]
        else:
            lines.append("_Interrupted: no reply._" if turn.aborted else "_No reply._")
    return "\n".join(lines) + "\n"


def export_session(store: SessionStore, session_id: str, path: Path) -> Path:
    """Write the session to ``path``: a notebook for ``.ipynb``, Markdown for ``.md``."""
    path = Path(path)
    suffix = path.suffix.lower()  # "notes.IPYNB" is a notebook too
    if suffix not in SUFFIXES:
        raise InvalidArgument(f"Export to a .ipynb or .md file, not {path.name!r}.")
    turns = store.history(session_id)
    summary = store.summary(session_id)
    model = store.model_of(session_id)
    signal = store.settings.abstain_signal
    try:
        if suffix == ".ipynb":
            nbformat.write(conversation_notebook(summary, turns, signal, model), str(path))
        else:
            path.write_text(conversation_markdown(summary, turns, signal, model), encoding="utf-8")
    except OSError as error:
        raise ExportFailed(f"Cannot write {path}: {error.strerror or error}.") from None
    return path
