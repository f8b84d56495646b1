"""``python -m copilot_magic``: the ``copilot-magic`` command."""

from __future__ import annotations

from copilot_magic.cli import main

raise SystemExit(main())
