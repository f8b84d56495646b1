"""Untrusted Markdown to safe HTML, with code blocks highlighted and ready to copy.

Model output is untrusted. It is rendered by markdown-it-py with raw HTML
disabled (HTML in a reply shows as text), code blocks are highlighted by
Pygments (which escapes the code), and the result is sanitised again by nh3,
which keeps class names (inert) and a table cell's ``text-align`` and nothing
that runs: no script, event handler or ``javascript:`` link reaches the page.
Images are not rendered (``![alt](url)`` shows as a link): a picture loads by
itself, and its address could carry parts of the conversation to anyone.

Only after that cleaning does each code block get its bar: the language, a
Copy button (the one piece of script, ours, never the model's) and, for
Python, the ``%copilot_code`` line that puts the reply's code into a new cell.
Which blocks are Python is decided once, by :func:`is_python`, for the
highlighting, the bar and ``%copilot_code`` alike. Nothing here needs IPython.
"""

from __future__ import annotations

import ast
import html
import re
import textwrap
import warnings
from functools import lru_cache
from typing import TYPE_CHECKING

import nh3

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

CODE_CLASS = "copilot-code"
# Fences marked as Python: their blocks are code, whatever they hold (see is_python).
PYTHON_FENCES = frozenset({"python", "py", "python3", "ipython", "ipython3"})
# A line of IPython's own syntax: a magic, shell escape or help (%time f(), !ls, ?df), the
# same assigned (files = !ls), or help after a name (df.head?).
_IPYTHON_LINE = re.compile(r"\s*(?:[%!?]|[\w.,()\[\] ]+=\s*[!%]|[%\w.\[\]]+\?\??\s*$)")
_ALLOWED_TAGS = (nh3.ALLOWED_TAGS | {"input", "span"}) - {"img"}
_ALLOWED_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "code": {"class"},
    "pre": {"class", "data-lang"},
    "span": {"class"},
    "input": {"type", "checked", "disabled"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
_BLOCK = re.compile(rf'<pre class="{CODE_CLASS}" data-lang="([^"]*)">(.*?)</pre>', re.DOTALL)
# Copies the block's text as shown (the highlighted spans' text), then says so for a moment.
COPY_SCRIPT = (
    "navigator.clipboard.writeText(this.closest('.copilot-code-block').querySelector('pre')"
    ".innerText).then(()=>{this.textContent='Copied';"
    "setTimeout(()=>{this.textContent='Copy'},1500)})"
)


@lru_cache(maxsize=256)
def highlighted(code: str, language: str) -> str:
    """``code`` as HTML spans of Pygments token classes (escaped text when the language is
    unknown). Cached: a streaming reply renders its earlier blocks again on every update."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(language or "python", stripnl=False, ensurenl=False)
    except ClassNotFound:
        return html.escape(code)
    return str(highlight(code, lexer, HtmlFormatter(nowrap=True)))


def fence_language(info: str) -> str:
    """The language a fence is marked with (``"python"`` for ```` ```Python title ````), or
    ``""`` for an unmarked fence."""
    words = info.split()
    return words[0].lower() if words else ""


def is_python(language: str, code: str) -> bool:
    """Whether a code block marked ``language`` (``""``: unmarked) is Python code for a cell.

    A block marked as Python always is. An unmarked block is when it is valid IPython
    input: Python, where magics (``%timeit``, ``%%bash``), shell escapes (``!pip``,
    ``files = !ls``) and ``?`` help count. A traceback, program output or echoed text
    in an unmarked block is not code: it stays in the reply, shown as plain text.
    """
    if language in PYTHON_FENCES:
        return True
    return not language and bool(code.strip()) and _parses_as_ipython(code)


@lru_cache(maxsize=256)
def _parses_as_ipython(code: str) -> bool:
    """Whether IPython would compile ``code``: its own syntax is read as its input
    transformer reads it, without IPython (not imported outside ``ui``, and 150 ms to import
    for the command line); tests/unit/test_code_blocks.py holds the two side by side. Console
    prompts (``>>>``) are not taken off: a session transcript mixes in its output. Cached, as
    a streaming reply renders its blocks again on every update."""
    source = textwrap.dedent(code)
    lines = source.splitlines()
    if next((line for line in lines if line.strip()), "").startswith("%%"):
        return True  # a cell magic: IPython hands the rest of the cell to it
    as_python = "\n".join(
        line[: len(line) - len(line.lstrip())] + "pass" if _IPYTHON_LINE.match(line) else line
        for line in lines
    )
    return _compiles(source) or _compiles(as_python)


def _compiles(source: str) -> bool:
    try:
        with warnings.catch_warnings():  # no "invalid escape sequence" under a reply
            warnings.simplefilter("ignore")
            ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):  # untrusted text
        return False
    return True


def _fence(code: str, language: str, _attributes: str) -> str:
    """markdown-it's highlight hook: the whole ``<pre>`` of a fenced or indented block (an
    unmarked block is Python or plain text, as :func:`is_python` says)."""
    language = fence_language(language)
    if not language:
        language = "python" if is_python(language, code) else "text"
    return (
        f'<pre class="{CODE_CLASS}" data-lang="{html.escape(language)}"><code>'
        f"{highlighted(code, language)}</code></pre>"
    )


@lru_cache(maxsize=1)
def markdown_renderer() -> MarkdownIt:
    """The Markdown parser (markdown-it-py, ~40 ms to import: loaded on first use)."""
    from markdown_it import MarkdownIt

    renderer = (
        MarkdownIt("commonmark", {"html": False, "linkify": False, "highlight": _fence})
        .enable("table")
        .enable("strikethrough")
        .disable("image")
    )
    # An indented block goes through the same hook as a fence without a language.
    renderer.add_render_rule(
        "code_block",
        lambda _self, tokens, idx, _options, _env: _fence(tokens[idx].content, "text", ""),
    )
    return renderer


def markdown_to_safe_html(text: str, code_command: str = "") -> str:
    """Render untrusted Markdown to HTML that is safe to put in a page.

    Each code block gets a bar with its language and a Copy button; a Python
    block also names ``code_command`` (``%copilot_code 3``) when one is given.
    """
    clean = nh3.clean(
        markdown_renderer().render(text),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
    )
    return _BLOCK.sub(lambda block: _code_block(block, code_command), clean)


def _code_block(block: re.Match[str], code_command: str) -> str:
    language, body = block.group(1), block.group(2)
    label = html.escape(html.unescape(language)) if language not in ("", "text") else "code"
    bar = f'<span class="copilot-code-lang">{label}</span>'
    if code_command and language in PYTHON_FENCES:
        bar += (
            f'<span class="copilot-code-hint"><code>{html.escape(code_command)}</code> puts this '
            "reply's code in a new cell</span>"
        )
    bar += f'<button class="copilot-copy" type="button" onclick="{COPY_SCRIPT}">Copy</button>'
    return (
        f'<div class="copilot-code-block"><div class="copilot-code-bar">{bar}</div>'
        f'<pre class="{CODE_CLASS}" data-lang="{language}">{body}</pre></div>'
    )
