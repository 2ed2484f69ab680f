"""Messages that come in: checking and reading each provider's webhook, and Gammu's inbox folder.

Every webhook is checked before anything is read or stored: Meta's `X-Hub-Signature-256` (HMAC
of the raw body with the app secret), SMS Gateway for Android's `X-Signature` (HMAC of the body
and `X-Timestamp`, which must be recent), a secret path for the gateways that sign nothing
(Fonnte, Wablas)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.queue.errors import DomainError
from kiosk.queue.phone import normalise_phone

log = logging.getLogger(__name__)

SMSGATE_MAX_SKEW_S = 300.0
WINDOW_CLOSED = 131047  # Cloud API: more than 24 hours since the citizen last wrote
NOT_ON_WHATSAPP = 131026  # Cloud API: the number cannot receive WhatsApp messages


@dataclass(frozen=True)
class Incoming:
    """A text a citizen sent: from whom (E.164 phone), what, and the provider's id of it."""

    address: str
    text: str
    external_id: str


@dataclass(frozen=True)
class StatusReport:
    """A provider's later word on a message it had accepted (only failures matter to us)."""

    provider_id: str
    code: int | None
    reason: str


def phone_of(value: Any) -> str | None:
    """An Indonesian mobile number in any common shape ('6281...', '+62 812...', '0812...'), else None."""
    try:
        return normalise_phone(str(value or ""))
    except DomainError:
        return None


def hub_signature_ok(secret: str, raw: bytes, header: str | None) -> bool:
    """Meta's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed by the app secret>`."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


def smsgate_signature_ok(key: str, raw: bytes, signature: str | None, timestamp: str | None, now: float) -> bool:
    """SMS Gateway for Android: `X-Signature` = hex HMAC-SHA256(key, body + X-Timestamp), and the
    timestamp within five minutes (an old delivery replayed is refused)."""
    if not key or not signature or not timestamp or not timestamp.isdigit():
        return False
    if abs(now - int(timestamp)) > SMSGATE_MAX_SKEW_S:
        return False
    expected = hmac.new(key.encode(), raw + timestamp.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.lower())


def cloud_events(payload: Any) -> tuple[list[Incoming], list[StatusReport]]:
    """Texts and failed-delivery reports in a Cloud API webhook (`entry[].changes[].value`)."""
    messages: list[Incoming] = []
    reports: list[StatusReport] = []
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        for change in entry.get("changes") or [] if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            for m in value.get("messages") or []:
                text = _cloud_text(m)
                address = phone_of(m.get("from"))
                if text is not None and address and m.get("id"):
                    messages.append(Incoming(address, text, str(m["id"])))
            for status in value.get("statuses") or []:
                if status.get("status") == "failed" and status.get("id"):
                    error = (status.get("errors") or [{}])[0]
                    details = (error.get("error_data") or {}).get("details") or error.get("message") or ""
                    reports.append(StatusReport(str(status["id"]), _int(error.get("code")),
                                                f"{error.get('title') or 'gagal'}: {details}"[:200]))
    return messages, reports


def _cloud_text(message: dict[str, Any]) -> str | None:
    kind = message.get("type")
    if kind == "text":
        return str((message.get("text") or {}).get("body") or "")
    if kind == "button":  # a template's quick-reply button
        return str((message.get("button") or {}).get("text") or "")
    if kind == "interactive":
        reply = message.get("interactive") or {}
        chosen = reply.get("button_reply") or reply.get("list_reply") or {}
        return str(chosen.get("title") or "")
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def gateway_message(provider: str, payload: dict[str, Any]) -> Incoming | None:
    """A text in a Fonnte (`sender`, `message`, `inboxid`) or Wablas (`phone`, `message`, `id`)
    webhook; None for what is not a citizen's text (a group, our own message, a status)."""
    if str(payload.get("isGroup", payload.get("isgroup", ""))).lower() in ("true", "1") or payload.get("member"):
        return None
    if str(payload.get("isFromMe", "")).lower() in ("true", "1"):
        return None
    sender = payload.get("sender") if provider == "fonnte" else payload.get("phone")
    address = phone_of(sender)
    text = payload.get("message")
    if address is None or not isinstance(text, str) or not text.strip():
        return None
    given = payload.get("inboxid") if provider == "fonnte" else payload.get("id")
    if given:
        external_id = f"{provider}:{given}"
    else:  # no id: the same text from the same phone at the same moment is the same message
        stamp = str(payload.get("timestamp") or payload.get("time") or "")
        external_id = f"{provider}:" + hashlib.sha256(f"{address}|{stamp}|{text}".encode()).hexdigest()[:32]
    return Incoming(address, text, external_id)


def smsgate_message(payload: Any) -> Incoming | None:
    """An `sms:received` event of SMS Gateway for Android (other events: None)."""
    if not isinstance(payload, dict) or payload.get("event") != "sms:received":
        return None
    body = payload.get("payload") or {}
    address = phone_of(body.get("sender") or body.get("phoneNumber"))
    text = body.get("message")
    if address is None or not isinstance(text, str):
        return None
    external_id = str(payload.get("id") or hashlib.sha256(
        f"{address}|{body.get('receivedAt')}|{text}".encode()).hexdigest()[:32])
    return Incoming(address, text, f"smsgate:{external_id}")


INBOX_NAME = re.compile(r"^IN(\d{8})_(\d{6})_(\d{2})_(.+)_(\d{2})\.txt$")


def read_inbox_text(data: bytes) -> str:
    """A Gammu inbox file's text: UTF-16 with a BOM (InboxFormat = unicode), else UTF-8, else Latin-1."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class GammuInbox:
    """Reads Gammu SMSD's FILES-backend inbox (`IN<date>_<time>_<serial>_<sender>_<part>.txt`):
    each message's parts joined, handed on, then moved to `<inbox>/giliran-selesai/`."""

    def __init__(self, folder: str | Path, handle: Callable[[Incoming], Awaitable[None]],
                 every_s: float = 2.0) -> None:
        self.folder = Path(folder)
        self.done = self.folder / "giliran-selesai"
        self.handle = handle
        self.every_s = every_s

    async def run(self) -> None:
        """Look into the folder every few seconds until cancelled."""
        while True:
            try:
                await self.read_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reading Gammu's inbox %s failed; trying again", self.folder)
            await asyncio.sleep(self.every_s)

    async def read_once(self) -> int:
        """Hand on every complete message in the folder; returns how many."""
        groups: dict[tuple[str, str, str, str], list[tuple[int, Path]]] = {}
        for path in await asyncio.to_thread(lambda: sorted(self.folder.glob("IN*.txt"))):
            match = INBOX_NAME.match(path.name)
            if match:
                date, time, serial, sender, part = match.groups()
                groups.setdefault((date, time, serial, sender), []).append((int(part), path))
        handled = 0
        for (_, _, _, sender), parts in sorted(groups.items()):
            parts.sort()
            address = phone_of(sender)
            texts = [read_inbox_text(await asyncio.to_thread(p.read_bytes)) for _, p in parts]
            if address is not None:
                await self.handle(Incoming(address, "".join(texts).strip(), f"gammu:{parts[0][1].name}"))
                handled += 1
            else:
                log.info("Gammu inbox: %s is not an Indonesian mobile number; message set aside", sender)
            await asyncio.to_thread(self._set_aside, [p for _, p in parts])
        return handled

    def _set_aside(self, paths: list[Path]) -> None:
        self.done.mkdir(exist_ok=True)
        for path in paths:
            path.replace(self.done / path.name)
