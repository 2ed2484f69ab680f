"""Turn alerts: who follows a ticket, and the durable outbox of messages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kiosk.queue.models import Ticket
from kiosk.storage.sqlite.sql import Sql
from kiosk.storage.sqlite.tickets import ticket_row


class AlertSql(Sql):
    """The subscriptions and outbox tables."""

    async def subscribe(self, ticket_id: int, channel: str, address: str, at: float) -> bool:
        """Follow a ticket on a channel; True when this is new (or was switched off before)."""
        return await self._run(
            "INSERT INTO subscriptions (ticket_id, channel, address, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (ticket_id, channel, address) DO UPDATE SET active = 1 WHERE active = 0",
            (ticket_id, channel, address, at)) > 0

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
                              key: str, at: float) -> bool:
        """Put a message in the outbox once (the key makes a repeat a no-op); True when queued now."""
        return await self._run(
            "INSERT INTO outbox (ticket_id, stage, channel, address, text, key, next_attempt_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
            (ticket_id, stage, channel, address, text, key, at, at)) > 0

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

    async def pending_messages(self, limit: int = 200) -> list[dict[str, Any]]:
        """Unsent messages, oldest first."""
        rows = await self._all("SELECT * FROM outbox WHERE state = 'pending' ORDER BY id LIMIT ?", (limit,))
        return [dict(r) for r in rows]

    async def message_attempt(self, message_id: int, *, state: str, at: float, next_attempt_at: float,
                              error: str | None) -> None:
        """Record one delivery attempt."""
        await self.conn.execute(
            "UPDATE outbox SET state = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?, "
            "sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ? AND state = 'pending'",
            (state, next_attempt_at, error, state, at, message_id))

    async def messages_for_ticket(self, ticket_id: int) -> list[dict[str, Any]]:
        """Every message of a ticket, oldest first."""
        rows = await self._all("SELECT * FROM outbox WHERE ticket_id = ? ORDER BY id", (ticket_id,))
        return [dict(r) for r in rows]
