"""Message senders: a small base class whose one public method maps every failure to retry or give up."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass

import aiohttp

from kiosk.queue.following import mask_address

log = logging.getLogger(__name__)


class Retry(Exception):
    """A delivery that may work later (network error, 5xx, 429, a full gateway queue)."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after


class Permanent(Exception):
    """A delivery that will never work (bad number, blocked bot); `unsubscribe` stops the address."""

    def __init__(self, reason: str, *, unsubscribe: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unsubscribe = unsubscribe


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to."""

    sent: bool
    retry: bool = False
    after: float | None = None
    reason: str | None = None
    unsubscribe: bool = False


class Sender(ABC):
    """Delivers text to one kind of address (a Telegram chat, a phone)."""

    channel = ""

    async def deliver(self, address: str, text: str) -> Outcome:
        """One attempt; never raises for delivery problems."""
        try:
            await self._send(address, text)
        except Retry as exc:
            return Outcome(sent=False, retry=True, after=exc.after, reason=exc.reason)
        except Permanent as exc:
            return Outcome(sent=False, reason=exc.reason, unsubscribe=exc.unsubscribe)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Outcome(sent=False, retry=True, reason=f"jaringan: {exc or type(exc).__name__}")
        return Outcome(sent=True)

    @abstractmethod
    async def _send(self, address: str, text: str) -> None:
        """Send, or raise Retry / Permanent (or a network error, which is retried)."""


class LogSender(Sender):
    """No gateway configured: log what would have been sent (addresses masked); the outbox records it
    as failed with that reason, never as sent (staff reading a ticket's messages see the truth)."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    async def _send(self, address: str, text: str) -> None:
        log.info("[%s, not sent: no gateway configured] to %s: %s", self.channel, mask_address(address), text)
        raise Permanent("tidak terkirim: gateway belum diatur (pesan hanya dicatat di log server)")
