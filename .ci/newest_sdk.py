"""Helpers for `make e2e-newest-sdk`: the tests with the newest github-copilot-sdk in range.

    python .ci/newest_sdk.py requirement            the SDK's requirement in pyproject.toml
    python .ci/newest_sdk.py constraints OUT        .ci/constraints.txt without the SDK's pin
    python .ci/newest_sdk.py report RUNTIME         one line: the versions this run uses

Standard library only (Python 3.11+), run by the second environment's Python.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib.metadata import distributions, version
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONSTRAINTS = REPO / ".ci" / "constraints.txt"
SDK = "github-copilot-sdk"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _name(line: str) -> str | None:
    match = _NAME.match(line.split("#", 1)[0])
    return _normal(match.group(1)) if match else None


def requirement() -> str:
    """``github-copilot-sdk>=...,<...`` as pyproject.toml declares it (markers dropped)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for dependency in project["dependencies"]:
        if _name(dependency) == SDK:
            return "".join(dependency.split(";", 1)[0].split())
    raise SystemExit(f"pyproject.toml declares no {SDK} dependency")


def pins() -> dict[str, str]:
    """Package name (normalised) -> pinned version, from .ci/constraints.txt."""
    found = {}
    for line in CONSTRAINTS.read_text().splitlines():
        name = _name(line)
        if name and "==" in line:
            found[name] = line.split("#", 1)[0].split("==", 1)[1].strip()
    return found


def constraints(out: Path) -> None:
    """Write .ci/constraints.txt to ``out`` without its github-copilot-sdk line."""
    lines = CONSTRAINTS.read_text().splitlines(keepends=True)
    kept = [line for line in lines if _name(line) != SDK]
    if len(kept) == len(lines):
        print(f"note: .ci/constraints.txt pins no {SDK}", file=sys.stderr)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(kept))


def report(runtime: str) -> str:
    """The run's versions, and every installed package that is off its pin."""
    sdk = version(SDK)
    pinned = pins()
    cli = subprocess.run(
        [runtime, "--version"], capture_output=True, text=True, timeout=60, check=True
    ).stdout.strip()
    cli = cli.splitlines()[0].rstrip(".") if cli else "(no version printed)"
    spec = requirement()[len(SDK) :]
    pin = pinned.get(SDK)
    against = f"CI pins {pin}" if pin else "no pin in .ci/constraints.txt"
    line = f"newest-SDK run: {SDK} {sdk} (newest in {spec}; {against}), runtime {cli}"
    moved = sorted(
        f"{_normal(d.metadata['Name'])} {d.version} (pinned {pinned[_normal(d.metadata['Name'])]})"
        for d in distributions()
        if _normal(d.metadata["Name"]) != SDK
        and _normal(d.metadata["Name"]) in pinned
        and d.version != pinned[_normal(d.metadata["Name"])]
    )
    return line + "\nother packages off their pins: " + (", ".join(moved) or "none")


def main(argv: list[str]) -> None:
    match argv:
        case ["requirement"]:
            print(requirement())
        case ["constraints", out]:
            constraints(Path(out))
        case ["report", runtime]:
            print(report(runtime))
        case _:
            raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
