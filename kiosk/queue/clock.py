"""Time, injected: the domain asks a clock, never the system directly."""

from __future__ import annotations

import time
from datetime import UTC, datetime, tzinfo
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current time as UTC epoch seconds."""

    def now(self) -> float:
        """Seconds since the epoch (UTC)."""


class SystemClock:
    """The machine's wall clock."""

    def now(self) -> float:
        """Seconds since the epoch (UTC)."""
        return time.time()


class FakeClock:
    """A clock that tests and the day simulator move by hand."""

    def __init__(self, start: datetime | float) -> None:
        self._now = start.timestamp() if isinstance(start, datetime) else float(start)

    def now(self) -> float:
        """Seconds since the epoch (UTC)."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward (or back, with a negative number)."""
        self._now += seconds

    def set(self, when: datetime) -> None:
        """Jump to an aware datetime."""
        if when.tzinfo is None:
            raise ValueError("FakeClock.set needs an aware datetime")
        self._now = when.timestamp()


def to_local(epoch: float, tz: tzinfo) -> datetime:
    """An epoch timestamp as an aware datetime in the hall's zone."""
    return datetime.fromtimestamp(epoch, UTC).astimezone(tz)
