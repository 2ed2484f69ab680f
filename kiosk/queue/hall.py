"""The hall in force, changed at run time: admins' edits of the hall document and the displays'
running text, written through the queue's writer like every other change.

The hall file seeds an empty database; from then on the database's copy is the hall, replaced
whole by `HallService.change`, and the rooms follow through `on_reconfigure` listeners.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from kiosk.hall.config import ConfigError, HallConfig
from kiosk.hall.messages import indonesian
from kiosk.hall.parse import parse_hall
from kiosk.hall.reader import control_characters
from kiosk.queue.errors import Conflict, Unprocessable
from kiosk.queue.events import EventBus
from kiosk.queue.writer import Work, Writer

log = logging.getLogger(__name__)

HALL_KEY = "hall"  # the settings row holding the hall document (seeded from the hall file)
TICKER_KEY = "display.ticker"
TICKER_MAX = 500

Reconfigure = Callable[[HallConfig, HallConfig], Awaitable[None]]


class HallService:
    """Keeps the hall document in the database and applies admins' changes to it."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self._listeners: list[Reconfigure] = []

    @property
    def config(self) -> HallConfig:
        """The hall in force."""
        return self.writer.config

    def on_reconfigure(self, listener: Reconfigure) -> None:
        """Call `listener(old, new)` after an admin change to the hall is committed."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Bring the database to today (the writer's first transaction begins the day); an empty
        database keeps the hall file's document from now on."""
        async with self.writer.write() as w:
            if await w.q.setting(HALL_KEY) is None:
                await w.q.set_setting(HALL_KEY, json.dumps(self.config.raw, ensure_ascii=False), w.now, None)

    async def change(self, edit: Callable[[dict[str, Any]], dict[str, Any]], actor: str, what: str) -> HallConfig:
        """Apply `edit` to the hall document, check it, keep it in the database and use it at once.

        `edit` runs under the writer lock on the newest document, so two admins never undo each other.
        Refuses (409) to remove a service with open tickets today or a counter with a ticket at it.
        """
        writer = self.writer
        old = writer.config
        try:
            async with writer.write() as w:
                old = writer.config = await self._newest(w, writer.config)
                doc = edit(old.raw)
                await self._check_in_use(w, old, doc)
                try:
                    new = parse_hall(doc, "database")
                except ConfigError as exc:
                    raise Unprocessable(f"Perubahan ditolak: {indonesian(exc)}", code="invalid_hall") from None
                if new.hall.timezone != old.hall.timezone:
                    raise Unprocessable("Zona waktu hanya dapat diubah lewat berkas hall (giliran hall import).",
                                        code="timezone_fixed")
                await w.q.set_setting(HALL_KEY, json.dumps(new.raw, ensure_ascii=False), w.now, actor)
                await w.q.audit(at=w.now, username=actor, action="hall", detail=what[:200])
                await w.emit("hall.changed", {"what": what.split(" ")[0]})
                writer.config = new
                w.moved.update(s.code for s in new.services)  # hooks re-evaluate (e.g. new alert thresholds)
        except BaseException:
            writer.config = old
            raise
        await self._tell(old, new)
        return new

    async def _tell(self, old: HallConfig, new: HallConfig) -> None:
        for listener in self._listeners:
            try:
                await listener(old, new)
            except Exception:  # one room failing to follow must not undo a committed change
                log.exception("applying the hall change to %s failed", getattr(listener, "__qualname__", listener))

    @staticmethod
    async def _newest(w: Work, current: HallConfig) -> HallConfig:
        """The hall document as stored now (another process of the hall may have changed it)."""
        stored = await w.q.setting(HALL_KEY)
        if stored is None or json.loads(stored) == current.raw:
            return current
        return parse_hall(json.loads(stored), "database")

    async def follow(self, bus: EventBus) -> None:
        """Use the hall document another process of the hall changed, as soon as it is heard of
        (`hall.changed`); until cancelled. With one process, its own changes are already in force."""
        while not bus.closed:
            async for _ in bus.subscribe(("hall.changed",)):
                try:
                    await self.reload()
                except Exception:
                    log.exception("the hall changed by another process could not be applied; still using the old one")

    async def reload(self) -> None:
        """Use the database's hall document if it differs from the one in force."""
        stored = await self.writer.store.reads.setting(HALL_KEY)
        if stored is None or json.loads(stored) == self.writer.config.raw:
            return  # in force already (this process's own change, or nothing new)
        # Read again and put in force under the writer (on a shared database, the hall's lock): a
        # change this process commits meanwhile can then never be undone by a document read
        # before it (the read above may be older than a change in force but not yet committed).
        async with self.writer.write() as w:
            old = self.writer.config
            new = self.writer.config = await self._newest(w, old)
        if new is not old:
            log.info("hall document changed by another process of the hall: in force here too")
            await self._tell(old, new)

    @staticmethod
    async def _check_in_use(w: Work, old: HallConfig, doc: dict[str, Any]) -> None:
        """Refuse to remove a service with open tickets today or a counter with a ticket at it."""
        gone = {s.code for s in old.services} - {str(e.get("code")) for e in doc.get("services", [])
                                                  if isinstance(e, dict)}
        busy = sorted(code for code, n in (await w.q.open_counts(w.day)).items() if code in gone and n)
        if busy:
            raise Conflict(f"Layanan {', '.join(busy)} masih memiliki antrean hari ini; "
                           "hapus setelah antrean selesai.", code="service_in_use")
        gone_counters = {c.id for c in old.counters} - {str(e.get("id")) for e in doc.get("counters", [])
                                                        if isinstance(e, dict)}
        if busy_counters := sorted(gone_counters & set(await w.q.counter_tickets())):
            raise Conflict(f"Loket {', '.join(busy_counters)} sedang memanggil atau melayani.",
                           code="counter_in_use")

    async def ticker(self) -> str:
        """The display's running text."""
        stored = await self.writer.store.reads.setting(TICKER_KEY)
        return self.config.display.ticker if stored is None else stored

    async def set_ticker(self, text: str, actor: str) -> str:
        """Change the running text on every display, now."""
        text = " ".join(text.split())
        if control_characters(text):
            raise Unprocessable("Teks berjalan tidak boleh berisi karakter kendali.", code="invalid_text")
        if len(text) > TICKER_MAX:
            raise Unprocessable(f"Teks berjalan paling banyak {TICKER_MAX} karakter.", code="ticker_too_long")
        async with self.writer.write() as w:
            await w.q.set_setting(TICKER_KEY, text, w.now, actor)
            await w.q.audit(at=w.now, username=actor, action="ticker", detail=text[:200])
            await w.emit("display.ticker", {"text": text})
        return text
