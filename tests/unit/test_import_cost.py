"""Importing the package is cheap: neither the Copilot SDK nor IPython is loaded."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
import copilot_magic
print(json.dumps({
    "version": copilot_magic.__version__,
    "sdk": sorted(m for m in sys.modules if m == "copilot" or m.startswith("copilot.")),
    "ipython": sorted(m for m in sys.modules if m == "IPython" or m.startswith("IPython.")),
    "traitlets": "traitlets" in sys.modules,
}))
"""


def test_import_does_not_load_the_sdk_or_ipython() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(result.stdout)
    assert loaded["version"]
    assert loaded["sdk"] == []
    assert loaded["ipython"] == []
    assert loaded["traitlets"] is False


LOAD_EXT_PROBE = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
heavy_before = {m for m in ("nbformat", "jsonschema", "ipywidgets") if m in sys.modules}
shell.run_line_magic("load_ext", "copilot_magic")
heavy = ("nbformat", "jsonschema", "ipywidgets")
print(json.dumps(sorted(m for m in heavy if m in sys.modules and m not in heavy_before)))
"""


def test_load_ext_does_not_import_nbformat_or_widgets() -> None:
    """nbformat (with jsonschema) and ipywidgets cost seconds: they load when first used."""
    result = subprocess.run(
        [sys.executable, "-c", LOAD_EXT_PROBE],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
