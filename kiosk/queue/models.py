"""Rows as dataclasses (what every store hands to the domain) and the names of states and roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WAITING = "waiting"
CALLED = "called"
SERVING = "serving"
DONE = "done"
NO_SHOW = "no_show"
CANCELLED = "cancelled"
EXPIRED = "expired"

STATES = (WAITING, CALLED, SERVING, DONE, NO_SHOW, CANCELLED, EXPIRED)
AT_COUNTER = (CALLED, SERVING)

STATE_LABELS = {
    WAITING: "menunggu",
    CALLED: "dipanggil",
    SERVING: "sedang dilayani",
    DONE: "selesai",
    NO_SHOW: "tidak hadir",
    CANCELLED: "dibatalkan",
    EXPIRED: "kedaluwarsa",
}

PRIORITY_REASONS = {
    "lansia": "Lansia",
    "disabilitas": "Penyandang disabilitas",
    "ibu_hamil": "Ibu hamil",
    "ibu_balita": "Ibu dengan balita",
}

ROLES = ("admin", "supervisor", "officer", "regency")
HALL_ROLES = ("admin", "supervisor", "officer")  # who works in the hall; `regency` only reads across halls

# Alert channels whose addresses are phone numbers (erased when their day is over).
PHONE_CHANNELS = ("sms", "whatsapp")


@dataclass(frozen=True)
class Ticket:
    """One queue number on one day."""

    id: int
    token: str
    day: str
    prefix: str
    seq: int
    number: str
    service: str
    priority: bool
    priority_reason: str | None
    state: str
    issued_at: float
    called_at: float | None
    started_at: float | None
    finished_at: float | None
    counter_id: str | None
    recalls: int
    transfers: int
    phone: str | None
    kiosk: str | None
    place: float  # the ticket's place in its queue: the moment it joined (see docs/queue-rules.md)
    deferred: bool = False  # its citizen let others go ahead once (TUNDA, see docs/queue-rules.md)


@dataclass(frozen=True)
class CounterState:
    """What a counter is doing besides its current ticket."""

    counter_id: str
    paused: bool
    priority_streak: int
    active_day: str | None


@dataclass(frozen=True)
class User:
    """A staff account."""

    id: int
    username: str
    role: str
    counters: tuple[str, ...]
    disabled: bool
    password_hash: str
    agencies: tuple[str, ...] = ()  # a supervisor limited to these agencies' reports (empty: all)

    def may_work(self, counter_id: str) -> bool:
        """Whether this user may act on that counter."""
        return self.role in ("admin", "supervisor") or counter_id in self.counters


@dataclass(frozen=True)
class Event:
    """A public happening, committed before it is published."""

    id: int
    type: str
    data: dict[str, Any]
    at: float
    public: bool = True


@dataclass(frozen=True)
class PrintJob:
    """A ticket waiting to come out of a printer (or already out)."""

    id: int
    printer_id: str
    ticket_id: int
    kind: str
    state: str
    attempts: int
    partial: bool
    last_error: str | None
    created_at: float
    sent_at: float | None
    told_unprinted_at: float | None = None  # the kiosk said "belum tercetak" then (see PrintJobs.told_unprinted)
