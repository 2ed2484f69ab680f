"""The outbox worker: delivers queued messages in order per address, within rate limits, with retries."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

from kiosk.hall.config import HallConfig
from kiosk.queue.clock import Clock
from kiosk.queue.events import EventBus
from kiosk.queue.following import Following
from kiosk.support.aio import stop_tasks, wait_event
from notifier.senders import Outcome, Sender

log = logging.getLogger(__name__)

FIRST_RETRY_S = 2.0
MAX_RETRY_S = 120.0
IDLE_S = 5.0
BATCH = 500


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
        self._next_for[address] = now + self.per_address_s


class OutboxWorker:
    """One loop over the outbox; each channel has its sender and its rate gate."""

    def __init__(self, following: Following, clock: Clock, bus: EventBus, senders: dict[str, Sender]) -> None:
        self.following = following
        config = following.writer.config  # the send rates are fixed at start (not on the admin pages)
        self.clock = clock
        self.bus = bus
        self.senders = senders
        self.gates = {
            "telegram": RateGate(config.alerts.telegram_per_second, 1.0, clock),
            "sms": RateGate(config.sms.rate_per_minute / 60.0, 0.0, clock),
        }
        self.wake = asyncio.Event()
        self.sent = 0
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def config(self) -> HallConfig:
        """The hall as it is now (admins change it at run time)."""
        return self.following.writer.config

    async def start(self) -> None:
        """Deliver what is pending (also what a restart left) and listen for new messages."""
        # With several server processes on one database, one of them delivers (rate limits hold per bot
        # and gateway, and each chat's messages stay in order).
        store = self.following.writer.store
        self._tasks = [asyncio.create_task(store.exclusive("outbox", self.run), name="outbox"),
                       asyncio.create_task(self._listen())]

    async def stop(self) -> None:
        """Stop delivering; what is unsent stays in the outbox."""
        await stop_tasks(self._tasks)

    async def _listen(self) -> None:
        while not self.bus.closed:
            async for _ in self.bus.subscribe(("alert.queued",)):
                self.wake.set()
            self.wake.set()

    async def run(self) -> None:
        """Work until cancelled."""
        while True:
            try:
                pause = await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox worker error; retrying")
                pause = FIRST_RETRY_S
            if pause > 0:
                await wait_event(self.wake, pause)
            self.wake.clear()

    async def deliver_due(self) -> float:
        """Send every message that may go now; returns how long to wait before looking again."""
        messages = await self.following.pending(BATCH)
        if not messages:
            return IDLE_S
        blocked: set[tuple[str, str]] = set()
        soonest = IDLE_S
        for message in messages:
            lane = (message["channel"], message["address"])
            if lane in blocked:
                continue  # keep each chat's messages in order
            now = self.clock.now()
            if message["next_attempt_at"] > now:
                blocked.add(lane)
                soonest = min(soonest, message["next_attempt_at"] - now)
                continue
            gate = self.gates[message["channel"]]
            wait = gate.wait_for(message["address"])
            if wait > 0.25:
                blocked.add(lane)
                soonest = min(soonest, wait)
                continue
            if wait > 0:
                await asyncio.sleep(wait)
            gate.spend(message["address"])
            outcome = await self.senders[message["channel"]].deliver(message["address"], message["text"])
            retry_at = await self._record(message, outcome)
            if not outcome.sent:
                blocked.add(lane)
                if retry_at is not None:
                    soonest = min(soonest, max(0.0, retry_at - self.clock.now()))
        return 0.0 if len(messages) == BATCH and not blocked else max(0.0, soonest)

    async def _record(self, message: dict[str, Any], outcome: Outcome) -> float | None:
        """Store the attempt; returns when to try again, if at all."""
        now = self.clock.now()
        if outcome.sent:
            state, after, error = "sent", now, None
            self.sent += 1
        elif outcome.retry and now - message["created_at"] < self.config.alerts.give_up_minutes * 60:
            backoff = min(MAX_RETRY_S, self.config.alerts.retry_first_s * 2 ** message["attempts"])
            state, after, error = "pending", now + max(backoff, outcome.after or 0.0), outcome.reason
        else:
            state, after = "failed", now
            error = outcome.reason if not outcome.retry else \
                f"menyerah setelah {self.config.alerts.give_up_minutes:g} menit: {outcome.reason}"
            log.warning("message %s (%s, %s) not delivered: %s", message["id"], message["channel"],
                        message["stage"], error)
        await self.following.record_attempt(message["id"], state=state, next_attempt_at=after, error=error)
        retry_at = after if state == "pending" else None
        if outcome.unsubscribe:
            count = await self.following.unsubscribe_address(message["channel"], message["address"])
            log.info("%s address stopped after '%s': %d subscriptions ended", message["channel"], outcome.reason,
                     count)
        return retry_at
