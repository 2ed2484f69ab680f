"""SMS gateways used by Indonesian offices, behind the Sender interface (formats: DOMAIN.md and
docs/alerts.md)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
from collections.abc import Mapping

import aiohttp

from kiosk.hall.config import SmsSettings
from notifier.messages import is_gsm7
from notifier.senders import ChannelDown, LogSender, Outgoing, Permanent, Retry, Sender

log = logging.getLogger(__name__)


def national(phone: str) -> str:
    """'+6281234567890' -> '081234567890'."""
    return "0" + phone[3:] if phone.startswith("+62") else phone


def _http_outcome(status: int, body: str, retry_after: str | None = None) -> None:
    if status == 429 or status >= 500:
        after = float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else None
        raise Retry(f"gateway HTTP {status}: {body[:120]}", after)
    if status in (401, 403):
        raise ChannelDown(f"gateway menolak kredensial (HTTP {status}): periksa GILIRAN_SMS_*")
    if status >= 400:
        raise Permanent(f"gateway HTTP {status}: {body[:120]}")


class SmsGateSender(Sender):
    """SMS Gateway for Android (an Android phone, local or cloud mode): `POST /messages`, JSON,
    HTTP Basic auth, 202. Apps older than 1.39 do not know `textMessage` (they answer 400 or 500):
    the message is sent again with the deprecated `message` field, and from then on."""

    channel = "sms"
    provider = "smsgate"
    OLD_APP = ("Aplikasi SMS Gateway di ponsel versi lama (sebelum 1.39): pesan dikirim dengan format lama; "
               "perbarui aplikasinya.")

    def __init__(self, settings: SmsSettings, session: aiohttp.ClientSession, env: Mapping[str, str]) -> None:
        self.url = f"{settings.base_url}{settings.path or '/messages'}"
        credentials = f'{env.get("GILIRAN_SMS_USERNAME", "")}:{env.get("GILIRAN_SMS_PASSWORD", "")}'
        self.headers = {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=settings.timeout_s)
        self.legacy = False  # the phone's app only knows the old `message` field

    async def _post(self, payload: dict[str, object]) -> tuple[int, str, str | None]:
        async with self.session.post(self.url, json=payload, headers=self.headers, timeout=self.timeout) as resp:
            return resp.status, await resp.text(), resp.headers.get("Retry-After")

    async def _send(self, message: Outgoing) -> str | None:
        if self.legacy:
            status, body, after = await self._post({"message": message.text, "phoneNumbers": [message.address]})
        else:
            status, body, after = await self._post({"textMessage": {"text": message.text},
                                                    "phoneNumbers": [message.address]})
            if status in (400, 500):
                # An app before 1.39 reads only `message`: without it, it fails (500: its null check;
                # 400 on some builds). Try the old format once before calling the message bad.
                old_status, old_body, old_after = await self._post({"message": message.text,
                                                                    "phoneNumbers": [message.address]})
                if old_status < 300:
                    self.legacy, self.notice = True, self.OLD_APP
                    log.warning("SMS Gateway for Android refused textMessage (HTTP %d: %s) and took the old "
                                "'message' field: the phone's app is older than 1.39; update it", status, body[:120])
                    return _message_id(old_body)
                if status == 500 and old_status >= 500:
                    raise Retry(f"gateway HTTP {status}: {body[:120]}")
                raise Permanent(f"SMS Gateway menolak pesan (HTTP {status}: {body[:100]}); format lama juga ditolak "
                                f"(HTTP {old_status}: {old_body[:60]})")
        _http_outcome(status, body, after)
        return _message_id(body)


def _message_id(body: str) -> str | None:
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    return str(answer["id"]) if isinstance(answer, dict) and answer.get("id") else None


class ZenzivaSender(Sender):
    """Zenziva (Indonesian, commercial): form fields userkey, passkey, to, message; JSON status "1"."""

    channel = "sms"
    provider = "zenziva"
    DEFAULT_URL = "https://console.zenziva.net/reguler/api/sendsms/"

    def __init__(self, settings: SmsSettings, session: aiohttp.ClientSession, env: Mapping[str, str]) -> None:
        self.url = f"{settings.base_url}{settings.path or ''}" if settings.base_url else self.DEFAULT_URL
        self.userkey = env.get("GILIRAN_SMS_USERNAME", "")
        self.passkey = env.get("GILIRAN_SMS_PASSWORD", "")
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=settings.timeout_s)

    async def _send(self, message: Outgoing) -> str | None:
        form = {"userkey": self.userkey, "passkey": self.passkey, "to": national(message.address),
                "message": message.text}
        async with self.session.post(self.url, data=form, timeout=self.timeout) as resp:
            body = await resp.text()
            _http_outcome(resp.status, body)
        try:
            answer = json.loads(body)
        except ValueError:
            raise Retry(f"Zenziva answered something that is not JSON: {body[:80]}") from None
        if str(answer.get("status")) != "1":
            raise Permanent(f"Zenziva refused: {answer.get('text') or answer}")
        return str(answer["messageId"]) if answer.get("messageId") else None


class GammuSender(Sender):
    """A GSM modem through Gammu SMSD: `gammu-smsd-inject [-c FILE] TEXT 0812... [-unicode]
    -textutf8 "..."`. `-textutf8` takes the text as UTF-8 whatever the process locale (`-text`
    decodes it with the locale: under LC_ALL=C "Café" was stored as "Caf")."""

    channel = "sms"
    provider = "gammu"

    def __init__(self, settings: SmsSettings, session: aiohttp.ClientSession, env: Mapping[str, str]) -> None:
        self.command = settings.command
        self.config = settings.gammu_config
        self.timeout = settings.timeout_s

    def argv(self, address: str, text: str) -> list[str]:
        """The command line for one message."""
        config = ["-c", self.config] if self.config else []
        coding = [] if is_gsm7(text) else ["-unicode"]  # GSM-7 would drop what it cannot hold
        return [self.command, *config, "TEXT", national(address), *coding, "-textutf8", text]

    async def _send(self, message: Outgoing) -> str | None:
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv(message.address, message.text), stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE)
        except FileNotFoundError:
            raise ChannelDown(f"{self.command} tidak terpasang (apt install gammu-smsd)") from None
        try:
            out, err = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise Retry(f"{self.command} took too long") from None
        text = (out + err).decode(errors="replace")
        if proc.returncode == 2:  # gammu-smsd-inject: the config cannot be read
            raise ChannelDown(f"{self.command}: konfigurasi Gammu tidak terbaca: {text.strip()[-120:]}")
        if proc.returncode != 0:
            raise Retry(f"{self.command} failed ({proc.returncode}): {text.strip()[-120:]}")
        written = [line for line in text.splitlines() if line.startswith("Written message with ID")]
        return written[-1].removeprefix("Written message with ID").strip() if written else None


class HttpSender(Sender):
    """Any gateway taking a JSON POST: URL and body template from the hall file, token from the env."""

    channel = "sms"
    provider = "http"
    DEFAULT_TEMPLATE = '{"to": "{phone}", "message": "{text}"}'

    def __init__(self, settings: SmsSettings, session: aiohttp.ClientSession, env: Mapping[str, str]) -> None:
        self.url = f"{settings.base_url}{settings.path or ''}"
        self.template = settings.body_template or self.DEFAULT_TEMPLATE
        self.token = env.get("GILIRAN_SMS_TOKEN")
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=settings.timeout_s)

    def body(self, address: str, text: str) -> str:
        """The template with JSON-escaped values put in."""
        def esc(value: str) -> str:
            return json.dumps(value)[1:-1]
        return self.template.replace("{phone}", esc(address)).replace("{text}", esc(text))

    async def _send(self, message: Outgoing) -> str | None:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        async with self.session.post(self.url, data=self.body(message.address, message.text).encode(),
                                     headers=headers, timeout=self.timeout) as resp:
            _http_outcome(resp.status, await resp.text(), resp.headers.get("Retry-After"))
        return None


GATEWAYS: dict[str, type[SmsGateSender | ZenzivaSender | GammuSender | HttpSender]] = {
    "smsgate": SmsGateSender,
    "zenziva": ZenzivaSender,
    "gammu": GammuSender,
    "http": HttpSender,
}


def sms_sender(settings: SmsSettings, session: aiohttp.ClientSession, env: Mapping[str, str] | None = None) -> Sender:
    """The configured gateway, or one that only logs."""
    if settings.provider == "log":
        return LogSender("sms")
    return GATEWAYS[settings.provider](settings, session, os.environ if env is None else env)
