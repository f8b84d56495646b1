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
