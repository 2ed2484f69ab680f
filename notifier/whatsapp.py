"""WhatsApp senders: Meta's WhatsApp Business Cloud API, and the Indonesian gateways Fonnte and
Wablas (formats: docs/alerts.md; research notes: what each provider answers and why we map it so).

Cloud API: free-form text only inside the 24-hour customer-service window (opened by the
citizen's own message); outside it, the stage's approved template with its parameters, or the
message is not sent (a template-less stage outside the window fails with that reason)."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp

from kiosk.hall.config import WHATSAPP_TEMPLATE_PARAMS, WhatsAppSettings
from kiosk.queue.clock import Clock
from notifier.senders import ChannelDown, LogSender, Outgoing, Permanent, Retry, Sender

WINDOW_S = 23.5 * 3600  # Meta's window is 24 h; keep a margin for clocks and queues
LastInbound = Callable[[str], Awaitable[float | None]]

RATE_LIMITED = {4, 80007, 130429, 131056}  # app, account, number throughput, pair rate limits
TRANSIENT = {1, 2, 131000, 131016}
HALL_REFUSED = {0, 10, 190, 368, 131031}  # auth, permission, expired token, blocked, account locked
NOT_ON_WHATSAPP = 131026
WINDOW_CLOSED = 131047


def graph_error(status: int, body: str) -> tuple[int, str]:
    """(code, message) of a Graph API error answer (a non-JSON body: the HTTP status as the code)."""
    try:
        error = json.loads(body).get("error") or {}
    except (ValueError, AttributeError):
        return status, body[:120]
    details = (error.get("error_data") or {}).get("details") or ""
    return int(error.get("code") or status), f"{error.get('message') or ''} {details}".strip()[:200]


def cloud_failure(status: int, code: int, message: str) -> Exception:
    """A Cloud API error as retry, give up, unsubscribe or "channel down"."""
    reason = f"WhatsApp Cloud API {code}: {message}"
    if code in RATE_LIMITED or status == 429:
        return Retry(reason)  # backed off as every retry (doubling from [alerts] retry_first_s)
    if code in HALL_REFUSED or 200 <= code <= 299 or status == 401:
        return ChannelDown(reason + " (periksa GILIRAN_WHATSAPP_TOKEN dan izin nomor WhatsApp aula)")
    if code == NOT_ON_WHATSAPP:
        return Permanent(reason + " (nomor ini tidak memakai WhatsApp)", unsubscribe=True)
    if code in TRANSIENT or status >= 500:
        return Retry(reason)
    return Permanent(reason)


class CloudSender(Sender):
    """Meta's WhatsApp Business Cloud API: `POST {graph}/{version}/{phone-number-id}/messages`,
    Bearer token; text inside the customer-service window, the stage's template outside it."""

    channel = "whatsapp"
    provider = "cloud"

    def __init__(self, settings: WhatsAppSettings, session: aiohttp.ClientSession, env: Mapping[str, str],
                 last_inbound: LastInbound, clock: Clock) -> None:
        base = settings.base_url or "https://graph.facebook.com"
        self.url = f"{base}/{settings.api_version}/{settings.phone_number_id}/messages"
        self.headers = {"Authorization": f"Bearer {env.get('GILIRAN_WHATSAPP_TOKEN', '')}"}
        self.settings = settings
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=settings.timeout_s)
        self.last_inbound = last_inbound
        self.clock = clock

    async def window_open(self, address: str) -> bool:
        """Whether the citizen wrote to the hall within the last 23.5 hours."""
        last = await self.last_inbound(address)
        return last is not None and self.clock.now() - last < WINDOW_S

    def template(self, message: Outgoing) -> dict[str, Any]:
        """The stage's approved template, its parameters from the message's facts."""
        name = self.settings.templates.get(message.stage)
        if name is None:
            raise Permanent(f"di luar jendela 24 jam WhatsApp dan tahap '{message.stage}' tidak punya template "
                            "([whatsapp.templates])")
        facts = message.data.get("facts", {})
        parameters = [{"type": "text", "text": str(facts.get(key, ""))}
                      for key in WHATSAPP_TEMPLATE_PARAMS.get(message.stage, ())]
        template: dict[str, Any] = {"name": name, "language": {"code": self.settings.language}}
        if parameters:
            template["components"] = [{"type": "body", "parameters": parameters}]
        return {"type": "template", "template": template}

    async def _post(self, to: str, content: dict[str, Any]) -> tuple[int, str]:
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **content}
        async with self.session.post(self.url, json=body, headers=self.headers, timeout=self.timeout) as resp:
            return resp.status, await resp.text()

    async def _send(self, message: Outgoing) -> str | None:
        to = message.address.lstrip("+")
        as_template = message.data.get("template") is True or not await self.window_open(message.address)
        content = self.template(message) if as_template else \
            {"type": "text", "text": {"body": message.text[:4096], "preview_url": False}}
        status, body = await self._post(to, content)
        if status >= 300:
            code, text = graph_error(status, body)
            if code == WINDOW_CLOSED and not as_template:  # the window closed after all: the template, once
                status, body = await self._post(to, self.template(message))
                if status >= 300:
                    raise cloud_failure(status, *graph_error(status, body))
            else:
                raise cloud_failure(status, code, text)
        try:
            return str(json.loads(body)["messages"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError):
            raise Permanent(f"WhatsApp Cloud API answered {status} without a message id: {body[:80]}") from None


def _lower_keys(answer: Any) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in answer.items()} if isinstance(answer, dict) else {}


def gateway_refusal(provider: str, reason: str) -> Exception:
    """A gateway's `status: false` reason as give up, unsubscribe, "channel down" or retry."""
    text = reason.lower()
    label = f"{provider}: {reason}"
    if any(word in text for word in ("token", "secret", "quota", "kuota", "expired", "unauthorized")):
        return ChannelDown(label + " (periksa GILIRAN_WHATSAPP_TOKEN dan paket gateway)")
    if "target" in text or "phone" in text or "number" in text:
        return Permanent(label, unsubscribe=True)
    if "invalid" in text:
        return Permanent(label)
    return Retry(label)  # a disconnected device, a busy gateway: try again (until give_up_minutes)


class FonnteSender(Sender):
    """Fonnte: `POST https://api.fonnte.com/send`, `Authorization: <token>` (no Bearer), form
    fields target, message, countryCode; JSON `status` true/false (HTTP 200 either way)."""

    channel = "whatsapp"
    provider = "fonnte"

    def __init__(self, settings: WhatsAppSettings, session: aiohttp.ClientSession, env: Mapping[str, str]) -> None:
        self.url = f"{settings.base_url or 'https://api.fonnte.com'}/send"
        self.headers = {"Authorization": env.get("GILIRAN_WHATSAPP_TOKEN", "")}
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=settings.timeout_s)

    async def _send(self, message: Outgoing) -> str | None:
        form = {"target": message.address.lstrip("+"), "message": message.text, "countryCode": "62"}
        async with self.session.post(self.url, data=form, headers=self.headers, timeout=self.timeout) as resp:
            status, body = resp.status, await resp.text()
        if status == 429 or status >= 500:
            raise Retry(f"Fonnte HTTP {status}: {body[:100]}")
        try:
            answer = _lower_keys(json.loads(body))
        except ValueError:
            raise Retry(f"Fonnte answered HTTP {status}, not JSON: {body[:80]}") from None
        if answer.get("status") is not True:
            raise gateway_refusal("Fonnte", str(answer.get("reason") or answer.get("detail") or answer))
        ids = answer.get("id") or []
        return str(ids[0]) if isinstance(ids, list) and ids else None


class WablasSender(Sender):
    """Wablas: `POST {server}/api/send-message`, `Authorization: <token>` (or `<token>.<secret
    key>` for newer accounts), JSON phone and message; JSON `status` true/false."""

    channel = "whatsapp"
    provider = "wablas"

    def __init__(self, settings: WhatsAppSettings, session: aiohttp.ClientSession, env: Mapping[str, str]) -> None:
        self.url = f"{settings.base_url}/api/send-message"
        token, secret = env.get("GILIRAN_WHATSAPP_TOKEN", ""), env.get("GILIRAN_WHATSAPP_SECRET_KEY", "")
        self.headers = {"Authorization": f"{token}.{secret}" if secret else token}
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=settings.timeout_s)

    async def _send(self, message: Outgoing) -> str | None:
        body = {"phone": message.address.lstrip("+"), "message": message.text}
        async with self.session.post(self.url, json=body, headers=self.headers, timeout=self.timeout) as resp:
            status, text = resp.status, await resp.text()
        if status == 429 or status >= 500:
            raise Retry(f"Wablas HTTP {status}: {text[:100]}")
        try:
            answer = _lower_keys(json.loads(text))
        except ValueError:
            raise Retry(f"Wablas answered HTTP {status}, not JSON: {text[:80]}") from None
        if answer.get("status") is not True:
            raise gateway_refusal("Wablas", str(answer.get("message") or answer))
        messages = (answer.get("data") or {}).get("messages") or [{}]
        return str(messages[0].get("id")) if messages[0].get("id") else None


def whatsapp_sender(settings: WhatsAppSettings, session: aiohttp.ClientSession, last_inbound: LastInbound,
                    clock: Clock, env: Mapping[str, str] | None = None) -> Sender:
    """The configured WhatsApp provider, or one that only logs."""
    env = os.environ if env is None else env
    if settings.provider == "cloud":
        return CloudSender(settings, session, env, last_inbound, clock)
    if settings.provider == "fonnte":
        return FonnteSender(settings, session, env)
    if settings.provider == "wablas":
        return WablasSender(settings, session, env)
    return LogSender("whatsapp")
