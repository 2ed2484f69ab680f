"""Small asyncio helpers that stay correct under cancellation (Python 3.11's wait_for can swallow it)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

log = logging.getLogger(__name__)


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait for an event at most `seconds`; True when it was set. Cancellation always propagates."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
            return True
    except TimeoutError:
        return False


async def stop_tasks(tasks: Iterable[asyncio.Task[object]], grace: float = 5.0) -> None:
    """Cancel background tasks and wait for them, cancelling again if one ignored it; never hangs."""
    pending = {t for t in tasks if not t.done()}
    for _ in range(3):
        if not pending:
            return
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=grace / 3)
    for task in pending:
        log.error("background task %s did not stop", task.get_name())
