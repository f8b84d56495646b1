"""Session controls in the magic: titles, fork, rewind, compact, usage, models and stars.

Real runtime, real kernels, the echo model: its replies say how many user
messages the model received and quote the first and the last, so a reply
proves what the model was given after a fork or a rewind. What each control does
is proven once at the store (``test_controls_contract_e2e.py``); here one kernel
runs them all and the lines it prints are checked. Each control's
refusals of bad input are unit tests over the real store and a fake SDK client
(``tests/unit/test_control_refusals_fake_client.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from runtime_support import backdate_sessions

from copilot_magic.testing.echo_model import EchoModelServer

from .cells import copilot_cell, error_shown, reply_of
from .kernels import Kernel


def _say(kernel: Kernel, prompt: str) -> str:
    result = kernel.execute(copilot_cell(prompt))
    assert result.error is None, result.error_line
    return str(reply_of(result)["data"]["text/html"])


def _result(kernel: Kernel, line: str, kind: str = "text/plain") -> str:
    """What a line that returns a value (the table, a transcript) shows, as ``kind``."""
    result = kernel.execute(line)
    assert result.error is None, result.error_line
    shown = [
        o["data"].get(kind, "") for o in result.outputs if o["output_type"] == "execute_result"
    ]
    return "".join(str(s) for s in shown)


def test_the_magic_runs_each_control_and_prints_its_line(
    start_kernel: Callable[[], Kernel], echo_model: EchoModelServer, data_dir: Path
) -> None:
    """Rename, usage, models, star, fork, rewind, compact and a clean-up in one kernel, each
    line as printed; what each control does is proven at the store in
    ``test_controls_contract_e2e.py``."""
    kernel = start_kernel()
    kernel.execute("%copilot_session ctl-src")
    assert kernel.execute("%copilot_session --usage").stdout.strip() == (
        "ctl-src: — (no model request yet)"
    )
    echo_model.clear_reported_usage()
    for prompt in ("one apricot", "two banana", "three cherry"):
        _say(kernel, prompt)
    reported = echo_model.reported_usage
    tokens_in, tokens_out = sum(i for i, _ in reported), sum(o for _, o in reported)
    usage = kernel.execute("%copilot_session --usage ctl-src").stdout.strip()
    assert usage == (
        f"ctl-src: {tokens_in:,} in · {tokens_out:,} out · {len(reported)} requests (echo)"
    )
    assert kernel.execute("%copilot_session --models").stdout.splitlines() == [
        "* echo",
        "  echo-2",
    ]

    renamed = kernel.execute('%copilot_session --rename ctl-src "Churn <b>Q3</b> study"')
    assert renamed.stdout.strip() == "Renamed session ctl-src: Churn <b>Q3</b> study"
    assert "Churn <b>Q3</b> study" in _result(kernel, "%copilot_session --list")
    rich = _result(kernel, "%copilot_session --list", "text/markdown")
    assert "Churn &lt;b&gt;Q3&lt;/b&gt; study" in rich, "a title's HTML would be rendered"
    starred = kernel.execute("%copilot_session --star ctl-src")
    assert starred.stdout.strip() == "Starred ctl-src: listed first, and clean-ups keep it."

    forked = kernel.execute("%copilot_session --fork ctl-fork ctl-src --at 2")
    assert forked.error is None, forked.error_line
    assert forked.stdout.splitlines() == [
        "Forked ctl-src into ctl-fork: 2 turns (turns 1 to 2 of ctl-src).",
        "ctl-fork is the active session now.",
    ]
    reply = _say(kernel, "four date")
    assert "I received 3 user messages." in reply
    assert "The first was: &quot;one apricot&quot;" in reply or 'first was: "one apricot"' in reply
    history = _result(kernel, "%copilot_session --history ctl-fork")
    assert "two banana" in history
    assert "three cherry" not in history
    again = kernel.execute("%copilot_session --fork ctl-fork ctl-src")
    assert "exists already" in error_shown(again)

    rewound = kernel.execute("%copilot_session --rewind 1 --yes")
    assert rewound.stdout.strip() == (
        "Removed 1 turn from ctl-fork (“four date”), from its history and from disk; 2 turns left."
    )
    assert "four date" not in _result(kernel, "%copilot_session --history")

    compacted = kernel.execute("%copilot_session --compact")
    assert compacted.error is None, compacted.error_line
    assert compacted.stdout.startswith("Compacted ctl-fork: "), compacted.stdout
    assert "The history keeps every turn." in compacted.stdout
    reply = _say(kernel, "after compacting")
    assert "after compacting" in reply
    history = _result(kernel, "%copilot_session --history")
    assert history.startswith("Session ctl-fork: 3 turns")
    assert "one apricot" in history

    _a_clean_up_keeps_the_recent_the_starred_and_the_active(kernel, data_dir)


def _a_clean_up_keeps_the_recent_the_starred_and_the_active(kernel: Kernel, data_dir: Path) -> None:
    kernel.execute("%copilot_session ctl-other")  # the active one is spared anyway
    recent = kernel.execute("%copilot_session --cleanup 0 --dry-run").stdout
    assert "ctl-fork (used in the last hour)" in recent, recent
    backdate_sessions(data_dir)
    preview = kernel.execute("%copilot_session --cleanup 0 --dry-run").stdout
    assert "ctl-src (starred)" in preview
    assert "ctl-other (the active session)" in preview
    assert preview.endswith("Dry run: nothing deleted.\n")
    refused = kernel.execute("%copilot_session --cleanup 0")  # nbclient: no input to ask on
    assert refused.error_line.startswith("UsageError: Nothing deleted: this frontend takes no")
    kernel.execute("%copilot_session --cleanup 0 --yes")
    listed = _result(kernel, "%copilot_session --list")
    assert "Churn <b>Q3</b> study" in listed  # ctl-src, starred
    assert "ctl-fork" not in listed


THREE_CELLS = [
    ("cell-a", "alpha question"),
    ("cell-b", "beta question"),
    ("cell-c", "gamma question"),
]


def _run_all(kernel: Kernel, cells: list[tuple[str, str]]) -> list[str]:
    """Run the cells in order, each with its cell id, as JupyterLab's Run All does."""
    shown = []
    for cell_id, prompt in cells:
        result = kernel.execute(copilot_cell(prompt), cell_id=cell_id)
        assert result.error is None, result.error_line
        shown.append(result.stdout + str(reply_of(result)["data"]["text/plain"]))
    return shown


def test_run_all_on_a_reopened_notebook_replays_every_cell_and_a_second_run_asks_the_last_again(
    start_kernel: Callable[[], Kernel], echo_model: EchoModelServer
) -> None:
    requests = len(echo_model.reported_usage)
    kernel = start_kernel()
    kernel.execute("%copilot_session ctl-rerun")
    _run_all(kernel, THREE_CELLS)
    kernel.shutdown()

    fresh = start_kernel()  # the notebook reopened tomorrow: Run All
    assert fresh.execute("%copilot_session ctl-rerun").error is None
    again = _run_all(fresh, THREE_CELLS)
    assert all("From the history" in shown for shown in again), again
    assert "Asked again" not in "".join(again)
    assert len(echo_model.reported_usage) - requests == 3, "Run All sent a prompt again"

    last = fresh.execute(copilot_cell("gamma question"), cell_id="cell-c")  # run again here
    assert "Asked again: this cell's earlier reply (turn 3) is replaced." in last.stdout
    assert "I received 3 user messages." in str(reply_of(last)["data"]["text/plain"])
    assert len(echo_model.reported_usage) - requests == 4
    usage = fresh.execute("%copilot_session --usage").stdout  # the turns held now: three
    assert usage.startswith("ctl-rerun: ")
    assert " · 3 requests (echo)" in usage, usage
    history = _result(fresh, "%copilot_session --history")
    assert history.startswith("Session ctl-rerun: 3 turns")
    for _, prompt in THREE_CELLS:
        assert history.count(f"\n{prompt}\n") == 1  # asked once, replies quote it
    new = fresh.execute(copilot_cell("delta question"), cell_id="cell-d")
    assert "I received 4 user messages." in str(reply_of(new)["data"]["text/plain"])


def test_a_cell_run_again_after_a_rewind_asks_anew_and_keeps_the_turn_asked_since(
    start_kernel: Callable[[], Kernel],
) -> None:
    kernel = start_kernel()
    kernel.execute("%copilot_session ctl-rewound")
    _run_all(kernel, [("cell-a", "alpha question"), ("cell-x", "xray question")])
    assert kernel.execute("%copilot_session --rewind 1 --yes").error is None  # X's turn goes
    _run_all(kernel, [("cell-y", "yankee question")])  # turn 2 is Y's now
    rerun = kernel.execute(copilot_cell("xray question"), cell_id="cell-x")
    assert rerun.error is None, rerun.error_line
    assert "Asked again" not in rerun.stdout
    reply = str(reply_of(rerun)["data"]["text/plain"])
    assert 'I received 3 user messages. The first was: "alpha question"' in reply
    history = _result(kernel, "%copilot_session --history")
    assert history.startswith("Session ctl-rewound: 3 turns")
    assert history.index("alpha question") < history.index("yankee question")
    assert history.index("yankee question") < history.index("xray question")
    assert "I received 2 user messages." in history  # Y's reply is kept


def test_an_edited_earlier_cell_is_refused_with_the_two_choices(
    start_kernel: Callable[[], Kernel],
) -> None:
    kernel = start_kernel()
    kernel.execute("%copilot_session ctl-edit")
    _run_all(kernel, THREE_CELLS)
    edited = kernel.execute(copilot_cell("beta question, reworded"), cell_id="cell-b")
    line = error_shown(edited)
    assert line == (
        "UsageError: This cell asked turn 2 of ctl-edit, which has 1 later turn, and its "
        "text has changed: run it with --fork NEW to ask it in a new session NEW that holds "
        "turn 1, or with --again to ask it as a new turn at the end."
    )
    (shown,) = edited.displays  # the cell keeps what it had
    kept = str(shown["data"]["text/plain"])
    assert 'The last was: "beta question"' in kept
    first = error_shown(kernel.execute(copilot_cell("alpha, reworded"), cell_id="cell-a"))
    assert "to ask it in a new, empty session NEW," in first

    forked = kernel.execute(
        copilot_cell("beta question, reworded", "--fork ctl-edit-b"), cell_id="cell-b"
    )
    assert "Forked ctl-edit into ctl-edit-b (its turn 1)" in forked.stdout
    reply = str(reply_of(forked)["data"]["text/plain"])
    assert "I received 2 user messages." in reply
    assert _result(kernel, "%copilot_session --history ctl-edit").startswith(
        "Session ctl-edit: 3 turns"
    )

    kernel.execute("%copilot_session ctl-edit")
    sent = kernel.execute(copilot_cell("alpha question, reworded", "--again"), cell_id="cell-a")
    assert "I received 4 user messages." in str(reply_of(sent)["data"]["text/plain"])
