"""The architecture, checked: imports run one way, and each outside library has its one home.

Layers, lowest first: the base (settings, errors, the output metadata, the
testing stand-ins), ``runtime`` and ``kernel`` (side by side: the SDK's door,
and what Copilot may see of a kernel, which never import each other),
``sessions``, ``views``, ``operations`` (the table of operations on stored
sessions, which both front ends offer), then the two front ends ``ui`` and
``cli``. A module
may import its own layer or lower ones, at module level or inside a function
alike; the package ``__init__`` and
``__main__`` are the entry points and may import anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "copilot_magic"
BASE = {"config", "errors", "output_metadata", "owner_only", "values", "testing"}
RANKS = {"runtime": 1, "kernel": 1, "sessions": 2, "views": 3, "operations": 4, "ui": 5, "cli": 5}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    """``copilot_magic.sessions.store`` -> ``sessions``; entry points -> ``entry``."""
    parts = module.split(".")
    if len(parts) == 1 or (parts[1] not in BASE and parts[1] not in RANKS):
        return "entry"  # the package itself: __init__, __main__, __version__
    return parts[1]


def _rank(layer: str) -> int:
    return 0 if layer in BASE else RANKS[layer]


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in it (lazy imports count too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _own(imports: set[str]) -> set[str]:
    return {name for name in imports if name.startswith("copilot_magic.")}


@pytest.mark.parametrize("path", _modules(), ids=_name)
def test_imports_never_run_upward(path: Path) -> None:
    layer = _layer(_name(path))
    if layer == "entry":
        return
    upward = sorted(name for name in _own(_imports(path)) if _wrong_way(layer, _layer(name)))
    assert upward == [], f"{_name(path)} ({layer}) imports upward or sideways: {upward}"


def _wrong_way(layer: str, target: str) -> bool:
    """Upward, or from one front end into the other (ui and cli share a rank)."""
    if target in ("entry", layer):
        return False
    return _rank(target) > _rank(layer) or (_rank(target) == _rank(layer) > 0)


def test_the_sessions_domain_never_imports_presentation() -> None:
    """The issue's own wording of the rule: nothing in sessions or runtime imports views/ui/cli."""
    for path in _modules():
        if _layer(_name(path)) in ("sessions", "runtime"):
            presentation = {n for n in _own(_imports(path)) if _layer(n) in ("views", "ui", "cli")}
            assert presentation == set(), f"{_name(path)} imports {sorted(presentation)}"


@pytest.mark.parametrize(
    ("library", "home"),
    [
        ("copilot", ("copilot_magic.runtime.sdk",)),  # the SDK: one adapter
        ("IPython", ("copilot_magic.ui.",)),
        ("ipywidgets", ("copilot_magic.ui.",)),
        ("traitlets", ("copilot_magic.ui.",)),
        ("nbformat", ("copilot_magic.views.export",)),
        ("nh3", ("copilot_magic.views.markdown",)),
        ("markdown_it", ("copilot_magic.views.markdown",)),
        ("pygments", ("copilot_magic.views.markdown",)),
        ("rich", ("copilot_magic.views.terminal",)),
        ("anywidget", ("copilot_magic.ui.session_list",)),
        ("filelock", ("copilot_magic.runtime.served",)),
    ],
)
def test_each_library_is_imported_only_in_its_home(library: str, home: tuple[str, ...]) -> None:
    strays = []
    for path in _modules():
        name = _name(path)
        uses = {i for i in _imports(path) if i == library or i.startswith(f"{library}.")}
        if uses and not name.startswith(home) and _layer(name) != "entry":
            strays.append(name)
    assert strays == [], f"{library} is imported outside {home}: {strays}"


def test_the_entry_points_import_nothing_heavy_at_module_level() -> None:
    """``import copilot_magic`` stays cheap: the package imports no library at the top."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    top = {
        alias.name.split(".")[0]
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert top <= {"__future__", "contextlib", "importlib", "threading", "typing"}
