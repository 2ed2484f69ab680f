"""All of Giliran's SQL on one connection: the parts by concern, put together."""

from __future__ import annotations

from collections.abc import Sequence

from kiosk.queue.models import Event
from kiosk.storage.sqlite.alerts import AlertSql
from kiosk.storage.sqlite.bookings import BookingSql
from kiosk.storage.sqlite.counters import CounterSql
from kiosk.storage.sqlite.days import DaySql
from kiosk.storage.sqlite.history import HistorySql
from kiosk.storage.sqlite.printing import PrintSql
from kiosk.storage.sqlite.records import RecordSql
from kiosk.storage.sqlite.regency import RegencySql
from kiosk.storage.sqlite.staff import StaffSql
from kiosk.storage.sqlite.survey import SurveySql
from kiosk.storage.sqlite.tickets import TicketSql


class SqliteQueries(TicketSql, CounterSql, PrintSql, AlertSql, RecordSql, StaffSql, HistorySql,
                    RegencySql, DaySql, BookingSql, SurveySql):
    """The `Queries` of the SQLite store (see kiosk/storage/base/ for the contract)."""

    announced: Sequence[Event] = ()

    def announce(self, events: Sequence[Event]) -> None:
        """What this transaction publishes once committed (one process: nobody else to tell)."""
        self.announced = events
