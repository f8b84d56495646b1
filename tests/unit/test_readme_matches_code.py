"""The README's generated parts match the code: the configuration table, the table of
session operations, and the module map (docs/development.md, linked from the README)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from readme_tables import between_markers, markdown_table  # noqa: E402

from copilot_magic.config import setting_names  # noqa: E402

README = REPO / "README.md"
DEVELOPMENT = REPO / "docs" / "development.md"


def test_the_configuration_table_is_the_one_declaration_of_settings() -> None:
    """``make tables`` writes it; this fails when a setting changes and the README did not."""
    assert between_markers(README, "configuration-table") == markdown_table()
    for name in setting_names():
        assert f"| `{name}` |" in markdown_table()


def test_the_operations_table_is_the_one_declaration_of_operations() -> None:
    """``make tables`` writes it from the table the magic's options and the verbs come from."""
    from copilot_magic.cli import build_parser
    from copilot_magic.operations.table import OPERATIONS, reference_table
    from copilot_magic.ui.arguments import SESSION_OPTIONS

    assert between_markers(README, "operations-table") == reference_table()
    flags = {name for names, _ in SESSION_OPTIONS for name in names}
    help_text = build_parser().format_help()
    for op in OPERATIONS:
        assert f"--{op.name}" in flags
        assert f"    {op.name} " in help_text or f"    {op.name} (" in help_text
        assert f"`%copilot_session {op.magic_form()}`" in reference_table()


def test_the_module_map_names_every_module_and_only_modules_that_exist() -> None:
    mapped = between_markers(DEVELOPMENT, "module-map")
    package = REPO / "copilot_magic"
    for path in package.rglob("*.py"):
        if path.name != "__init__.py" or path.parent.name == "cli":
            assert f" {path.name} " in mapped, f"{path.relative_to(REPO)} is not in the module map"
    for folder in ("runtime", "sessions", "views", "ui", "cli", "testing"):
        assert f"  {folder}/ " in mapped
    first_words = [line.split()[0] for line in mapped.splitlines() if line.split()]
    listed = {word for word in first_words if word.endswith(".py") and "/" not in word}
    existing = {path.name for path in package.rglob("*.py")}
    assert listed <= existing, f"the map names modules that do not exist: {listed - existing}"
