"""The contract: the satisfaction survey's responses and the online queue's bookings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from kiosk.queue.models import Ticket

if TYPE_CHECKING:
    pass

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
