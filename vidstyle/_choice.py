"""Enums whose members users name on the command line or in recipes."""

from __future__ import annotations

import enum
from typing import TypeVar

from .errors import UsageError

_C = TypeVar("_C", bound="Choice")


def _normal(text: str) -> str:
    return text.strip().lower().replace("_", "-")


class Choice(enum.Enum):
    """An enum parsed from user text: case-insensitive, ``_`` and ``-`` alike,
    by value, name or one of ``aliases()``; anything else is a one-line
    UsageError that names the option (``label()``) and lists the choices."""

    @classmethod
    def label(cls) -> str:
        return "value"

    @classmethod
    def aliases(cls) -> dict[str, "Choice"]:
        return {}

    @classmethod
    def choices(cls) -> list[str]:
        """The names to list in messages (and ``--help``): the values unless a subclass says otherwise."""
        return [str(m.value) for m in cls]

    @classmethod
    def parse(cls: type[_C], value: "str | _C") -> _C:
        if isinstance(value, cls):
            return value
        key = _normal(str(value))
        for alias, member in cls.aliases().items():
            if _normal(alias) == key:
                return member  # type: ignore[return-value]
        for member in cls:
            if key in (_normal(str(member.value)), _normal(member.name)):
                return member
        names = ", ".join(cls.choices())
        raise UsageError(f"unknown {cls.label()} {value!r} (choose from {names})")
