"""SMS gateways used by Indonesian offices, behind the Sender interface (formats: DOMAIN.md)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Mapping

import aiohttp

from kiosk.hall.config import SmsSettings
from notifier.senders import LogSender, Permanent, Retry, Sender


def national(phone: str) -> str:
    """'+6281234567890' -> '081234567890'."""
    return "0" + phone[3:] if phone.startswith("+62") else phone


def _http_outcome(status: int, body: str, retry_after: str | None = None) -> None:
    if status == 429 or status >= 500:
        after = float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else None
        raise Retry(f"gateway HTTP {status}: {body[:120]}", after)
    if status >= 400:
        raise Permanent(f"gateway HTTP {status}: {body[:120]}")


class SmsGateSender(Sender):
    """SMS Gateway for Android (an Android phone, local or cloud mode): JSON, HTTP Basic auth, 202."""

    channel = "sms"

    def __init__(self, settings: SmsSettings, session: aiohttp.ClientSession, env: Mapping[str, str]) -> None:
        self.url = f"{settings.base_url}{settings.path or '/message'}"
        credentials = f'{env.get("GILIRAN_SMS_USERNAME", "")}:{env.get("GILIRAN_SMS_PASSWORD", "")}'
        self.headers = {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=settings.timeout_s)

    async def _send(self, address: str, text: str) -> None:
        payload = {"textMessage": {"text": text}, "phoneNumbers": [address]}
        async with self.session.post(self.url, json=payload, headers=self.headers, timeout=self.timeout) as resp:
            _http_outcome(resp.status, await resp.text(), resp.headers.get("Retry-After"))


class ZenzivaSender(Sender):
    """Zenziva (Indonesian, commercial): form fields userkey, passkey, to, message; JSON status "1"."""

    channel = "sms"
    DEFAULT_URL = "https://console.zenziva.net/reguler/api/sendsms/"

    def __init__(self, settings: SmsSettings, session: aiohttp.ClientSession, env: Mapping[str, str]) -> None:
        self.url = f"{settings.base_url}{settings.path or ''}" if settings.base_url else self.DEFAULT_URL
        self.userkey = env.get("GILIRAN_SMS_USERNAME", "")
        self.passkey = env.get("GILIRAN_SMS_PASSWORD", "")
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=settings.timeout_s)

    async def _send(self, address: str, text: str) -> None:
        form = {"userkey": self.userkey, "passkey": self.passkey, "to": national(address), "message": text}
        async with self.session.post(self.url, data=form, timeout=self.timeout) as resp:
            body = await resp.text()
            _http_outcome(resp.status, body)
        try:
            answer = json.loads(body)
        except ValueError:
            raise Retry(f"Zenziva answered something that is not JSON: {body[:80]}") from None
        if str(answer.get("status")) != "1":
            raise Permanent(f"Zenziva refused: {answer.get('text') or answer}")


class GammuSender(Sender):
    """A GSM modem through Gammu SMSD: `gammu-smsd-inject TEXT 0812... -text "..."`."""

    channel = "sms"

    def __init__(self, settings: SmsSettings, session: aiohttp.ClientSession, env: Mapping[str, str]) -> None:
        self.command = settings.command
        self.timeout = settings.timeout_s

    async def _send(self, address: str, text: str) -> None:
        try:
            proc = await asyncio.create_subprocess_exec(
                self.command, "TEXT", national(address), "-text", text,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        except FileNotFoundError:
            raise Retry(f"{self.command} is not installed") from None
        try:
            out, err = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise Retry(f"{self.command} took too long") from None
        if proc.returncode != 0:
            raise Retry(f"{self.command} failed ({proc.returncode}): {(err or out).decode(errors='replace')[:120]}")


class HttpSender(Sender):
    """Any gateway taking a JSON POST: URL and body template from the hall file, token from the env."""

    channel = "sms"
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

    async def _send(self, address: str, text: str) -> None:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        async with self.session.post(self.url, data=self.body(address, text).encode(), headers=headers,
                                     timeout=self.timeout) as resp:
            _http_outcome(resp.status, await resp.text(), resp.headers.get("Retry-After"))


GATEWAYS: dict[str, type[Sender]] = {
    "smsgate": SmsGateSender,
    "zenziva": ZenzivaSender,
    "gammu": GammuSender,
    "http": HttpSender,
}


def sms_sender(settings: SmsSettings, session: aiohttp.ClientSession, env: Mapping[str, str] | None = None) -> Sender:
    """The configured gateway, or one that only logs."""
    if settings.provider == "log":
        return LogSender("sms")
    return GATEWAYS[settings.provider](settings, session, os.environ if env is None else env)  # type: ignore[call-arg]
