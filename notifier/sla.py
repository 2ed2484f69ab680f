"""The supervisors' chat: one Telegram message when a service's longest current wait crosses its
target (`[alerts] supervisor_chat`), through the same durable outbox as the citizens' alerts, at
most once per service per hour.

Waits grow while nothing happens, so this is a small periodic look (every CHECK_S) rather than a
hook: it reads the waits through `Store.reports` and writes only when it has something to send,
in one short write transaction that also checks the outbox for a message of the last hour.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from kiosk.queue.clock import Clock
from kiosk.queue.writer import Writer
from kiosk.reports.sla import sla_watch
from kiosk.support.aio import stop_tasks
from kiosk.web.appkeys import CLOCK, QUEUE

log = logging.getLogger(__name__)
CHECK_S = 30.0
ONCE_PER_S = 3600.0
STAGE = "sla"


def sla_text(name: str, code: str, wait_s: int, target_s: int, waiting: int, hall: str) -> str:
    """The supervisors' message (never a citizen's number, name or phone)."""
    return (f"⚠️ Antrean {name} ({code}) melewati target: tunggu terlama {wait_s // 60} menit "
            f"(target {target_s // 60} menit), {waiting} orang menunggu. — {hall}")


class SlaAlerts:
    """Looks at every service's longest wait and queues a message when one crosses its target."""

    def __init__(self, writer: Writer, clock: Clock) -> None:
        self.writer = writer
        self.clock = clock
        self.over: set[str] = set()  # services past their target at the last look
        self.queued = 0
        self._tasks: list[asyncio.Task[None]] = []

    async def check(self) -> list[str]:
        """One look; returns the services a message was queued for now."""
        config = self.writer.config
        chat = config.alerts.supervisor_chat
        rows = await sla_watch(self.writer.store, config, self.writer.today(), self.clock.now(), None)
        over = {r["service"]: r for r in rows if r["level"] == "red"}
        crossed = [code for code in over if code not in self.over]
        self.over = set(over)
        if chat is None or not crossed:
            return []
        sent = []
        async with self.writer.write() as w:
            for code in crossed:
                prefix = f"{STAGE}:{code}:"
                last = await w.q.last_message_at(prefix)
                if last is not None and w.now - last < ONCE_PER_S:
                    continue
                r = over[code]
                text = sla_text(r["name"], code, r["longest_wait_s"], r["target_s"], r["waiting"], config.hall.name)
                if await w.q.enqueue_message(ticket_id=None, stage=STAGE, channel="telegram", address=chat, text=text,
                                             key=f"{prefix}{w.now:.0f}", at=w.now):
                    sent.append(code)
            if sent:
                w.notify("alert.queued", {"channel": "telegram"})
        self.queued += len(sent)
        for code in sent:
            log.info("SLA: %s past its target; the supervisors' chat is told", code)
        return sent

    async def run(self) -> None:
        """Look every CHECK_S until cancelled."""
        while True:
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("SLA look failed; trying again")
            await asyncio.sleep(CHECK_S)

    async def start(self) -> None:
        """Start looking."""
        self._tasks = [asyncio.create_task(self.run(), name="sla-alerts")]

    async def stop(self) -> None:
        """Stop looking."""
        await stop_tasks(self._tasks)


SLA = web.AppKey("sla_alerts", SlaAlerts)


def setup_sla(app: web.Application) -> None:
    """Run the SLA look beside the outbox (it only writes when a supervisor chat is configured)."""

    async def sla_ctx(app: web.Application) -> AsyncIterator[None]:
        alerts = SlaAlerts(app[QUEUE].writer, app[CLOCK])
        app[SLA] = alerts
        await alerts.start()
        yield
        await alerts.stop()

    app.cleanup_ctx.append(sla_ctx)
