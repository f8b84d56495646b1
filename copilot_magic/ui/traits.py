"""The ``CopilotMagics`` traits, made from the one declaration in :mod:`copilot_magic.config`.

Every setting becomes a configurable trait (``%config CopilotMagics.NAME = ...``)
whose default comes from its environment variable and whose value is checked
when set: a value that cannot be used is refused with one sentence, and the
setting keeps its old value.
"""

from __future__ import annotations

import os
from typing import Any

from traitlets import Bool, Enum, Float, HasTraits, Int, TraitError, TraitType, Unicode, default
from traitlets.traitlets import MetaHasTraits

from copilot_magic.config import (
    check_value,
    declaration,
    default_of,
    environment_value,
    kind_of,
    setting_names,
)
from copilot_magic.values import Secret


class SecretString(TraitType[Secret, str | Secret]):
    """A string trait whose value never prints (``%config`` shows asterisks)."""

    default_value = Secret("")
    info_text = "a secret string"

    def validate(self, obj: Any, value: Any) -> Secret:
        if isinstance(value, Secret):
            return value
        if isinstance(value, str):
            return Secret(value)
        self.error(obj, value)
        raise AssertionError  # error() raises TraitError


_TRAIT_TYPES: dict[type, type[TraitType[Any, Any]]] = {
    str: Unicode,
    int: Int,
    float: Float,
    bool: Bool,
    Secret: SecretString,
}


def _checked(base: type[TraitType[Any, Any]], name: str) -> type[TraitType[Any, Any]]:
    """``base`` with the setting's own check: a bad value raises one readable sentence."""

    def validate(self: TraitType[Any, Any], obj: Any, value: Any) -> Any:
        try:
            value = base.validate(self, obj, value)  # type: ignore[attr-defined]
        except TraitError:
            if not check_value(name, value):
                raise
        problem = check_value(name, value)
        if problem:
            raise TraitError(f"CopilotMagics.{problem}")
        return value

    return type(f"Checked{base.__name__}", (base,), {"validate": validate})


def _trait(name: str) -> TraitType[Any, Any]:
    declared = declaration(name)
    help_text = f"{declared.help} Env: {declared.env}."
    if declared.choices:
        made: TraitType[Any, Any] = _checked(Enum, name)(
            declared.choices, default_of(name), help=help_text
        )
    else:
        made = _checked(_TRAIT_TYPES[kind_of(name)], name)(default_of(name), help=help_text)
    return made.tag(config=True)


def _environment_default(name: str) -> Any:
    def read(self: Any) -> Any:
        return environment_value(name, os.environ)

    return default(name)(read)


def settings_traits() -> type[HasTraits]:
    """A class with one trait per setting, to be mixed into ``CopilotMagics``."""
    namespace: dict[str, Any] = {"__doc__": "The settings of copilot_magic, as traits."}
    for name in setting_names():
        namespace[name] = _trait(name)
        namespace[f"_default_{name}"] = _environment_default(name)
    made = MetaHasTraits("CopilotSettings", (HasTraits,), namespace)
    assert isinstance(made, type)
    assert issubclass(made, HasTraits)
    return made
