"""Message senders: a small base class whose one public method maps every failure to retry, give
up or "the channel is down"."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

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


class ChannelDown(Exception):
    """The provider refuses the hall itself (a revoked token, no quota left): no message of this
    channel can go until an operator acts. Messages wait; admins are told."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Outgoing:
    """One outbox message as a sender sees it."""

    id: int
    address: str
    text: str
    stage: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # buttons (Telegram), facts for templates (WhatsApp)

    @classmethod
    def of(cls, row: dict[str, Any]) -> Outgoing:
        """From an outbox row."""
        return cls(id=row["id"], address=row["address"], text=row["text"], stage=row["stage"],
                   data=row.get("data") or {})


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to."""

    sent: bool
    retry: bool = False
    after: float | None = None
    reason: str | None = None
    unsubscribe: bool = False
    down: bool = False  # the channel itself is refused (see ChannelDown)
    provider_id: str | None = None  # the provider's id of the message (for its delivery reports)


class Sender(ABC):
    """Delivers text to one kind of address (a Telegram chat, a phone)."""

    channel = ""
    provider = ""
    notice: str | None = None  # something admins should know that is not an error (an old gateway app)
    down_reason: str | None = None  # set by a sender that knows its channel is refused (a bot refused at start)

    async def deliver(self, message: Outgoing) -> Outcome:
        """One attempt; never raises for delivery problems (nor for a sender's own bug: that is
        logged and retried, so one message can never stop a channel)."""
        try:
            provider_id = await self._send(message)
        except Retry as exc:
            return Outcome(sent=False, retry=True, after=exc.after, reason=exc.reason)
        except Permanent as exc:
            return Outcome(sent=False, reason=exc.reason, unsubscribe=exc.unsubscribe)
        except ChannelDown as exc:
            return Outcome(sent=False, retry=True, reason=exc.reason, down=True)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Outcome(sent=False, retry=True, reason=f"jaringan: {exc or type(exc).__name__}")
        except Exception as exc:
            log.exception("%s sender failed unexpectedly on message %s", self.channel, message.id)
            return Outcome(sent=False, retry=True, reason=f"kesalahan tak terduga: {type(exc).__name__}: {exc}")
        return Outcome(sent=True, provider_id=provider_id)

    @abstractmethod
    async def _send(self, message: Outgoing) -> str | None:
        """Send; returns the provider's id of the message if it gives one. Raise Retry, Permanent
        or ChannelDown (a network error is retried)."""


class LogSender(Sender):
    """No gateway configured: log what would have been sent (addresses masked); the outbox records it
    as failed with that reason, never as sent (staff reading a ticket's messages see the truth)."""

    provider = "log"

    def __init__(self, channel: str) -> None:
        self.channel = channel

    async def _send(self, message: Outgoing) -> str | None:
        log.info("[%s, not sent: no gateway configured] to %s: %s", self.channel, mask_address(message.address),
                 message.text)
        raise Permanent("tidak terkirim: gateway belum diatur (pesan hanya dicatat di log server)")
