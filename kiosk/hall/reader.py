"""Reading one table of a hall document with messages that name the file, the entry and the key."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any, NoReturn

from kiosk.hall.config import ConfigError

MAX_NAME = 120  # characters in a name (hall, agency, service, counter, kiosk, zone)
MAX_TEXT = 500  # characters in a free text (ticket footer, running text, phrasing)
LONG_NUMBER = re.compile(r"\d{10,}")  # a number this long in a name is a mistake (or an attack)


def control_characters(text: str, *, newlines: bool = False) -> list[str]:
    """The control and formatting characters in `text` (ESC, GS, bidi overrides...) that a printer,
    a display or a log line would act on; newlines and tabs only where the text may hold them."""
    allowed = "\n\t" if newlines else ""
    return [f"U+{ord(ch):04X}" for ch in text
            if unicodedata.category(ch) in ("Cc", "Cf") and ch not in allowed]


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
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(key, f"must be a finite number, not {value!r}")
        if isinstance(value, bool) and bool not in kinds:
            self.fail(key, f"must be {kind_name(kinds)}, not {value!r}")
        if not isinstance(value, kinds):
            self.fail(key, f"must be {kind_name(kinds)}, not {value!r}")
        return value

    def text(self, key: str, default: Any = ..., *, max_len: int = MAX_TEXT, newlines: bool = False) -> Any:
        """A text value that is not blank, without control characters, at most `max_len` long."""
        value = self.get(key, str, default)
        if isinstance(value, str):
            self.check_text(key, value, max_len=max_len, newlines=newlines)
            if not value.strip():
                self.fail(key, "must not be empty")
        return value

    def free_text(self, key: str, default: str) -> str:
        """A text that may be empty (a footer, a running text), checked like any text."""
        value: str = self.get(key, str, default)
        self.check_text(key, value, max_len=MAX_TEXT, newlines=True)
        return value

    def check_text(self, key: str, value: str, *, max_len: int, newlines: bool) -> None:
        """Refuse control characters (a printer would obey ESC or GS) and overlong text."""
        if bad := control_characters(value, newlines=newlines):
            self.fail(key, f"must not contain control characters ({', '.join(sorted(set(bad))[:5])})")
        if len(value) > max_len:
            self.fail(key, f"must be at most {max_len} characters")

    def name(self, key: str, default: Any = ...) -> Any:
        """A name shown on pages, spoken on the display and printed on tickets."""
        value = self.text(key, default, max_len=MAX_NAME)
        if isinstance(value, str) and LONG_NUMBER.search(value):
            self.fail(key, "must not contain a number of 10 or more digits")
        return value

    def number(self, key: str, default: float | None, low: float | None = None,
               high: float | None = None) -> float | None:
        """A finite whole or decimal number as a float, within [low, high] when given (None when
        left out and the default is None)."""
        value = self.get(key, (int, float), default)
        if value is None:
            return None
        number = float(value)
        if not math.isfinite(number):
            self.fail(key, f"must be a finite number, not {value!r}")
        if (low is not None and number < low) or (high is not None and number > high):
            self.fail(key, f"must be between {low:g} and {high:g}")
        return number

    def whole(self, key: str, default: int, low: int, high: int) -> int:
        """A whole number within [low, high]."""
        value: int = self.get(key, int, default)
        if not low <= value <= high:
            self.fail(key, f"must be between {low} and {high}")
        return value

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
