"""The online queue's tables: bookings (slots and numbers taken from home), one-time codes and the
identities they confirmed (docs/booking.md)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kiosk.storage.sqlite.sql import Sql

LIVE = "('booked', 'checked_in')"  # the states that hold a place of a slot and of the online share


class BookingSql(Sql):
    """The bookings, verifications and identities tables."""

    async def add_booking(self, *, code: str, kind: str, service: str, day: str, slot_start: float | None,
                          slot_label: str | None, identity: str, contact: str | None, state: str,
                          at: float) -> dict[str, Any]:
        """A new booking (or remote number) row: `identity` is the pseudonym the limits count, `contact`
        the phone or chat its messages go to."""
        async with self.conn.execute(
                "INSERT INTO bookings (code, kind, service, day, slot_start, slot_label, identity, contact, state, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (code, kind, service, day, slot_start, slot_label, identity, contact, state, at)) as cur:
            booking_id = cur.lastrowid
        row = await self._one("SELECT * FROM bookings WHERE id = ?", (booking_id,))
        assert row is not None
        return dict(row)

    async def booking_by_code(self, code: str) -> dict[str, Any] | None:
        """The booking with this code."""
        row = await self._one("SELECT * FROM bookings WHERE code = ?", (code,))
        return None if row is None else dict(row)

    async def booking_of_ticket(self, ticket_id: int) -> dict[str, Any] | None:
        """The booking a ticket came from, if any."""
        row = await self._one("SELECT * FROM bookings WHERE ticket_id = ?", (ticket_id,))
        return None if row is None else dict(row)

    async def booking_tickets(self, day: str) -> dict[int, tuple[str, str]]:
        """Today's tickets that came from the online queue: ticket id -> (kind, booking code)."""
        rows = await self._all("SELECT ticket_id, kind, code FROM bookings WHERE day = ? AND ticket_id IS NOT NULL",
                               (day,))
        return {r[0]: (r[1], r[2]) for r in rows}

    async def slot_counts(self, service: str, day: str) -> dict[float, int]:
        """Per slot start of a service and day, the bookings holding it."""
        rows = await self._all(f"SELECT slot_start, COUNT(*) FROM bookings WHERE service = ? AND day = ? "
                               f"AND state IN {LIVE} AND kind = 'slot' GROUP BY slot_start", (service, day))
        return {float(r[0]): int(r[1]) for r in rows}

    async def online_counts(self, service: str, day: str) -> tuple[int, int]:
        """(numbers of the online share in use: live bookings and remote numbers, of them those that
        became tickets) for a service and day."""
        row = await self._one(f"SELECT COUNT(*), COUNT(ticket_id) FROM bookings WHERE service = ? AND day = ? "
                              f"AND (state IN {LIVE} OR ticket_id IS NOT NULL)", (service, day))
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def online_ticket_counts(self, day: str) -> dict[str, int]:
        """Per service, the day's tickets that came from the online queue."""
        rows = await self._all("SELECT service, COUNT(*) FROM bookings WHERE day = ? AND ticket_id IS NOT NULL "
                               "GROUP BY service", (day,))
        return {r[0]: int(r[1]) for r in rows}

    async def identity_count(self, identity: str, service: str, first_day: str, last_day: str) -> int:
        """Online numbers an identity holds or used for a service between two days (cancelled ones not)."""
        row = await self._one("SELECT COUNT(*) FROM bookings WHERE identity = ? AND service = ? AND day BETWEEN ? "
                              "AND ? AND state != 'cancelled'", (identity, service, first_day, last_day))
        return int(row[0]) if row else 0

    async def identity_bookings(self, identity: str, since_day: str) -> list[dict[str, Any]]:
        """An identity's bookings from a day on, soonest first."""
        rows = await self._all("SELECT * FROM bookings WHERE identity = ? AND day >= ? ORDER BY day, slot_start, id",
                               (identity, since_day))
        return [dict(r) for r in rows]

    async def set_booking_state(self, booking_id: int, expect: str, state: str, at: float,
                                ticket_id: int | None = None) -> bool:
        """Move a booking on if it is still in `expect`; False when it moved meanwhile."""
        params: tuple[Any, ...]
        if state == "checked_in":
            sql, params = ("UPDATE bookings SET state = ?, checked_in_at = ?, ticket_id = ? WHERE id = ? AND state = ?",
                           (state, at, ticket_id, booking_id, expect))
        else:
            sql, params = ("UPDATE bookings SET state = ?, ended_at = ? WHERE id = ? AND state = ?",
                           (state, at, booking_id, expect))
        return await self._run(sql, params) == 1

    async def expire_bookings(self, before_day: str, at: float) -> int:
        """Bookings of days before `before_day` never checked in: expired; the phones and chats of
        those days' bookings are forgotten (their pseudonyms stay for the weekly limit)."""
        count = await self._run("UPDATE bookings SET state = 'expired', ended_at = ? WHERE state = 'booked' "
                                "AND day < ?", (at, before_day))
        await self.conn.execute("UPDATE bookings SET contact = NULL WHERE day < ? AND contact IS NOT NULL",
                                (before_day,))
        return count

    async def day_reminders_due(self, day: str) -> list[dict[str, Any]]:
        """Bookings of `day` still to be reminded the day before."""
        rows = await self._all("SELECT * FROM bookings WHERE state = 'booked' AND day = ? AND reminded_day = 0 "
                               "AND kind = 'slot' AND contact IS NOT NULL ORDER BY id", (day,))
        return [dict(r) for r in rows]

    async def hour_reminders_due(self, now: float, until: float) -> list[dict[str, Any]]:
        """Bookings whose slot starts between now and `until`, still to be reminded."""
        rows = await self._all("SELECT * FROM bookings WHERE state = 'booked' AND reminded_hour = 0 AND kind = 'slot' "
                               "AND contact IS NOT NULL AND slot_start > ? AND slot_start <= ? ORDER BY id",
                               (now, until))
        return [dict(r) for r in rows]

    async def mark_reminded(self, booking_id: int, which: str) -> bool:
        """Note a reminder as queued ('day' or 'hour'); False when it was already."""
        column = {"day": "reminded_day", "hour": "reminded_hour"}[which]
        return await self._run(f"UPDATE bookings SET {column} = 1 WHERE id = ? AND {column} = 0", (booking_id,)) == 1

    # --- one-time codes and identities ------------------------------------------------------
    async def add_verification(self, *, token: str, phone: str, code_hash: str, at: float, expires_at: float) -> int:
        """A code sent to a phone."""
        async with self.conn.execute(
                "INSERT INTO verifications (token, phone, code_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (token, phone, code_hash, at, expires_at)) as cur:
            assert cur.lastrowid is not None
            return int(cur.lastrowid)

    async def verification(self, token: str) -> dict[str, Any] | None:
        """The code sent under this token."""
        row = await self._one("SELECT * FROM verifications WHERE token = ?", (token,))
        return None if row is None else dict(row)

    async def codes_sent(self, phone: str, since: float) -> int:
        """Codes sent to a phone since a time."""
        row = await self._one("SELECT COUNT(*) FROM verifications WHERE phone = ? AND created_at >= ?", (phone, since))
        return int(row[0]) if row else 0

    async def verification_tried(self, verification_id: int, confirmed_at: float | None) -> None:
        """One more try at a code (and when it was right, the moment)."""
        await self.conn.execute("UPDATE verifications SET attempts = attempts + 1, confirmed_at = ? WHERE id = ?",
                                (confirmed_at, verification_id))

    async def add_identity(self, token_hash: str, identity: str, expires_at: float) -> None:
        """A confirmed identity behind a token (stored as its hash)."""
        await self.conn.execute("INSERT INTO identities (token_hash, identity, expires_at) VALUES (?, ?, ?)",
                                (token_hash, identity, expires_at))

    async def identity_of(self, token_hash: str, now: float) -> str | None:
        """The identity a token confirmed, while it is valid."""
        row = await self._one("SELECT identity FROM identities WHERE token_hash = ? AND expires_at > ?",
                              (token_hash, now))
        return None if row is None else str(row[0])

    async def forget_verifications(self, before: float) -> None:
        """Drop codes and identities past their time."""
        await self.conn.execute("DELETE FROM verifications WHERE expires_at < ?", (before,))
        await self.conn.execute("DELETE FROM identities WHERE expires_at < ?", (before,))

    async def bookings_between(self, services: Iterable[str], first_day: str, last_day: str) -> list[dict[str, Any]]:
        """Bookings of some services between two days (the admin's list)."""
        codes = tuple(services)
        marks = ",".join("?" * len(codes)) or "''"
        rows = await self._all(f"SELECT id, code, kind, service, day, slot_label, state, ticket_id FROM bookings "
                               f"WHERE service IN ({marks}) AND day BETWEEN ? AND ? ORDER BY day, slot_start, id",
                               (*codes, first_day, last_day))
        return [dict(r) for r in rows]
