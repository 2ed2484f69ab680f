"""The hall's services wired together on one store, without HTTP: what the web app, the command
line, benchmarks and tests start (part of the composition root)."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.booking.service import BookingService
from kiosk.hall.config import HallConfig
from kiosk.queue.clock import Clock
from kiosk.queue.events import EventBus
from kiosk.queue.following import Following
from kiosk.queue.hall import HallService
from kiosk.queue.printing import PrintJobs
from kiosk.queue.service import QueueService
from kiosk.queue.writer import Writer
from kiosk.storage.base import Store


@dataclass(frozen=True)
class Runtime:
    """One hall: the queue and the services beside it, sharing one writer."""

    writer: Writer
    queue: QueueService
    hall: HallService
    printing: PrintJobs
    following: Following
    bookings: BookingService  # the online queue (docs/booking.md)

    @classmethod
    def build(cls, store: Store, config: HallConfig, clock: Clock, bus: EventBus) -> Runtime:
        """The services of a hall on `store` (opened by the caller)."""
        writer = Writer(store, config, clock, bus)
        printing = PrintJobs(writer)
        queue = QueueService(writer, printing)
        return cls(writer=writer, queue=queue, hall=HallService(writer), printing=printing,
                   following=Following(writer), bookings=BookingService(queue))

    async def start(self) -> None:
        """Bring the database to today; an empty database keeps the hall document from now on."""
        await self.hall.start()
        await self.bookings.start()
