"""Test helpers shipped with the package: the echo model (a deterministic stand-in model)."""
