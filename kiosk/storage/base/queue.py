"""The contract: what the queue's own rooms ask of a store (tickets, counters, print jobs, alert
subscriptions and messages, records, staff)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from kiosk.queue.models import CounterState, Event, PrintJob, Ticket, User

if TYPE_CHECKING:
    pass

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
