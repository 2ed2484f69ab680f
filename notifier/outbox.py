"""The outbox worker: one delivery loop per channel, each sending its messages in order per
address, within its rate limit, with retries; a channel that fails never delays another.

Exactly once: a message is sent only after its row was read as pending (re-read from the
database just before sending, since a ticket's end may have cancelled it meanwhile), and
recorded right after; the only way it goes out twice is a crash between sending and recording.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from kiosk.hall.config import HallConfig
from kiosk.queue.clock import Clock
from kiosk.queue.errors import Unavailable
from kiosk.queue.events import EventBus
from kiosk.queue.following import Following
from kiosk.support.aio import stop_tasks, wait_event
from notifier.senders import Outcome, Outgoing, Sender

log = logging.getLogger(__name__)

MAX_RETRY_S = 120.0
IDLE_S = 5.0
BATCH = 500
DOWN_RETRY_S = 60.0  # a channel refused as a whole (a wrong token) is tried again this often
OK, RETRYING, DOWN = "ok", "retrying", "down"


class RateGate:
    """At most `per_second` overall and one message per `per_address_s` to one address."""

    def __init__(self, per_second: float, per_address_s: float, clock: Clock) -> None:
        self.interval = 1.0 / per_second
        self.per_address_s = per_address_s
        self.clock = clock
        self._next_any = 0.0
        self._next_for: dict[str, float] = defaultdict(float)

    def wait_for(self, address: str) -> float:
        """Seconds until a message to this address may go."""
        now = self.clock.now()
        return max(0.0, self._next_any - now, self._next_for[address] - now)

    def spend(self, address: str) -> None:
        """A message to this address went now."""
        now = self.clock.now()
        self._next_any = max(self._next_any, now) + self.interval
        if self.per_address_s:
            self._next_for[address] = now + self.per_address_s
        if len(self._next_for) > 10_000:  # forget addresses whose pause is over
            self._next_for = defaultdict(float, {a: t for a, t in self._next_for.items() if t > now})


@dataclass
class ChannelHealth:
    """What staff see of a channel: ok, retrying (some messages fail and are retried) or down (the
    provider refuses the hall itself: nothing goes until an operator acts)."""

    state: str = OK
    last_error: str | None = None
    since: float | None = None
    last_sent_at: float | None = None


class ChannelLoop:
    """Delivers one channel's messages."""

    def __init__(self, worker: OutboxWorker, channel: str, sender: Sender, gate: RateGate) -> None:
        self.worker = worker
        self.channel = channel
        self.sender = sender
        self.gate = gate
        self.health = ChannelHealth()
        self.wake = asyncio.Event()

    @property
    def following(self) -> Following:
        """Where the outbox is read and attempts are recorded."""
        return self.worker.following

    @property
    def state(self) -> str:
        """ok, retrying or down (also when the sender knows it is refused before any attempt)."""
        return DOWN if self.sender.down_reason else self.health.state

    @property
    def problem(self) -> str | None:
        """Why the channel is down, if it is."""
        return self.sender.down_reason or (self.health.last_error if self.health.state == DOWN else None)

    async def run(self) -> None:
        """Work until cancelled."""
        while True:
            try:
                pause = await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Unavailable:  # the database is away: the messages wait in it
                log.warning("%s outbox: database unavailable; messages wait", self.channel)
                pause = self.worker.config.alerts.retry_first_s
            except Exception:
                log.exception("%s outbox loop error; retrying", self.channel)
                pause = self.worker.config.alerts.retry_first_s
            if pause > 0:
                await wait_event(self.wake, pause)
            self.wake.clear()

    async def deliver_due(self) -> float:
        """Send every message of this channel that may go now; returns how long to wait before
        looking again."""
        clock = self.worker.clock
        messages = await self.following.pending(BATCH, self.channel)
        if not messages:
            return IDLE_S
        blocked: set[str] = set()
        soonest = IDLE_S
        for message in messages:
            address = message["address"]
            if address in blocked:
                continue  # keep each address's messages in order
            now = clock.now()
            if message["next_attempt_at"] > now:
                blocked.add(address)
                soonest = min(soonest, message["next_attempt_at"] - now)
                continue
            wait = self.gate.wait_for(address)
            if wait > 0.25:
                blocked.add(address)
                soonest = min(soonest, wait)
                continue
            if wait > 0:
                await asyncio.sleep(wait)
            if not await self.following.still_pending(message["id"]):
                continue  # cancelled since the batch was read (its ticket ended)
            self.gate.spend(address)
            outcome = await self.sender.deliver(Outgoing.of(message))
            retry_at = await self._record(message, outcome)
            if outcome.down:
                return DOWN_RETRY_S  # nothing of this channel can go; other channels go on
            if not outcome.sent:
                blocked.add(address)
                if retry_at is not None:
                    soonest = min(soonest, max(0.0, retry_at - clock.now()))
        return 0.0 if len(messages) == BATCH and not blocked else max(0.0, soonest)

    def _note(self, outcome: Outcome) -> None:
        """Keep the channel's health; a channel going down is logged loudly, once."""
        now = self.worker.clock.now()
        if outcome.sent:
            if self.health.state != OK:
                log.info("%s messages are delivered again", self.channel)
            self.health = ChannelHealth(state=OK, last_sent_at=now)
            return
        state = DOWN if outcome.down else RETRYING if outcome.retry else self.health.state
        if state == DOWN and self.health.state != DOWN:
            log.error("%s CHANNEL DOWN: %s. No %s message can be sent until this is fixed; they wait in the "
                      "outbox.", self.channel.upper(), outcome.reason, self.channel)
        if state != self.health.state:
            self.health.since = now
        self.health.state, self.health.last_error = state, outcome.reason

    async def _record(self, message: dict[str, Any], outcome: Outcome) -> float | None:
        """Store the attempt; returns when to try again, if at all."""
        now = self.worker.clock.now()
        alerts = self.worker.config.alerts
        self._note(outcome)
        if outcome.sent:
            state, after, error = "sent", now, None
            self.worker.sent += 1
        elif outcome.retry and now - message["created_at"] < alerts.give_up_minutes * 60:
            backoff = DOWN_RETRY_S if outcome.down else \
                min(MAX_RETRY_S, alerts.retry_first_s * 2 ** message["attempts"])
            state, after, error = "pending", now + max(backoff, outcome.after or 0.0), outcome.reason
        else:
            state, after = "failed", now
            error = outcome.reason if not outcome.retry else \
                f"menyerah setelah {alerts.give_up_minutes:g} menit: {outcome.reason}"
            log.warning("message %s (%s, %s) not delivered: %s", message["id"], message["channel"],
                        message["stage"], error)
        await self.following.record_attempt(message["id"], state=state, next_attempt_at=after, error=error,
                                            provider_id=outcome.provider_id)
        if outcome.unsubscribe:
            count = await self.following.unsubscribe_address(message["channel"], message["address"])
            log.info("%s address stopped after '%s': %d subscriptions ended", message["channel"], outcome.reason,
                     count)
        return after if state == "pending" else None


class OutboxWorker:
    """The outbox's delivery loops, one per channel, each with its sender and rate gate."""

    def __init__(self, following: Following, clock: Clock, bus: EventBus, senders: dict[str, Sender]) -> None:
        self.following = following
        config = following.writer.config  # the send rates are fixed at start (not on the admin pages)
        self.clock = clock
        self.bus = bus
        rates = {"telegram": (config.alerts.telegram_per_second, 1.0),
                 "sms": (config.sms.rate_per_minute / 60.0, 0.0),
                 "whatsapp": (config.whatsapp.rate_per_minute / 60.0, 1.0)}
        self.loops = {channel: ChannelLoop(self, channel, sender, RateGate(*rates.get(channel, (1.0, 1.0)), clock))
                      for channel, sender in senders.items()}
        self.sent = 0
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def config(self) -> HallConfig:
        """The hall as it is now (admins change it at run time)."""
        return self.following.writer.config

    @property
    def senders(self) -> dict[str, Sender]:
        """Each channel's sender."""
        return {channel: loop.sender for channel, loop in self.loops.items()}

    async def start(self) -> None:
        """Deliver what is pending (also what a restart left) and listen for new messages."""
        # With several server processes on one database, one of them delivers each channel (rate
        # limits hold per bot and gateway, and each address's messages stay in order).
        store = self.following.writer.store
        self._tasks = [asyncio.create_task(store.exclusive(f"outbox/{channel}", loop.run), name=f"outbox-{channel}")
                       for channel, loop in self.loops.items()]
        self._tasks.append(asyncio.create_task(self._listen(), name="outbox-listen"))

    async def stop(self) -> None:
        """Stop delivering; what is unsent stays in the outbox."""
        await stop_tasks(self._tasks)

    def wake(self) -> None:
        """Look at the outbox now."""
        for loop in self.loops.values():
            loop.wake.set()

    async def _listen(self) -> None:
        while not self.bus.closed:
            async for event in self.bus.subscribe(("alert.queued",)):
                loop = self.loops.get(event.data.get("channel", ""))
                if loop is not None:
                    loop.wake.set()
                else:
                    self.wake()
            self.wake()

    async def deliver_due(self) -> float:
        """One pass over every channel (tests and benchmarks); the shortest pause asked for."""
        pauses = [await loop.deliver_due() for loop in self.loops.values()]
        return min(pauses, default=IDLE_S)

    async def health(self) -> list[dict[str, Any]]:
        """Each channel: its provider, state, last error and messages pending or failed."""
        counts = await self.following.outbox_counts()
        iso = self.following.writer.iso
        return [{
            "channel": channel, "provider": loop.sender.provider, "state": loop.state,
            "last_error": loop.problem or loop.health.last_error, "since": iso(loop.health.since),
            "last_sent_at": iso(loop.health.last_sent_at), "notice": loop.sender.notice,
            "pending": counts.get((channel, "pending"), 0), "failed": counts.get((channel, "failed"), 0),
        } for channel, loop in self.loops.items()]

    def problems(self) -> list[str]:
        """One Indonesian line per channel an admin must act on (shown on the admin page)."""
        names = {"telegram": "Telegram", "sms": "SMS", "whatsapp": "WhatsApp"}
        lines = []
        for channel, loop in self.loops.items():
            name = names.get(channel, channel)
            if loop.state == DOWN:
                lines.append(f"Pemberitahuan {name} berhenti: {loop.problem}. Pesan menunggu sampai diperbaiki.")
            if loop.sender.notice:
                lines.append(f"Pemberitahuan {name}: {loop.sender.notice}")
        return lines
