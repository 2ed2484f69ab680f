"""Verified identities for the online queue: a phone confirmed by a one-time code sent through the
SMS outbox, or a Telegram chat the bot knows. Codes are kept only as an HMAC with the hall's own
secret, expire, allow a few tries and are rate-limited per phone (docs/booking.md)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from kiosk.queue.errors import Conflict, NotFound, TooManyRequests, Unauthorized, Unprocessable
from kiosk.queue.following import check_phone
from kiosk.queue.writer import Writer

log = logging.getLogger(__name__)
SECRET_KEY = "booking_secret"
CODE_DIGITS = 6


def phone_identity(e164: str) -> str:
    """The identity of a confirmed phone."""
    return f"sms:{e164}"


def telegram_identity(chat_id: int | str) -> str:
    """The identity of a Telegram chat (the bot knows it: no code needed)."""
    return f"telegram:{chat_id}"


def token_hash(token: str) -> str:
    """What is stored of an identity token."""
    return hashlib.sha256(token.encode()).hexdigest()


class Verifier:
    """Sends codes, checks them and hands out identity tokens."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self._secret: bytes | None = None

    async def _key(self) -> bytes:
        """The hall's secret for the codes' HMAC (made once, kept in the settings table)."""
        if self._secret is None:
            stored = await self.writer.store.reads.setting(SECRET_KEY)
            if stored is None:
                async with self.writer.write() as w:
                    stored = await w.q.setting(SECRET_KEY)
                    if stored is None:
                        stored = secrets.token_hex(32)
                        await w.q.set_setting(SECRET_KEY, stored, w.now, None)
            self._secret = bytes.fromhex(stored)
        return self._secret

    async def _digest(self, token: str, code: str) -> str:
        return hmac.new(await self._key(), f"{token}:{code}".encode(), hashlib.sha256).hexdigest()

    async def send_code(self, phone: str | None) -> dict[str, object]:
        """Send a code to a phone through the SMS outbox; returns the verification's token (what the
        page sends back with the code) and when the code expires."""
        e164 = check_phone(phone)
        if e164 is None:
            raise Unprocessable("Nomor HP wajib diisi.", code="invalid_phone")
        rules = self.writer.config.booking
        token = secrets.token_urlsafe(18)
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        digest = await self._digest(token, code)
        async with self.writer.write() as w:
            if await w.q.codes_sent(e164, w.now - 3600) >= rules.codes_per_hour:
                log.info("verification code refused for %s: %d per hour", e164[:6] + "…", rules.codes_per_hour)
                raise TooManyRequests(
                    f"Kode sudah dikirim {rules.codes_per_hour} kali dalam satu jam ke nomor ini. "
                    "Coba lagi nanti.", 3600.0, code="code_rate_limited")
            expires = w.now + rules.code_minutes * 60
            await w.q.add_verification(token=token, phone=e164, code_hash=digest, at=w.now, expires_at=expires)
            text = (f"Kode Giliran Anda: {code}. Berlaku {rules.code_minutes} menit. "
                    "Jangan berikan kode ini kepada siapa pun.")
            await w.q.enqueue_message(ticket_id=None, stage="code", channel="sms", address=e164, text=text,
                                      key=f"code:{token}", at=w.now)
            w.notify("alert.queued", {"channel": "sms"})
        return {"verification": token, "expires_at": self.writer.iso(expires), "phone_hint": e164[:5] + "…" + e164[-3:]}

    async def confirm(self, token: str, code: str) -> dict[str, object]:
        """Check a code; a right one gives an identity token valid `identity_hours`."""
        rules = self.writer.config.booking
        digest = await self._digest(token, code.strip())
        identity = secrets.token_urlsafe(24)
        async with self.writer.write() as w:
            row = await w.q.verification(token)
            if row is None:
                raise NotFound("Permintaan kode tidak ditemukan; minta kode baru.", code="unknown_verification")
            if row["confirmed_at"] is not None:
                raise Conflict("Kode ini sudah dipakai; minta kode baru.", code="code_used")
            if row["attempts"] >= rules.code_attempts:
                raise Conflict("Terlalu banyak percobaan salah; minta kode baru.", code="code_expired")
            if w.now > row["expires_at"]:
                raise Conflict("Kode sudah kedaluwarsa; minta kode baru.", code="code_expired")
            right = hmac.compare_digest(digest, row["code_hash"])
            await w.q.verification_tried(row["id"], w.now if right else None)
            if right:
                expires = w.now + rules.identity_hours * 3600
                await w.q.add_identity(token_hash(identity), phone_identity(row["phone"]), expires)
        if not right:
            left = rules.code_attempts - row["attempts"] - 1
            raise Unprocessable(f"Kode salah. Sisa percobaan: {max(0, left)}.", code="invalid_code")
        return {"identity": identity, "expires_at": self.writer.iso(expires)}

    async def pseudonym(self, identity: str) -> str:
        """What bookings keep of an identity for the limits after its day: a keyed hash (the phone or
        chat itself is kept only until the booking's day is over)."""
        return "id:" + hmac.new(await self._key(), identity.encode(), hashlib.sha256).hexdigest()[:32]

    async def identity(self, token: str | None) -> str:
        """The identity behind a token, or 401 `identity_required`."""
        found = await self.writer.store.reads.identity_of(token_hash(token), self.writer.clock.now()) if token else None
        if found is None:
            raise Unauthorized("Konfirmasi nomor HP Anda dulu dengan kode yang dikirim lewat SMS.",
                               code="identity_required")
        return found
