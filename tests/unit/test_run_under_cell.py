"""A cell Copilot runs from the notebook (run_cell, after the person's Run) shows what it
printed, displayed and returned under that cell, through the frontend; where the frontend
cannot show it there, under the running ``%%copilot`` cell, as before."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from copilot_magic.ui.kernel_view import ErrorWatch, ShellKernel

SECRET = "sk-unit-run-under-0000"


class FakeLink:
    """A fake frontend link: it records the outputs it is asked to show under a cell."""

    present = True
    apply_at_once = False

    def __init__(self) -> None:
        self.shows = True
        self.shown: list[tuple[str, Sequence[Mapping[str, Any]], int | None]] = []

    def show_outputs(
        self, cell_id: str, outputs: Sequence[Mapping[str, Any]], execution_count: int | None
    ) -> bool:
        self.shown.append((cell_id, outputs, execution_count))
        return self.shows


class FakeProbe:
    """A fake probe: the frontend that ran the cell is ``link``."""

    def __init__(self, link: FakeLink) -> None:
        self.link = link

    def open(self, cell_id: str | None) -> FakeLink:
        return self.link


def test_what_a_run_prints_displays_and_returns_shows_under_its_cell_or_here(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    ip.run_cell("x = 41")
    link = FakeLink()
    probe: Any = FakeProbe(link)
    kernel = ShellKernel(ip, ErrorWatch(), 4000, [SECRET], frontends=probe, cell_id="asking")
    code = (
        "from IPython.display import HTML, display\n"
        f"print('{SECRET}')\ndisplay(HTML('<b>shown</b>'))\nx + 1"
    )
    told = kernel.run(code, "target")
    ((cell_id, outputs, count),) = link.shown
    assert cell_id == "target"
    assert [output["output_type"] for output in outputs] == [
        "stream",
        "display_data",
        "execute_result",
    ]
    assert SECRET not in str(outputs) + told
    assert outputs[1]["data"]["text/html"] == "<b>shown</b>"
    assert outputs[2]["data"]["text/plain"] == "42"
    assert count == kernel.running()
    assert "Out: 42" in told
    assert "Displayed: <IPython.core.display.HTML object>" in told
    assert capsys.readouterr().out == ""  # nothing under the %%copilot cell
    link.shows = False  # the cell is gone, or the page
    kernel.run("print('here instead')", "target")
    assert capsys.readouterr().out == "here instead\n"
