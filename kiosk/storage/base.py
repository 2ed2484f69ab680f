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
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from kiosk.queue.models import CounterState, Event, PrintJob, Ticket, User
from kiosk.support.ratelimit import SharedBuckets

if TYPE_CHECKING:
    from kiosk.queue.events import EventBus

Body = Callable[[], Coroutine[Any, Any, None]]

Lane = tuple[int, str, bool, float]  # a waiting ticket as the wait forecast reads it: id, service, priority, place
DeskRow = tuple[int, int | None, str | None, float | None]  # a working counter: streak, its visit's ticket,
#                                                           service and call time (None: no visit)


class TicketQueries(Protocol):
    """Tickets: issuing, the waiting order, counters' current tickets, the day's end."""

    async def issue_counts(self, day: str, code: str) -> tuple[int, int, int]:
        """For a new ticket of a service (whose code is its prefix): (next sequence number,
        tickets counting against the quota, tickets waiting), in one statement."""

    async def issued_counts(self, day: str) -> dict[str, int]:
        """Per prefix, today's tickets that count against the quota."""

    async def insert_ticket(self, *, token: str, day: str, prefix: str, seq: int, number: str, service: str,
                            priority: bool, priority_reason: str | None, issued_at: float, phone: str | None,
                            kiosk: str | None, place: float) -> Ticket:
        """Insert a new waiting ticket at `place` in its queue."""

    async def ticket_by_token(self, token: str) -> Ticket | None:
        """The ticket with this citizen token."""

    async def ticket_by_id(self, ticket_id: int) -> Ticket | None:
        """The ticket with this id."""

    async def update_ticket(self, ticket: Ticket, expect_state: str, **fields: Any) -> Ticket:
        """Change a ticket that is still in `expect_state`; raises if it moved meanwhile."""

    async def counter_ticket(self, counter_id: str) -> Ticket | None:
        """The ticket a counter has called or is serving."""

    async def counter_tickets(self) -> dict[str, Ticket]:
        """Every counter's current ticket."""

    async def oldest_waiting(self, day: str, services: Iterable[str], priority: bool) -> Ticket | None:
        """The first-come waiting ticket of one class across several services."""

    async def open_counts(self, day: str) -> dict[str, int]:
        """Per service, how many of today's tickets are waiting, called or being served."""

    async def waiting_counts(self, day: str, service: str | None = None) -> dict[str, int]:
        """Per service (or just `service`), how many wait today."""

    async def waiting_count(self, day: str, service: str) -> int:
        """How many wait today for one service."""

    async def tickets_by_ids(self, ids: Iterable[int]) -> dict[int, Ticket]:
        """These tickets, by id."""

    async def waiting_order(self, day: str, service: str, upto_place: float) -> list[int]:
        """Ids of a service's waiting tickets in the order they will be called (see ahead_of), as far
        as place `upto_place` (tickets behind the last one asked about are not read)."""

    async def waiting_list(self, day: str, services: Iterable[str]) -> list[Ticket]:
        """Today's waiting tickets of these services, by their place in the queue."""

    async def ticket_by_number(self, day: str, number: str) -> Ticket | None:
        """The ticket of `day` with this number (numbers are unique within a day)."""

    async def ended_tickets(self, day: str, services: Iterable[str], state: str, limit: int) -> list[Ticket]:
        """`day`'s tickets of these services that ended in `state` (e.g. no_show), latest first."""

    async def ahead_of(self, ticket: Ticket) -> int:
        """Waiting tickets of the same service that will be called before this one."""

    async def waiting_lanes(self, day: str, services: Iterable[str], limit: int) -> list[Lane]:
        """The first `limit` waiting tickets of each class (priority, normal) of each service, as
        (id, service, priority, place), in no particular order: what the wait forecast reads."""

    async def day_flow(self, day: str, services: Iterable[str], since: float) -> dict[str, tuple[int, int, int]]:
        """Per service of these, today's tickets called (at a counter or finished there), cancelled,
        and priority ones issued since `since` (the forecast's priority arrivals and drop-outs)."""

    async def last_place(self, day: str) -> float | None:
        """The latest place any ticket of `day` took (None before the day's first ticket)."""

    async def set_place(self, ticket: Ticket, place: float) -> Ticket:
        """Move a waiting ticket to another place in its queue."""

    async def lane_after(self, ticket: Ticket, limit: int) -> list[Ticket]:
        """The waiting tickets of the same service and class (priority or not) behind this one, in
        the order they will be called, at most `limit`."""

    async def expire_before(self, day: str) -> int:
        """End earlier days' tickets that still wait or were called as expired (one being served
        when midnight passes stays, so the officer can finish it) and forget their phone numbers."""

    async def set_phone(self, ticket_id: int, phone: str) -> None:
        """Keep the citizen's phone on the ticket (erased when the day is over)."""


class CounterQueries(Protocol):
    """Counters' state and the log of visits."""

    async def log_service(self, ticket: Ticket, *, ended_at: float, outcome: str, username: str | None) -> None:
        """Record one visit of a ticket at a counter. A transfer logs its visit before the ticket
        changes service (the reports' next stay begins when that visit ended)."""

    async def recent_durations(self, day: str, last: int = 20, service: str | None = None
                               ) -> dict[str, tuple[int, float]]:
        """Per service (or just `service`), the count and sum of the last finished visits' durations today."""

    async def recent_visits(self, day: str, services: Iterable[str], last: int) -> dict[str, list[float]]:
        """Per service, the durations (call to end, every outcome) of its last `last` visits today,
        newest first."""

    async def usual_visits(self, first_day: str, before_day: str, utc_offset_s: int
                           ) -> dict[tuple[str, int], tuple[int, float, float]]:
        """Per (service, local hour of the call), the count, sum and sum of squares of visit durations
        (call to end, every outcome) on days from `first_day` up to, not including, `before_day`."""

    async def served_today(self, day: str) -> dict[str, tuple[int, float]]:
        """Per counter, today's finished visits and their total duration."""

    async def counter_state(self, counter_id: str) -> CounterState:
        """A counter's state (a fresh counter is open, not paused)."""

    async def counter_states(self) -> dict[str, CounterState]:
        """All counters' states that were ever stored."""

    async def working_counters(self, day: str) -> set[str]:
        """Counters that called someone on `day` and are not paused."""

    async def desk_states(self, day: str, counter_ids: Iterable[str]) -> dict[str, DeskRow]:
        """Of these counters, those working on `day` (called someone that day, not paused): their
        priority streak and visit in progress (ticket id, service, called at), as the forecast reads them."""

    async def save_counter_state(self, state: CounterState) -> None:
        """Store a counter's state."""


class PrintQueries(Protocol):
    """Durable print jobs."""

    async def add_print_job(self, printer_id: str, ticket_id: int, kind: str, at: float) -> PrintJob:
        """Queue a ticket for a printer."""

    async def next_print_job(self, printer_id: str) -> PrintJob | None:
        """The oldest job a printer still has to print."""

    async def print_job(self, job_id: int) -> PrintJob | None:
        """One print job."""

    async def start_print_job(self, job_id: int) -> None:
        """An attempt begins: until it is recorded, a crash leaves the job 'printing' (it may be out)."""

    async def finish_print_job(self, job_id: int, *, state: str, at: float, error: str | None,
                               partial: bool) -> None:
        """Record a job's outcome: sent, or still pending after a failed attempt."""

    async def job_for_ticket(self, ticket_id: int) -> PrintJob | None:
        """The first print job of a ticket."""

    async def tell_unprinted(self, job_id: int, at: float, *, drop: bool) -> None:
        """Note that the citizen was told the job is not printed; with `drop`, a job not being printed
        right now is given up (state 'dropped')."""

    async def expire_print_jobs_before(self, day: str) -> None:
        """Jobs of earlier days' tickets are not printed any more."""

    async def pending_print_counts(self) -> dict[str, int]:
        """Per printer, jobs waiting to be printed."""


class AlertQueries(Protocol):
    """Who follows a ticket, the outbox of messages, and messages that came in."""

    async def subscribe(self, ticket_id: int, channel: str, address: str, at: float) -> bool:
        """Follow a ticket on a channel; True when this is new (or was switched off before)."""

    async def replace_subscriptions(self, ticket_id: int, channel: str, keep: str, reason: str) -> int:
        """End a ticket's subscriptions on a channel other than `keep` (one phone per ticket), with
        their unsent messages; returns how many ended."""

    async def subscriptions(self, ticket_id: int) -> list[tuple[str, str]]:
        """(channel, address) of everyone following a ticket."""

    async def unsubscribe_address(self, channel: str, address: str) -> int:
        """Stop every subscription of a chat or phone (e.g. a chat that blocked the bot)."""

    async def chat_tickets(self, channel: str, address: str) -> list[Ticket]:
        """Tickets a chat follows, newest first."""

    async def approach_candidates(self, day: str, service: str, head: int) -> list[Ticket]:
        """Among the first `head` waiting tickets of each class of a service, those someone follows
        and that were not told yet that their turn approaches (oldest first)."""

    async def enqueue_message(self, *, ticket_id: int | None, stage: str, channel: str, address: str, text: str,
                              key: str, at: float, data: dict[str, Any] | None = None) -> bool:
        """Put a message in the outbox once (the key makes a repeat a no-op); True when queued now.
        `ticket_id` None: a message about no ticket (a reply to a number that follows none, the
        supervisors' SLA alert)."""

    async def last_message_at(self, key_prefix: str) -> float | None:
        """When the newest outbox message about no ticket whose key starts with `key_prefix` was queued."""

    async def cancel_pending_messages(self, ticket_id: int, keep_stages: Iterable[str], reason: str) -> None:
        """Drop a ticket's unsent messages (its turn is over), except the stages named."""

    async def pending_messages(self, limit: int = 200, channel: str | None = None) -> list[dict[str, Any]]:
        """Unsent messages (of one channel), oldest first; `data` decoded from JSON."""

    async def message_state(self, message_id: int) -> str | None:
        """The state of one outbox message now (None if there is no such message)."""

    async def message_attempt(self, message_id: int, *, state: str, at: float, next_attempt_at: float,
                              error: str | None, provider_id: str | None = None) -> None:
        """Record one delivery attempt (a message sent while it was being cancelled is recorded sent)."""

    async def message_by_provider_id(self, channel: str, provider_id: str) -> dict[str, Any] | None:
        """The outbox message a provider knows by this id (from a delivery report)."""

    async def message_failed_later(self, message_id: int, error: str) -> None:
        """A message accepted by the provider was reported undelivered afterwards."""

    async def messages_for_ticket(self, ticket_id: int) -> list[dict[str, Any]]:
        """Every message of a ticket, oldest first."""

    async def outbox_counts(self) -> dict[tuple[str, str], int]:
        """Per (channel, state), how many messages the outbox holds."""

    async def record_inbound(self, *, channel: str, address: str, external_id: str, text: str,
                             at: float) -> tuple[int, bool]:
        """Keep a message that came in, once per provider id; (its id, whether it was handled before)."""

    async def inbound_handled(self, inbound_id: int, at: float) -> None:
        """A message that came in was answered."""

    async def last_inbound_at(self, channel: str, address: str) -> float | None:
        """When this chat or phone last wrote to the hall (None: never, or forgotten)."""

    async def forget_numbers(self, before: float) -> None:
        """Erase phone numbers kept outside tickets (messages that came in, replies to numbers that
        follow no ticket) older than `before`."""


class RecordQueries(Protocol):
    """Events, the audit log and run-time settings."""

    async def insert_event(self, type_: str, data: dict[str, Any], at: float) -> Event:
        """Record a public event; its id orders the stream."""

    async def events_after(self, event_id: int, limit: int = 1000) -> list[Event]:
        """Events newer than an id, oldest first."""

    async def last_event_id(self) -> int:
        """The newest event id (0 when none)."""

    async def recent_events(self, type_: str, since: float, limit: int) -> list[Event]:
        """The newest events of one type since a time, newest first."""

    async def prune_events(self, before: float) -> None:
        """Forget events older than a time."""

    async def audit(self, *, at: float, username: str | None, action: str, counter_id: str | None = None,
                    ticket_number: str | None = None, detail: str | None = None) -> None:
        """Record who did what."""

    async def audit_entries(self, limit: int = 100, *, username: str | None = None, action: str | None = None,
                            counter_id: str | None = None, ticket_number: str | None = None
                            ) -> list[dict[str, Any]]:
        """The newest audit entries, optionally only one user's, action's, counter's or ticket's."""

    async def setting(self, key: str) -> str | None:
        """A run-time setting, if set."""

    async def set_setting(self, key: str, value: str, at: float, by: str | None) -> None:
        """Store a run-time setting."""


class StaffQueries(Protocol):
    """Staff accounts and login sessions."""

    async def add_user(self, username: str, password_hash: str, role: str, counters: Iterable[str],
                       at: float, agencies: Iterable[str] = ()) -> User:
        """Create a staff account (a supervisor may be limited to some agencies' reports)."""

    async def user_by_name(self, username: str) -> User | None:
        """The account with this username (case-insensitive)."""

    async def users(self) -> list[User]:
        """All accounts."""

    async def set_password(self, user_id: int, password_hash: str) -> None:
        """Replace a password hash (and end the user's sessions)."""

    async def set_disabled(self, user_id: int, disabled: bool) -> None:
        """Switch an account off (its sessions end) or on again."""

    async def add_session(self, token_hash: str, user_id: int, at: float, expires_at: float) -> None:
        """Start a login session."""

    async def session_user(self, token_hash: str, now: float) -> User | None:
        """The enabled user behind a live session."""

    async def end_session(self, token_hash: str) -> None:
        """Log a session out."""


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


class SurveyQueries(Protocol):
    """The satisfaction survey (docs/survey.md): one response per served ticket, and the sums of the IKM."""

    async def survey_response(self, ticket_id: int) -> dict[str, Any] | None:
        """A ticket's response: `answers` (U1..U9, None where not answered), `channel`, `complete`, `comment`."""

    async def save_survey_response(self, *, ticket_id: int, day: str, service: str, agency: str,
                                   counter_id: str | None, officer: str | None, answers: Mapping[str, int | None],
                                   profile: Mapping[str, Any], comment: str | None, channel: str, complete: bool,
                                   at: float) -> None:
        """Insert a ticket's response, or replace the answers of the one it has (one per ticket)."""

    async def served_visit(self, ticket_id: int) -> tuple[str, str | None, float] | None:
        """(counter, officer, end) of the visit that served the ticket."""

    async def last_served_at(self, day: str, counter_id: str) -> Ticket | None:
        """The ticket the counter served last on that day."""



class BookingQueries(Protocol):
    """The online queue (docs/booking.md): bookings, one-time codes, confirmed identities."""

    async def add_booking(self, *, code: str, kind: str, service: str, day: str, slot_start: float | None,
                          slot_label: str | None, identity: str, contact: str | None, state: str,
                          at: float) -> dict[str, Any]:
        """A new booking (or remote number) row: `identity` is the pseudonym the limits count, `contact`
        the phone or chat its messages go to."""

    async def booking_by_code(self, code: str) -> dict[str, Any] | None:
        """The booking with this code."""

    async def booking_of_ticket(self, ticket_id: int) -> dict[str, Any] | None:
        """The booking a ticket came from, if any."""

    async def booking_tickets(self, day: str) -> dict[int, tuple[str, str]]:
        """Today's tickets that came from the online queue: ticket id -> (kind, booking code)."""

    async def slot_counts(self, service: str, day: str) -> dict[float, int]:
        """Per slot start of a service and day, the bookings holding it."""

    async def online_counts(self, service: str, day: str) -> tuple[int, int]:
        """(numbers of the online share in use: live bookings and remote numbers, of them those that
        became tickets) for a service and day."""

    async def online_ticket_counts(self, day: str) -> dict[str, int]:
        """Per service, the day's tickets that came from the online queue."""

    async def identity_count(self, identity: str, service: str, first_day: str, last_day: str) -> int:
        """Online numbers an identity holds or used for a service between two days (cancelled ones not)."""

    async def identity_bookings(self, identity: str, since_day: str) -> list[dict[str, Any]]:
        """An identity's bookings from a day on, soonest first."""

    async def set_booking_state(self, booking_id: int, expect: str, state: str, at: float,
                                ticket_id: int | None = None) -> bool:
        """Move a booking on if it is still in `expect`; False when it moved meanwhile."""

    async def expire_bookings(self, before_day: str, at: float) -> int:
        """Bookings of days before `before_day` never checked in: expired; the phones and chats of
        those days' bookings are forgotten (their pseudonyms stay for the weekly limit)."""

    async def day_reminders_due(self, day: str) -> list[dict[str, Any]]:
        """Bookings of `day` still to be reminded the day before."""

    async def hour_reminders_due(self, now: float, until: float) -> list[dict[str, Any]]:
        """Bookings whose slot starts between now and `until`, still to be reminded."""

    async def mark_reminded(self, booking_id: int, which: str) -> bool:
        """Note a reminder as queued ('day' or 'hour'); False when it was already."""

    async def add_verification(self, *, token: str, phone: str, code_hash: str, at: float, expires_at: float) -> int:
        """A code sent to a phone."""

    async def verification(self, token: str) -> dict[str, Any] | None:
        """The code sent under this token."""

    async def codes_sent(self, phone: str, since: float) -> int:
        """Codes sent to a phone since a time."""

    async def verification_tried(self, verification_id: int, confirmed_at: float | None) -> None:
        """One more try at a code (and when it was right, the moment)."""

    async def add_identity(self, token_hash: str, identity: str, expires_at: float) -> None:
        """A confirmed identity behind a token (stored as its hash)."""

    async def identity_of(self, token_hash: str, now: float) -> str | None:
        """The identity a token confirmed, while it is valid."""

    async def forget_verifications(self, before: float) -> None:
        """Drop codes and identities past their time."""

    async def bookings_between(self, services: Iterable[str], first_day: str, last_day: str) -> list[dict[str, Any]]:
        """Bookings of some services between two days (the admin's list)."""


class RegencyQueries(Protocol):
    """What a regency sees of its halls (read only)."""

    async def halls_day(self, day: str, now: float) -> list[dict[str, Any]]:
        """Every hall of the database with its figures for `day` (issued, waiting, at counters,
        served, no-shows, mean wait until called, longest current wait), by hall name."""


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
