"""Copy the tables of the last runs into the README: ``make tables``.

The test run writes ``artifacts/reliability.md`` and ``make bench`` writes
``artifacts/performance.md``; each goes between its pair of markers in the
README, ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``. A table whose
report does not exist yet is left as it is.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TABLES = ("reliability", "performance")


def update_readme(readme: Path, name: str, report: Path) -> None:
    """Put ``report`` between the README's ``name`` markers."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = readme.read_text()
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{readme} has no {start} ... {end} markers")
    body = report.read_text().strip()
    readme.write_text(pattern.sub(lambda _: f"{start}\n{body}\n{end}", text))


def main(readme: Path) -> None:
    for name in TABLES:
        report = REPO / "artifacts" / f"{name}.md"
        if report.is_file():
            update_readme(readme, name, report)
            print(f"{readme}: {name} table from {report}")
        else:
            print(f"{readme}: no {report} yet; {name} table left as it is")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "README.md"))
