"""Copy the tables of the last runs into their pages under ``docs/``: ``make tables``.

The test run writes ``artifacts/reliability.md`` and ``make bench`` writes
``artifacts/performance.md``; each goes into ``docs/reliability.md`` and
``docs/performance.md`` (the README links to them), between the page's pair of
markers, ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``. A table whose
report does not exist yet is left as it is. The README's configuration table
is made from the settings' one declaration (``copilot_magic.config``).

    python tests/readme_tables.py [DOCS]    # DOCS: the folder of the pages (default docs/)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TABLES = ("reliability", "performance")


def _markers(name: str) -> re.Pattern[str]:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    return re.compile(re.escape(start) + "\n(.*?)\n?" + re.escape(end), re.DOTALL)


def between_markers(page: Path, name: str) -> str:
    """What the page holds between its ``name`` markers."""
    found = _markers(name).search(page.read_text())
    if found is None:
        raise SystemExit(f"{page} has no <!-- {name}:start --> ... <!-- {name}:end --> markers")
    return found.group(1).strip()


def put_between_markers(page: Path, name: str, body: str) -> None:
    between_markers(page, name)  # the markers are there
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = _markers(name).sub(lambda _: f"{start}\n{body.strip()}\n{end}", page.read_text())
    page.write_text(text)


def update_page(page: Path, name: str, report: Path) -> None:
    """Put ``report`` between the page's ``name`` markers."""
    put_between_markers(page, name, report.read_text())


def markdown_table() -> str:
    """The README's configuration table: trait, environment variable, default, meaning."""
    from copilot_magic.config import declaration, default_of, setting_names
    from copilot_magic.values import Secret

    rows = [
        "| `%config CopilotMagics.…` | environment | default | what it does |",
        "|---|---|---|---|",
    ]
    for name in setting_names():
        declared, default = declaration(name), default_of(name)
        shown = "empty" if default in ("", Secret("")) else f"`{default!r}`"
        rows.append(f"| `{name}` | `{declared.env}` | {shown} | {declared.help} |")
    return "\n".join(rows)


def main(docs: Path) -> None:
    put_between_markers(REPO / "README.md", "configuration-table", markdown_table())
    print("README.md: configuration table from copilot_magic.config")
    from copilot_magic.operations.table import reference_table

    put_between_markers(REPO / "README.md", "operations-table", reference_table())
    print("README.md: operations table from copilot_magic.operations.table")
    for name in TABLES:
        page = docs / f"{name}.md"
        report = REPO / "artifacts" / f"{name}.md"
        if report.is_file():
            update_page(page, name, report)
            print(f"{page}: {name} table from {report}")
        else:
            print(f"{page}: no {report} yet; {name} table left as it is")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "docs"))
