"""The contract: a hall's store as a whole (transactions, reads, reports, events across processes)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Protocol

from kiosk.queue.models import Event
from kiosk.support.ratelimit import SharedBuckets

if TYPE_CHECKING:
    from kiosk.queue.events import EventBus

from kiosk.storage.base.online import BookingQueries, SurveyQueries
from kiosk.storage.base.queue import (
    AlertQueries,
    Body,
    CounterQueries,
    PrintQueries,
    RecordQueries,
    StaffQueries,
    TicketQueries,
)
from kiosk.storage.base.reports import DayQueries, HistoryQueries, RegencyQueries, ReportQueries


class Queries(TicketQueries, CounterQueries, PrintQueries, AlertQueries, RecordQueries, StaffQueries,
              HistoryQueries, RegencyQueries, DayQueries, BookingQueries, SurveyQueries, Protocol):
    """Everything the domain reads and writes, on one connection or transaction."""

    def savepoint(self, name: str) -> AbstractAsyncContextManager[None]:
        """A nested transaction: on error only its own writes are undone."""

    def announce(self, events: Sequence[Event]) -> None:
        """Inside a write transaction: the events and notices it publishes once committed (a store
        shared by several processes tells the others with the commit)."""


class Publisher(Protocol):
    """Where the writer hands each transaction's events once it has committed."""

    @property
    def heard(self) -> int:
        """Transactions of other processes of the hall heard of so far (0 with one process)."""

    def committed(self, events: Sequence[Event]) -> None:
        """Publish a committed transaction's events (in commit order with every other's)."""


class Store(Protocol):
    """A hall's database."""

    path: str  # where it is, for log lines
    failures: int  # writes undone so far (what was read inside them may not be true)
    buckets: SharedBuckets | None  # rate limits shared by the hall's processes (None: one process)

    async def open(self) -> None:
        """Connect and bring the schema up to date."""

    async def close(self) -> None:
        """Close the connections."""

    def transaction(self) -> AbstractAsyncContextManager[Queries]:
        """One write transaction; durable once the block has been left."""

    @property
    def reads(self) -> Queries:
        """Reads that see every committed write."""

    @property
    def quick(self) -> Queries:
        """Small indexed reads for hot paths."""

    @property
    def reports(self) -> ReportQueries:
        """Reads for reports, apart from everything else (a long report never delays the queue)."""

    async def regency_halls(self) -> dict[str, str | None]:
        """Every hall of the database (by id) and its stored hall document (JSON, None if none yet):
        a regency's view; an SQLite database holds one hall."""

    def reports_of(self, hall: str) -> ReportQueries:
        """The report reads of a hall of this database (read only; SQLite: its one hall)."""

    def publisher(self, bus: EventBus) -> Publisher:
        """How committed events reach `bus`: one process publishes its own as they commit; with
        several processes on one database, the others' events and notices arrive too, and all in
        commit order."""

    async def exclusive(self, name: str, body: Body) -> None:
        """Run `body()` in one process of the hall at a time (a printer's spool, the outbox): wait
        while another process runs it, take over when that one dies; until `body` returns or this
        is cancelled."""

    def runs_here(self, name: str) -> bool:
        """Whether this process runs the exclusive work `name` now."""
