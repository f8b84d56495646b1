"""What a value's class is, read without running the class's own code.

``type(value)`` cannot lie the way ``value.__class__`` can, and the
attributes are read through ``type``'s own descriptors, so a metaclass
property named ``__mro__`` or ``__module__`` is never called.
"""

from __future__ import annotations

from typing import Any

_MRO: Any = type.__dict__["__mro__"]
_MODULE: Any = type.__dict__["__module__"]
_QUALNAME: Any = type.__dict__["__qualname__"]


def _plain(text: object, default: str) -> str:
    return str.__str__(text) if isinstance(text, str) and issubclass(type(text), str) else default


def module_of(cls: type) -> str:
    """The module that defines ``cls`` (``pandas``, ``builtins``), or ``""``."""
    try:
        return _plain(_MODULE.__get__(cls), "")
    except Exception:  # noqa: BLE001 - a class without a module
        return ""


def name_of(cls: type) -> str:
    """The qualified name of ``cls`` within its module (``Outer.Inner``)."""
    try:
        return _plain(_QUALNAME.__get__(cls), "?")
    except Exception:  # noqa: BLE001
        return "?"


def qualified_name(cls: type) -> str:
    """``mymod.Thing``; the builtins go by their bare names (``int``)."""
    module = module_of(cls)
    name = name_of(cls)
    return name if module in ("", "builtins", "__main__") else f"{module}.{name}"


def short_name(cls: type) -> str:
    """The last part of the class's name (``OrderedDict``)."""
    return name_of(cls).rpartition(".")[2]


def ancestry(cls: type) -> tuple[tuple[str, str], ...]:
    """``(top-level package, name)`` of ``cls`` and each of its bases, in method order."""
    try:
        mro = tuple(_MRO.__get__(cls))
    except Exception:  # noqa: BLE001
        mro = (cls,)
    return tuple((module_of(c).partition(".")[0], name_of(c)) for c in mro)
