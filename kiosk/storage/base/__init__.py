"""What the queue asks of storage: the contract every store implements (SQLite today; PostgreSQL
can stand beside it). Nothing here says how a store answers, only what.

- `Store.transaction()` is one write transaction: what is written inside it is durable once the
  block has been left, and nothing of it is kept when the block raises. Transactions never
  interleave: two "call next" at two counters cannot see the same waiting ticket.
- `Store.reads` sees every committed write; `Store.quick` is for small reads along an index that
  a hot path makes (a store may answer them from the same place as `reads`).
- Rows come out as the dataclasses of kiosk/queue/models.py (or plain dicts for listings).
- A store that cannot write (disk full, database away) raises `Unavailable` (503).
- Several processes may serve one hall on a shared database (PostgreSQL): `publisher` brings every
  process's committed events to each one's bus, `exclusive` runs a piece of work in one of them.

The contract is split by concern (queue.py, reports.py, online.py, store.py); every name is
imported from here.
"""
from kiosk.storage.base.online import (
    BookingQueries,
    SurveyQueries,
)
from kiosk.storage.base.queue import (
    AlertQueries,
    Body,
    CounterQueries,
    DeskRow,
    Lane,
    PrintQueries,
    RecordQueries,
    StaffQueries,
    TicketQueries,
)
from kiosk.storage.base.reports import (
    WAIT_BUCKETS,
    DayQueries,
    DayRange,
    GroupStats,
    HistoryQueries,
    RegencyQueries,
    ReportQueries,
    ServiceInfo,
    WaitStats,
    waits_by_hour,
)
from kiosk.storage.base.store import (
    Publisher,
    Queries,
    Store,
)

__all__ = [
    "AlertQueries",
    "Body",
    "BookingQueries",
    "CounterQueries",
    "DayQueries",
    "DayRange",
    "DeskRow",
    "GroupStats",
    "HistoryQueries",
    "Lane",
    "PrintQueries",
    "Publisher",
    "Queries",
    "RecordQueries",
    "RegencyQueries",
    "ReportQueries",
    "ServiceInfo",
    "StaffQueries",
    "Store",
    "SurveyQueries",
    "TicketQueries",
    "WAIT_BUCKETS",
    "WaitStats",
    "waits_by_hour",
]
