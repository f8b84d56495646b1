"""``python -m copilot_magic``: the ``copilot-magic`` command."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
