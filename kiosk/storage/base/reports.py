"""The contract: whole days, history and the read side of reports (a regency's view included)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from kiosk.queue.models import Ticket

if TYPE_CHECKING:
    pass

class DayQueries(Protocol):
    """A whole day as it happened, for the day simulator (its measures, and replaying a real day)."""

    async def day_tickets(self, day: str) -> list[Ticket]:
        """Every ticket of a day, in the order they were issued."""

    async def day_visits(self, day: str) -> list[dict[str, Any]]:
        """Every visit of a day at a counter (ticket_id, service, counter_id, called_at, started_at,
        ended_at, outcome), in the order they ended."""

    async def day_messages(self, day: str, stage: str) -> list[dict[str, Any]]:
        """The outbox rows of one stage for a day's tickets (ticket_id, channel, address, created_at,
        state), oldest first."""


class HistoryQueries(Protocol):
    """Whole past days written at once (`giliran demo-history`), through the same triggers as live writes."""

    async def next_ticket_id(self) -> int:
        """The id the next ticket would get."""

    async def days_with_tickets(self, first: str, last: str) -> set[str]:
        """Days between two dates that already have tickets."""

    async def add_history(self, tickets: Sequence[dict[str, Any]], visits: Sequence[dict[str, Any]],
                          transfers: Sequence[dict[str, Any]], later_visits: Sequence[dict[str, Any]],
                          audit: Sequence[tuple[float, str, str, str]]) -> None:
        """Past tickets (as before any transfer), their visits, the transfers (new service), the visits
        after them, and counters' pause/resume actions (at, username, action, counter)."""


WAIT_BUCKETS = (300, 600, 900, 1800, 3600)  # the waiting-time classes' upper bounds in seconds (exclusive)


@dataclass(frozen=True)
class DayRange:
    """The hall's local days from `first` to `last` (YYYY-MM-DD), both included."""

    first: str
    last: str


@dataclass(frozen=True)
class ServiceInfo:
    """A service as reports join it: its agency and its waiting-time target in seconds."""

    code: str
    agency: str
    target_s: int


@dataclass(frozen=True)
class WaitStats:
    """The waits of the stays called in a group (whole seconds; p50/p90 by nearest rank)."""

    called: int
    within_target: int
    p50: int
    p90: int
    total_s: int

    @classmethod
    def of_counted(cls, waits: Sequence[tuple[int, int, int]]) -> WaitStats:
        """The statistics of (wait, how many, how many within target) rows in wait order: p50 and p90
        are the waits at their nearest ranks, ceil(p x n / 100), among all of them."""
        n = sum(c for _, c, _ in waits)
        k50, k90, seen, p50, p90 = -(-50 * n // 100), -(-90 * n // 100), 0, 0, 0
        for wait, count, _ in waits:
            if seen < k50 <= seen + count:
                p50 = wait
            if seen < k90 <= seen + count:
                p90 = wait
            seen += count
        return cls(called=n, within_target=sum(ok for _, _, ok in waits), p50=p50, p90=p90,
                   total_s=sum(w * c for w, c, _ in waits))


def waits_by_hour(rows: Iterable[Sequence[Any]]) -> tuple[dict[str, WaitStats], WaitStats | None]:
    """Per hour and in total, the wait statistics of (wait, hour, how many, how many within target)
    rows given in wait order (a report by hour of the day reads them in one walk of the waits)."""
    per_hour: dict[str, list[tuple[int, int, int]]] = {}
    per_wait: dict[int, list[int]] = {}
    for wait, hour, count, ok in rows:
        per_hour.setdefault(str(hour), []).append((int(wait), int(count), int(ok)))
        cell = per_wait.setdefault(int(wait), [0, 0])
        cell[0] += int(count)
        cell[1] += int(ok)
    total = WaitStats.of_counted([(w, c, ok) for w, (c, ok) in per_wait.items()]) if per_wait else None
    return {hour: WaitStats.of_counted(waits) for hour, waits in per_hour.items()}, total


@dataclass(frozen=True)
class GroupStats:
    """A group's counts and sums (`report_counts`' columns) and its wait statistics (None: nobody called)."""

    counts: dict[str, int]
    waits: WaitStats | None


class ReportQueries(Protocol):
    """Reads for reports (docs/reports.md): never on the writer, never holding it. `scope`, when
    given, keeps only the stays and visits of those service codes (an agency-limited supervisor).
    `by` is service, agency, counter, officer, day, hour or total."""

    async def summary(self, days: DayRange, by: str, services: Sequence[ServiceInfo], scope: Sequence[str] | None,
                      default_target_s: int, offset_s: int) -> tuple[dict[str, GroupStats], GroupStats]:
        """Per group (by service, agency, counter, officer, day, or local hour with the hall's UTC
        offset `offset_s`) and in total: counts, duration sums and wait statistics, from one snapshot.
        `services` gives agencies and targets; a service not among them has no agency and the default target."""

    async def arrivals(self, days: DayRange, offset_s: int, scope: Sequence[str] | None) -> list[tuple[str, int, int]]:
        """(day, local hour, tickets issued), for the heat map of arrivals."""

    async def served_hours(self, days: DayRange, offset_s: int, scope: Sequence[str] | None) -> dict[int, int]:
        """Per local hour of the day, the stays served then."""

    async def wait_classes(self, days: DayRange, scope: Sequence[str] | None) -> dict[str, list[int]]:
        """Per service, called stays per waiting-time class (< 5, 5-10, 10-15, 15-30, 30-60, >= 60 minutes)."""

    async def counter_days(self, days: DayRange, scope: Sequence[str] | None) -> list[dict[str, Any]]:
        """Per counter and day: first call, last visit end and busy seconds."""

    async def pauses(self, start: float, end: float) -> list[tuple[str, str, float]]:
        """(counter, 'pause' or 'resume', time) between two times, in order."""

    async def longest_waits(self, day: str) -> dict[str, float]:
        """Per service, when today's longest-waiting ticket not yet called joined its queue."""

    async def survey_sums(self, days: DayRange, scope: Sequence[str] | None
                          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The satisfaction survey (docs/survey.md), from one snapshot: per (service, agency, counter,
        officer, month) the responses' `responses`, per element `sums` and `counts` of the values and
        `dist` (how many gave 1, 2, 3, 4); and per (service, counter, officer, month) the tickets
        `served` (the survey's population)."""

    async def survey_comments(self, days: DayRange, scope: Sequence[str] | None, limit: int) -> list[dict[str, Any]]:
        """The survey's suggestions, newest first: `day`, `service`, `comment` (never who wrote them)."""

    async def survey_profile(self, days: DayRange, scope: Sequence[str] | None) -> list[tuple[str, str, int]]:
        """Respondents per profile answer: (gender|age|education|occupation, value or '', count); ages in bands."""


class RegencyQueries(Protocol):
    """What a regency sees of its halls (read only)."""

    async def halls_day(self, day: str, now: float) -> list[dict[str, Any]]:
        """Every hall of the database with its figures for `day` (issued, waiting, at counters,
        served, no-shows, mean wait until called, longest current wait), by hall name."""
