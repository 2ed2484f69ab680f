"""Reading one table of a hall document with messages that name the file, the entry and the key."""

from __future__ import annotations

from typing import Any, NoReturn

from kiosk.hall.config import ConfigError


class Reader:
    """Checks one table of the file, naming where a problem is."""

    def __init__(self, source: str, where: str, table: Any) -> None:
        self.source = source
        self.where = where
        if not isinstance(table, dict):
            self.fail(None, "must be a table")
        self.table: dict[str, Any] = table

    def fail(self, key: str | None, problem: str) -> NoReturn:
        """Raise ConfigError naming this table and key."""
        place = f"{self.where}, key '{key}'" if key else self.where
        raise ConfigError(f"{self.source}: {place}: {problem}", where=self.where, key=key, problem=problem)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., *, required: bool = False) -> Any:
        """The value of `key`, of one of the kinds given; `default` when it is left out."""
        if key not in self.table:
            if required or default is ...:
                self.fail(key, "is missing")
            return default
        value = self.table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            self.fail(key, f"must be {kind_name(kinds)}, not {value!r}")
        if not isinstance(value, kinds):
            self.fail(key, f"must be {kind_name(kinds)}, not {value!r}")
        return value

    def text(self, key: str, default: Any = ...) -> Any:
        """A text value that is not blank."""
        value = self.get(key, str, default)
        if isinstance(value, str) and not value.strip():
            self.fail(key, "must not be empty")
        return value

    def number(self, key: str, default: float | None) -> float | None:
        """A whole or decimal number as a float (None when left out and the default is None)."""
        value = self.get(key, (int, float), default)
        return None if value is None else float(value)

    def unknown_keys(self, allowed: set[str]) -> None:
        """Refuse keys this table does not know (a typo should not be silently ignored)."""
        for key in self.table:
            if key not in allowed:
                self.fail(key, f"is not a known key (known: {', '.join(sorted(allowed))})")

    def entries(self, key: str, required: bool = False) -> list[Any]:
        """A list of tables (an empty list when left out and not required)."""
        return list(self.get(key, list, required=True) if required else self.get(key, list, []))


def kind_name(kinds: tuple[type, ...]) -> str:
    """How a message names the kinds of value a key takes."""
    names = {str: "text", int: "a whole number", float: "a number", bool: "true or false", list: "a list"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)
