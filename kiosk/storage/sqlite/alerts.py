"""Turn alerts: who follows a ticket, the durable outbox of messages, and messages that came in."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from kiosk.queue.models import PHONE_CHANNELS, Ticket
from kiosk.storage.sqlite.sql import Sql
from kiosk.storage.sqlite.tickets import ticket_row


def _message(row: Any) -> dict[str, Any]:
    message = dict(row)
    message["data"] = json.loads(message["data"]) if message.get("data") else {}
    return message


class AlertSql(Sql):
    """The subscriptions, outbox and inbound tables."""

    async def subscribe(self, ticket_id: int, channel: str, address: str, at: float) -> bool:
        """Follow a ticket on a channel; True when this is new (or was switched off before)."""
        return await self._run(
            "INSERT INTO subscriptions (ticket_id, channel, address, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (ticket_id, channel, address) DO UPDATE SET active = 1 WHERE active = 0",
            (ticket_id, channel, address, at)) > 0

    async def replace_subscriptions(self, ticket_id: int, channel: str, keep: str, reason: str) -> int:
        """End a ticket's subscriptions on a channel other than `keep` (one phone per ticket), with
        their unsent messages; returns how many ended."""
        count = await self._run("UPDATE subscriptions SET active = 0 WHERE ticket_id = ? AND channel = ? "
                                "AND address != ? AND active = 1", (ticket_id, channel, keep))
        if count:
            await self.conn.execute("UPDATE outbox SET state = 'cancelled', last_error = ? WHERE ticket_id = ? "
                                    "AND channel = ? AND address != ? AND state = 'pending'",
                                    (reason, ticket_id, channel, keep))
        return count

    async def subscriptions(self, ticket_id: int) -> list[tuple[str, str]]:
        """(channel, address) of everyone following a ticket."""
        rows = await self._all("SELECT channel, address FROM subscriptions WHERE ticket_id = ? AND active = 1 "
                               "ORDER BY id", (ticket_id,))
        return [(r[0], r[1]) for r in rows]

    async def unsubscribe_address(self, channel: str, address: str) -> int:
        """Stop every subscription of a chat or phone (e.g. a chat that blocked the bot)."""
        count = await self._run("UPDATE subscriptions SET active = 0 WHERE channel = ? AND address = ? "
                                "AND active = 1", (channel, address))
        await self.conn.execute("UPDATE outbox SET state = 'cancelled', last_error = 'berhenti berlangganan' "
                                "WHERE channel = ? AND address = ? AND state = 'pending'", (channel, address))
        return count

    async def chat_tickets(self, channel: str, address: str) -> list[Ticket]:
        """Tickets a chat follows, newest first."""
        rows = await self._all(
            "SELECT tickets.* FROM subscriptions JOIN tickets ON tickets.id = subscriptions.ticket_id "
            "WHERE subscriptions.channel = ? AND subscriptions.address = ? AND subscriptions.active = 1 "
            "ORDER BY tickets.id DESC", (channel, address))
        return [ticket_row(r) for r in rows]

    async def approach_candidates(self, day: str, service: str, head: int) -> list[Ticket]:
        """Among the first `head` waiting tickets of each class of a service, those someone follows
        and that were not told yet that their turn approaches (oldest first)."""
        # The lanes read ids only (from the queue index, not the table); whole rows are read only
        # for the few that someone follows.
        lane = "SELECT id FROM (SELECT id FROM tickets WHERE day = ? AND state = 'waiting' AND service = ? " \
               "AND priority = {} ORDER BY place, id LIMIT ?)"
        rows = await self._all(
            f"""SELECT t.* FROM ({lane.format(1)} UNION ALL {lane.format(0)}) h JOIN tickets t ON t.id = h.id
                WHERE EXISTS (SELECT 1 FROM subscriptions s WHERE s.ticket_id = h.id AND s.active = 1)
                AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.ticket_id = h.id AND o.stage = 'approaching')
                ORDER BY t.place, t.id""", (day, service, head, day, service, head))
        return [ticket_row(r) for r in rows]

    async def enqueue_message(self, *, ticket_id: int | None, stage: str, channel: str, address: str, text: str,
                              key: str, at: float, data: dict[str, Any] | None = None) -> bool:
        """Put a message in the outbox once (the key makes a repeat a no-op); True when queued now."""
        return await self._run(
            "INSERT INTO outbox (ticket_id, stage, channel, address, text, key, next_attempt_at, created_at, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
            (ticket_id, stage, channel, address, text, key, at, at,
             json.dumps(data, ensure_ascii=False) if data else None)) > 0

    async def last_message_at(self, key_prefix: str) -> float | None:
        """When the newest outbox message about no ticket whose key starts with `key_prefix` was queued."""
        row = await self._one("SELECT MAX(created_at) FROM outbox WHERE ticket_id IS NULL AND substr(key, 1, ?) = ?",
                              (len(key_prefix), key_prefix))
        return None if row is None or row[0] is None else float(row[0])

    async def cancel_pending_messages(self, ticket_id: int, keep_stages: Iterable[str], reason: str) -> None:
        """Drop a ticket's unsent messages (its turn is over), except the stages named."""
        keep = tuple(keep_stages)
        marks = ",".join("?" * len(keep)) or "''"
        await self.conn.execute(
            f"UPDATE outbox SET state = 'cancelled', last_error = ? WHERE ticket_id = ? AND state = 'pending' "
            f"AND stage NOT IN ({marks})", (reason, ticket_id, *keep))

    async def pending_messages(self, limit: int = 200, channel: str | None = None) -> list[dict[str, Any]]:
        """Unsent messages (of one channel), oldest first."""
        if channel is None:
            rows = await self._all("SELECT * FROM outbox WHERE state = 'pending' ORDER BY id LIMIT ?", (limit,))
        else:
            rows = await self._all("SELECT * FROM outbox WHERE channel = ? AND state = 'pending' ORDER BY id "
                                   "LIMIT ?", (channel, limit))
        return [_message(r) for r in rows]

    async def message_state(self, message_id: int) -> str | None:
        """The state of one outbox message now (None if there is no such message)."""
        row = await self._one("SELECT state FROM outbox WHERE id = ?", (message_id,))
        return str(row[0]) if row else None

    async def message_attempt(self, message_id: int, *, state: str, at: float, next_attempt_at: float,
                              error: str | None, provider_id: str | None = None) -> None:
        """Record one delivery attempt. A message that went out is recorded as sent even if it was
        cancelled while it was being sent (what was sent is never hidden)."""
        states = "('pending', 'cancelled')" if state == "sent" else "('pending')"
        await self.conn.execute(
            "UPDATE outbox SET state = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?, "
            "sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END, provider_id = COALESCE(?, provider_id) "
            f"WHERE id = ? AND state IN {states}",
            (state, next_attempt_at, error if state != "sent" else None, state, at, provider_id, message_id))

    async def message_by_provider_id(self, channel: str, provider_id: str) -> dict[str, Any] | None:
        """The outbox message a provider knows by this id (from a delivery report)."""
        row = await self._one("SELECT * FROM outbox WHERE channel = ? AND provider_id = ?", (channel, provider_id))
        return _message(row) if row else None

    async def message_failed_later(self, message_id: int, error: str) -> None:
        """A message accepted by the provider was reported undelivered afterwards."""
        await self.conn.execute("UPDATE outbox SET state = 'failed', last_error = ? WHERE id = ? "
                                "AND state = 'sent'", (error, message_id))

    async def messages_for_ticket(self, ticket_id: int) -> list[dict[str, Any]]:
        """Every message of a ticket, oldest first."""
        rows = await self._all("SELECT * FROM outbox WHERE ticket_id = ? ORDER BY id", (ticket_id,))
        return [_message(r) for r in rows]

    async def outbox_counts(self) -> dict[tuple[str, str], int]:
        """Per (channel, state), how many messages the outbox holds."""
        rows = await self._all("SELECT channel, state, COUNT(*) FROM outbox GROUP BY channel, state")
        return {(r[0], r[1]): int(r[2]) for r in rows}

    # --- messages that came in -----------------------------------------------------------------
    async def record_inbound(self, *, channel: str, address: str, external_id: str, text: str,
                             at: float) -> tuple[int, bool]:
        """Keep a message that came in, once per provider id; (its id, whether it was handled before)."""
        await self.conn.execute(
            "INSERT INTO inbound (channel, address, external_id, text, received_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (channel, external_id) DO NOTHING", (channel, address, external_id, text, at))
        row = await self._one("SELECT id, handled_at FROM inbound WHERE channel = ? AND external_id = ?",
                              (channel, external_id))
        assert row is not None
        return int(row[0]), row[1] is not None

    async def inbound_handled(self, inbound_id: int, at: float) -> None:
        """A message that came in was answered."""
        await self.conn.execute("UPDATE inbound SET handled_at = ? WHERE id = ?", (at, inbound_id))

    async def last_inbound_at(self, channel: str, address: str) -> float | None:
        """When this chat or phone last wrote to the hall (None: never, or forgotten)."""
        row = await self._one("SELECT MAX(received_at) FROM inbound WHERE channel = ? AND address = ?",
                              (channel, address))
        return None if row is None or row[0] is None else float(row[0])

    async def forget_numbers(self, before: float) -> None:
        """Erase phone numbers kept outside tickets (messages that came in, replies to numbers that
        follow no ticket) older than `before`."""
        await self.conn.execute("DELETE FROM inbound WHERE received_at < ?", (before,))
        await self.conn.execute(
            "UPDATE outbox SET state = CASE state WHEN 'pending' THEN 'cancelled' ELSE state END, address = '' "
            f"WHERE ticket_id IS NULL AND channel IN {PHONE_CHANNELS!r} AND address != '' AND created_at < ?",
            (before,))
