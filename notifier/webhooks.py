"""What providers post to the hall: Telegram updates, WhatsApp messages and delivery reports,
SMS received by SMS Gateway for Android. Each is checked first; a request that fails the check
is refused (403) and nothing of it is read further or stored."""

from __future__ import annotations

import hmac
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kiosk.queue.errors import BadRequest, Forbidden
from kiosk.queue.following import Following
from kiosk.web.appkeys import CLOCK, FOLLOWING, QUEUE, SETTINGS
from kiosk.web.http import json_body, ok
from notifier.inbound import (
    NOT_ON_WHATSAPP,
    WINDOW_CLOSED,
    StatusReport,
    cloud_events,
    gateway_message,
    hub_signature_ok,
    smsgate_message,
    smsgate_signature_ok,
)
from notifier.replies import Replies

if TYPE_CHECKING:
    from notifier.telegram_bot import TelegramBot

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


@dataclass(frozen=True)
class WebhookSecrets:
    """What providers' webhooks are checked with (environment only, never the hall document)."""

    whatsapp_app_secret: str = ""  # Meta: the app secret (X-Hub-Signature-256)
    whatsapp_verify_token: str = ""  # Meta: hub.verify_token of the subscription check
    whatsapp_path_secret: str = ""  # Fonnte, Wablas: the secret part of the webhook's URL
    sms_signing_key: str = ""  # SMS Gateway for Android: Settings > Webhooks > signing key

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebhookSecrets:
        """GILIRAN_WHATSAPP_APP_SECRET, _VERIFY_TOKEN, _WEBHOOK_SECRET and GILIRAN_SMS_WEBHOOK_KEY."""
        env = os.environ if env is None else env
        return cls(whatsapp_app_secret=env.get("GILIRAN_WHATSAPP_APP_SECRET", ""),
                   whatsapp_verify_token=env.get("GILIRAN_WHATSAPP_VERIFY_TOKEN", ""),
                   whatsapp_path_secret=env.get("GILIRAN_WHATSAPP_WEBHOOK_SECRET", ""),
                   sms_signing_key=env.get("GILIRAN_SMS_WEBHOOK_KEY", ""))


REPLIES = web.AppKey("replies", Replies)
SECRETS = web.AppKey("webhook_secrets", WebhookSecrets)
BOT = web.AppKey("telegram_bot", object)


@routes.post("/telegram/webhook")
async def telegram_webhook(request: web.Request) -> web.Response:
    """Updates from Telegram in webhook mode, checked by the secret-token header."""
    bot: TelegramBot | None = request.app.get(BOT)  # type: ignore[assignment]
    secret = request.app[SETTINGS].telegram_secret or ""
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if bot is None or not secret or not hmac.compare_digest(given, secret):
        raise Forbidden("Webhook tidak sah.")
    await bot.feed(await json_body(request))
    return ok({"ok": True})


@routes.get("/whatsapp/webhook")
async def whatsapp_verify(request: web.Request) -> web.Response:
    """Meta checks the callback URL: the challenge comes back only with the right verify token."""
    token = request.app[SECRETS].whatsapp_verify_token
    given = request.query.get("hub.verify_token", "")
    if request.app[QUEUE].config.whatsapp.provider != "cloud" or not token \
            or request.query.get("hub.mode") != "subscribe" or not hmac.compare_digest(given, token):
        raise Forbidden("Verifikasi webhook WhatsApp ditolak.")
    return web.Response(text=request.query.get("hub.challenge", ""))


@routes.post("/whatsapp/webhook")
async def whatsapp_events(request: web.Request) -> web.Response:
    """Meta's Cloud API: citizens' messages and delivery reports, signed with the app secret."""
    raw = await request.read()
    if request.app[QUEUE].config.whatsapp.provider != "cloud" or not hub_signature_ok(
            request.app[SECRETS].whatsapp_app_secret, raw, request.headers.get("X-Hub-Signature-256")):
        log.warning("WhatsApp webhook refused: bad or missing X-Hub-Signature-256 (from %s)", request.remote)
        raise Forbidden("Tanda tangan webhook tidak sah.", code="bad_signature")
    payload = _json(raw)
    messages, reports = cloud_events(payload)
    for message in messages:
        await request.app[REPLIES].handle("whatsapp", message.address, message.text, message.external_id)
    for report in reports:
        await _delivery_failed(request.app[FOLLOWING], report)
    return ok({"ok": True})


@routes.post("/whatsapp/webhook/{secret}")
async def whatsapp_gateway_events(request: web.Request) -> web.Response:
    """Fonnte and Wablas post incoming messages unsigned: their URL holds a secret instead."""
    secret = request.app[SECRETS].whatsapp_path_secret
    provider = request.app[QUEUE].config.whatsapp.provider
    if provider not in ("fonnte", "wablas") or not secret \
            or not hmac.compare_digest(request.match_info["secret"], secret):
        log.warning("WhatsApp gateway webhook refused: wrong secret in its URL (from %s)", request.remote)
        raise Forbidden("Webhook tidak sah.", code="bad_signature")
    if request.content_type == "application/json":
        payload = _json(await request.read())
    else:
        payload = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    message = gateway_message(provider, payload if isinstance(payload, dict) else {})
    if message is not None:
        await request.app[REPLIES].handle("whatsapp", message.address, message.text, message.external_id)
    return ok({"status": True})


@routes.post("/sms/webhook")
async def sms_received(request: web.Request) -> web.Response:
    """SMS Gateway for Android's `sms:received` webhook, signed (X-Signature, X-Timestamp)."""
    raw = await request.read()
    if not smsgate_signature_ok(request.app[SECRETS].sms_signing_key, raw, request.headers.get("X-Signature"),
                                request.headers.get("X-Timestamp"), request.app[CLOCK].now()):
        log.warning("SMS webhook refused: bad, missing or stale X-Signature (from %s)", request.remote)
        raise Forbidden("Tanda tangan webhook tidak sah.", code="bad_signature")
    message = smsgate_message(_json(raw))
    if message is not None:
        await request.app[REPLIES].handle("sms", message.address, message.text, message.external_id)
    return ok({"ok": True})


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Isi webhook harus JSON yang valid.") from None


async def _delivery_failed(following: Following, report: StatusReport) -> None:
    """A message Meta accepted was not delivered: record it; outside the window, send the template
    instead (once); a number that is not on WhatsApp follows nothing any more."""
    message = await following.delivery_failed("whatsapp", report.provider_id, report.reason)
    if message is None:
        return
    log.info("WhatsApp message %s not delivered: %s", message["id"], report.reason)
    if report.code == WINDOW_CLOSED and not message["data"].get("template") and message["stage"] != "reply":
        ticket = await following.writer.store.reads.ticket_by_id(message["ticket_id"]) \
            if message["ticket_id"] else None
        await following.queue_message(channel="whatsapp", address=message["address"], stage=message["stage"],
                                      text=message["text"], key=message["key"] + ":template", ticket=ticket,
                                      data=message["data"] | {"template": True})
    elif report.code == NOT_ON_WHATSAPP:
        await following.unsubscribe_address("whatsapp", message["address"])
