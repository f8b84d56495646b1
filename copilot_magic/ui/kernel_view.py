"""The IPython kernel as Copilot's tools and references see it.

:class:`ShellKernel` gives the person's variables (not modules or IPython's
own names), the cells run so far with their results, the last error a cell
raised (a mistyped magic does not count), and runs approved code on the
kernel's main thread. The code is shown whole before anything is asked: in a
notebook as a highlighted code block, in a terminal as indented text
(:mod:`~copilot_magic.views.consent`); code with hidden characters is shown
with them written out, with the line that says it did not run. Asking goes
through ``input()``: the kernel's standard input, which JupyterLab, Notebook 7,
VS Code and terminal IPython all answer; where nobody can answer (a headless
run) the answer is no. The code, the question and what the code prints show
where the reply had got to: under the reply so far (which says "waiting for
you" while the person is asked), with the rest of the reply under them.
"""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from IPython.core.error import StdinNotImplementedError, UsageError
from IPython.display import display

from copilot_magic.ui.frontend_link import FrontendLink, FrontendProbe
from copilot_magic.values import mask_secrets

if TYPE_CHECKING:
    from copilot_magic.ui.live_reply import LiveReply  # %load_ext stays quick

_IPYTHON_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython"})
QUESTION = "Run this code in the kernel? [y/N] "


class ErrorWatch:
    """Remembers the last exception a cell raised (``post_run_cell``), skipping UsageErrors:
    a mistyped ``%%copilot`` line is not the failure a person asks about."""

    def __init__(self) -> None:
        self.last: BaseException | None = None

    def __call__(self, result: Any) -> None:
        error = getattr(result, "error_in_exec", None)
        if isinstance(error, BaseException) and not isinstance(error, UsageError):
            self.last = error

    def register(self, shell: Any) -> None:
        shell.events.register("post_run_cell", self)

    def unregister(self, shell: Any) -> None:
        if self in shell.events.callbacks.get("post_run_cell", []):
            shell.events.unregister("post_run_cell", self)


class CellWatch:
    """Remembers the id of the cell running now (``pre_run_cell``), when the frontend sends one
    (JupyterLab, Notebook 7 and VS Code do; a terminal and nbclient do not), and the
    ``%%copilot`` cells that ran in this kernel (``ran``)."""

    def __init__(self) -> None:
        self.cell_id: str | None = None
        self.ran: set[str] = set()

    def ran_here(self, cell_id: str | None) -> None:
        """Remember that the ``%%copilot`` cell ``cell_id`` ran in this kernel."""
        if cell_id:
            self.ran.add(cell_id)

    def __call__(self, info: Any) -> None:
        cell_id = getattr(info, "cell_id", None)
        self.cell_id = str(cell_id) if cell_id else None

    def register(self, shell: Any) -> None:
        shell.events.register("pre_run_cell", self)

    def unregister(self, shell: Any) -> None:
        if self in shell.events.callbacks.get("pre_run_cell", []):
            shell.events.unregister("pre_run_cell", self)


class ShellKernel:
    """:class:`~copilot_magic.kernel.tools.Kernel` for an IPython shell."""

    def __init__(
        self,
        shell: Any,
        errors: ErrorWatch,
        limit: int,
        secrets: Sequence[str] = (),
        *,
        rich: bool = False,
        frontends: FrontendProbe | None = None,
        cell_id: str | None = None,
        apply_at_once: bool = False,
    ) -> None:
        self.shell = shell
        self.errors = errors
        self.limit = limit
        self.secrets = secrets  # masked in what a run prints, as in what the model gets
        self.rich = rich  # a notebook: code is shown as a highlighted block, not as text
        self.frontends = frontends  # finds the notebook frontend that ran the cell
        self.cell_id = cell_id  # the running cell's, when the frontend sent one
        self.apply_at_once = apply_at_once  # notebook_edits "apply"
        self.reply: LiveReply | None = None  # the reply streaming in the cell, if any
        self._link: FrontendLink | None = None
        self._probed = False

    def notebook(self) -> FrontendLink | None:
        """The frontend that ran the cell, if one that can act in the notebook answers
        (asked once, when the turn first needs it)."""
        if not self._probed and self.frontends is not None:
            self._probed = True
            self._link = self.frontends.open(self.cell_id)
            if self._link is not None:
                self._link.apply_at_once = self.apply_at_once
        return self._link if self._link is not None and self._link.present else None

    def let_go(self) -> None:
        """End the cell's link to its frontend (any review still open is withdrawn)."""
        link, self._link = self._link, None
        if link is not None:
            link.close()

    def variables(self) -> Mapping[str, object]:
        hidden = getattr(self.shell, "user_ns_hidden", {})
        return {
            name: value
            for name, value in self.shell.user_ns.items()
            if not name.startswith("_")
            and name not in _IPYTHON_NAMES
            and name not in hidden
            and not isinstance(value, types.ModuleType)
        }

    def inputs(self) -> Sequence[str]:
        found = self.shell.user_ns.get("In", [])
        return found if isinstance(found, list) else []

    def outputs(self) -> Mapping[int, object]:
        found = self.shell.user_ns.get("Out", {})
        return found if isinstance(found, dict) else {}

    def running(self) -> int | None:
        """The number of the cell running now (IPython keeps its input before running it;
        its ``execution_count`` is already the next one's since IPython 9)."""
        inputs = self.inputs()
        return len(inputs) - 1 if len(inputs) > 1 else None

    def cells(self) -> Sequence[tuple[int, str, object | None]]:
        inputs, outputs, running = self.inputs(), self.outputs(), self.running()
        return [
            (number, source, outputs.get(number))
            for number, source in enumerate(inputs)
            if number > 0 and number != running
        ]

    def last_error(self) -> BaseException | None:
        if self.errors.last is not None:
            return self.errors.last
        found = getattr(sys, "last_value", None)  # a failure from before the extension loaded
        return (
            found
            if isinstance(found, BaseException) and not isinstance(found, UsageError)
            else None
        )

    def traceback_of(self, error: BaseException) -> str:
        """``error``'s traceback as the notebook showed it under the cell, without colours:
        IPython's own frame left out, a cell named as IPython names it (``Cell In[6], line
        2``), a few lines of source around each line that ran."""
        from IPython.core.ultratb import AutoFormattedTB

        try:
            plain = AutoFormattedTB(  # type: ignore[no-untyped-call]
                mode="Context", theme_name="nocolor", tb_offset=1
            )
        except TypeError:  # IPython 8 names the colours a scheme
            plain = AutoFormattedTB(  # type: ignore[call-arg, no-untyped-call]
                mode="Context", color_scheme="NoColor", tb_offset=1
            )
        return str(plain.text(type(error), error, error.__traceback__))

    def show(self, code: str, refusal: str = "") -> None:
        """Show the whole of ``code`` (and ``refusal``, the line that says why it does not
        run): a highlighted block in a notebook, indented text in a terminal."""
        from copilot_magic.views.consent import consent_html, consent_text  # %load_ext stays quick

        if self.rich:
            bundle = {
                "text/html": consent_html(code, refusal),
                "text/plain": consent_text(code, refusal),
            }
            display(bundle, raw=True)  # type: ignore[no-untyped-call]
        else:
            print(consent_text(code, refusal), flush=True)

    def refuse(self, code: str, reason: str) -> None:
        if self.reply is not None:
            self.reply.give_way()
        self.show(code, reason)

    def approve(self, code: str) -> bool:
        answer: str | None = None
        with self._waiting_for_you():
            self.show(code)
            with contextlib.suppress(StdinNotImplementedError, EOFError):
                answer = input(QUESTION)
        if answer is None:
            print("Not run: this frontend cannot ask (no standard input).", flush=True)
            return False
        if answer.strip().lower() in ("y", "yes"):
            return True
        print("Not run.", flush=True)
        return False

    def _waiting_for_you(self) -> contextlib.AbstractContextManager[None]:
        """While the person is asked: the reply so far says so, and its rest goes below."""
        return self.reply.waiting_for_you() if self.reply is not None else contextlib.nullcontext()

    def run(self, code: str, cell_id: str | None = None) -> str:
        from copilot_magic.kernel.execution import run_code  # %load_ext stays quick

        link = self.notebook() if cell_id else None
        if link is None or cell_id is None:
            return self._printed(run_code(code, self.shell.user_ns).text(self.limit))
        return self._run_under(link, cell_id, code)

    def _printed(self, text: str) -> str:
        output = mask_secrets(text, self.secrets)
        if output:
            print(output, end="" if output.endswith("\n") else "\n", flush=True)
        return output

    def _run_under(self, link: FrontendLink, cell_id: str, code: str) -> str:
        """Run ``code`` as notebook cell ``cell_id``: what it prints, displays (a figure too)
        and returns shows under that cell, numbered as this cell; here if it cannot."""
        from IPython.utils.capture import capture_output

        from copilot_magic.kernel.execution import cell_outputs, run_code

        with capture_output(stdout=False, stderr=False, display=True) as captured:
            ran = run_code(code, self.shell.user_ns)
            _show_figures()

        def masked(text: str) -> str:
            return mask_secrets(text, self.secrets)

        shown = [(found.data, found.metadata) for found in captured.outputs]
        value = self.shell.display_formatter.format(ran.value) if ran.has_value else None
        count = self.running()
        outputs = cell_outputs(ran, shown, value, count, masked)
        displays = [f"Displayed: {data.get('text/plain', sorted(data))}\n" for data, _ in shown]
        text = masked(ran.text(self.limit) + "".join(displays))
        if link.show_outputs(cell_id, outputs, count):
            return text
        self._printed(ran.text(self.limit))  # no cell to show it under: here
        for found in captured.outputs:
            found.display()  # type: ignore[no-untyped-call]
        return text


def _show_figures() -> None:
    """Show the figures the code drew, as the inline backend does at a cell's end (else
    they would show under the ``%%copilot`` cell when it ends)."""
    inline = sys.modules.get("matplotlib_inline.backend_inline")
    if inline is not None:
        inline.flush_figures()
