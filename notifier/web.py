"""Wires the alert policy, the outbox worker, the Telegram bot and the SMS gateway into the app."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from kiosk.queue.errors import Forbidden
from kiosk.queue.models import Ticket
from kiosk.support.aio import stop_tasks
from kiosk.web.appkeys import BUS, CLOCK, FOLLOWING, QUEUE, SETTINGS
from kiosk.web.http import field, json_body, ok, staff
from notifier.outbox import OutboxWorker
from notifier.policy import AlertPolicy
from notifier.senders import LogSender, Retry, Sender
from notifier.sms import sms_sender

if TYPE_CHECKING:
    from notifier.telegram_bot import TelegramBot

log = logging.getLogger(__name__)
OUTBOX = web.AppKey("outbox", OutboxWorker)
BOT = web.AppKey("telegram_bot", object)
routes = web.RouteTableDef()
BOT_RETRY_S = 30.0


@routes.get("/api/tickets/{token}/messages")
async def messages(request: web.Request) -> web.Response:
    """Staff: what was sent to the citizen of this ticket, what is pending, what failed."""
    await staff(request)
    return ok(await request.app[FOLLOWING].messages(request.match_info["token"]))


@routes.post("/api/tickets/{token}/phone")
async def add_phone(request: web.Request) -> web.Response:
    """The citizen adds a phone number for SMS alerts (the ticket's token is the key)."""
    phone = field(await json_body(request), "phone", str, required=True, max_len=40)
    ticket = await request.app[FOLLOWING].add_phone(request.match_info["token"], phone)
    return ok(await request.app[QUEUE].views.ticket_view(ticket))


@routes.post("/telegram/webhook")
async def telegram_webhook(request: web.Request) -> web.Response:
    """Updates from Telegram in webhook mode, checked by the secret-token header."""
    bot = request.app.get(BOT)
    secret = request.app[SETTINGS].telegram_secret or ""
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if bot is None or not secret or not hmac.compare_digest(given, secret):
        raise Forbidden("Webhook tidak sah.")
    await bot.feed(await json_body(request))  # type: ignore[attr-defined]
    return ok({"ok": True})


class _BotSender(Sender):
    """Sends through the bot once it is up; until then messages wait in the outbox."""

    channel = "telegram"

    def __init__(self) -> None:
        self.inner: Sender | None = None

    async def _send(self, address: str, text: str) -> None:
        if self.inner is None:
            raise Retry("bot Telegram belum tersambung")
        await self.inner._send(address, text)


def setup_notifier(app: web.Application) -> None:
    """Alerts: the policy runs in every queue transaction; the outbox delivers after the commit."""
    queue, following, config, settings = app[QUEUE], app[FOLLOWING], app[QUEUE].config, app[SETTINGS]
    queue.writer.add_hook(AlertPolicy(queue))
    app.add_routes(routes)

    async def notifier_ctx(app: web.Application) -> AsyncIterator[None]:
        session = aiohttp.ClientSession()
        telegram: Sender = LogSender("telegram")
        bot = None
        starter: asyncio.Task[None] | None = None
        if settings.telegram_token:
            from notifier.telegram_bot import TelegramBot  # only halls with a bot load python-telegram-bot

            bot = TelegramBot(queue, following, settings.telegram_token, settings.telegram_api_url,
                              settings.telegram_mode, settings.telegram_secret)
            app[BOT] = bot
            telegram = _BotSender()
            starter = asyncio.create_task(_start_bot(bot, telegram))

            def deep_link(ticket: Ticket, view: dict[str, Any]) -> None:
                view["telegram_url"] = bot.deep_link(ticket)
            queue.views.extensions.append(deep_link)
        else:
            log.info("no GILIRAN_TELEGRAM_TOKEN: Telegram messages are logged, not sent")
        worker = OutboxWorker(following, app[CLOCK], app[BUS], {"telegram": telegram,
                                                            "sms": sms_sender(config.sms, session)})
        app[OUTBOX] = worker
        await worker.start()
        yield
        await worker.stop()
        if starter is not None:
            await stop_tasks([starter])
        if bot is not None:
            try:
                await bot.stop()
            except Exception:  # a bot that never started has nothing to stop
                log.debug("bot stop", exc_info=True)
        await session.close()

    app.cleanup_ctx.append(notifier_ctx)


async def _start_bot(bot: TelegramBot, sender: _BotSender) -> None:
    """Start the bot; while Telegram cannot be reached, try again every 30 s (the hall keeps working)."""
    while True:
        try:
            await bot.start()
            sender.inner = bot.sender
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("Telegram bot could not start (%s); retrying in %.0f s", exc, BOT_RETRY_S)
            try:
                await bot.app.shutdown()
            except Exception:
                pass
            await asyncio.sleep(BOT_RETRY_S)
