"""A local Telegram Bot API server (aiohttp on port 0) that python-telegram-bot talks to unchanged."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {"id": 7000001, "is_bot": True, "first_name": "Giliran", "username": "GiliranUjiBot",
            "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}


@dataclass
class Sent:
    """A message the bot sent."""

    chat_id: int
    text: str
    reply_markup: Any = None


@dataclass
class BotApiStandIn:
    """Answers getMe, getUpdates, sendMessage, setWebhook, deleteWebhook, answerCallbackQuery, ..."""

    token: str = "123456:TEST-TOKEN"
    sent: list[Sent] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    faults: list[tuple[int, int | None]] = field(default_factory=list)  # (status, retry_after) for sendMessage
    hang_next: int = 0  # sendMessage calls that never answer (the client times out)
    blocked: set[int] = field(default_factory=set)  # chats that blocked the bot (403)
    send_times: list[tuple[float, int]] = field(default_factory=list)
    webhook: dict[str, Any] | None = None
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _update_id: int = 100
    _message_id: int = 1
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)
    polling: int = 0  # getUpdates calls in flight
    _poll: asyncio.Future[None] | None = None
    _transport: asyncio.BaseTransport | None = None
    _request_transport: asyncio.BaseTransport | None = None
    conflicts: int = 0  # getUpdates refused because another one was in flight (Telegram's 409)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        return app

    async def start(self) -> str:
        """Serve on loopback; returns the API root URL (GILIRAN_TELEGRAM_API_URL)."""
        self._runner = web.AppRunner(self.app())
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        self._new_update.set()
        await self._runner.cleanup()

    # --- a citizen's phone ---------------------------------------------------------------------
    def user_sends(self, chat_id: int, text: str) -> None:
        """The user types a message (a command is marked as one, as Telegram does)."""
        entities = []
        if text.startswith("/"):
            entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        self._push({"message": {"message_id": self._next_message(), "date": int(time.time()),
                                "chat": {"id": chat_id, "type": "private", "first_name": "Warga"},
                                "from": {"id": chat_id, "is_bot": False, "first_name": "Warga"},
                                "text": text, "entities": entities}})

    def user_presses(self, chat_id: int, data: str) -> None:
        """The user taps an inline button."""
        self._push({"callback_query": {
            "id": f"cb{self._update_id}", "chat_instance": "ci", "data": data,
            "from": {"id": chat_id, "is_bot": False, "first_name": "Warga"},
            "message": {"message_id": self._next_message(), "date": int(time.time()),
                        "chat": {"id": chat_id, "type": "private"}, "text": "?"}}})

    def texts(self, chat_id: int) -> list[str]:
        """What a chat has received, in order."""
        return [m.text for m in self.sent if m.chat_id == chat_id]

    def _push(self, update: dict[str, Any]) -> None:
        self._update_id += 1
        self._updates.append({"update_id": self._update_id, **update})
        self._new_update.set()

    def _next_message(self) -> int:
        self._message_id += 1
        return self._message_id

    # --- the Bot API ----------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        self.calls.append(method)
        self._request_transport = request.transport
        params = await self._params(request)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._ok(True)
        return await handler(params)

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return await request.json()
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            try:
                params[key] = json.loads(value) if isinstance(value, str) else value
            except ValueError:
                params[key] = value
        return params

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=status)

    async def _m_getMe(self, params: dict[str, Any]) -> web.Response:
        return self._ok(BOT_USER)

    async def _m_getUpdates(self, params: dict[str, Any]) -> web.Response:
        # Telegram serves one getUpdates per bot at a time: a second one terminates the first with 409
        # (a poller whose client already went away, as at a clean shutdown, is no conflict).
        previous, transport = self._poll, self._transport
        if previous is not None and not previous.done():
            if transport is not None and not transport.is_closing():
                self.conflicts += 1
            previous.set_result(None)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._poll, self._transport = mine, self._request_transport
        self.polling += 1
        try:
            task = asyncio.ensure_future(self._get_updates(params))
            await asyncio.wait((task, mine), return_when=asyncio.FIRST_COMPLETED)
            if not task.done():
                task.cancel()
                return self._error(409, "Conflict: terminated by other getUpdates request; make sure that only "
                                        "one bot instance is running")
            return task.result()
        finally:
            self.polling -= 1
            if not mine.done():
                mine.set_result(None)  # answered: no longer a poller in flight

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), min(float(params.get("timeout") or 0), 0.5))
            except TimeoutError:
                pass
        return self._ok([u for u in self._updates if u["update_id"] >= offset])

    async def _m_sendMessage(self, params: dict[str, Any]) -> web.Response:
        chat_id = int(params["chat_id"])
        if self.hang_next > 0:
            self.hang_next -= 1
            await asyncio.sleep(3600)
        if self.faults:
            status, retry_after = self.faults.pop(0)
            return self._error(status, "Too Many Requests: retry after 1" if status == 429 else "Internal Server Error",
                               retry_after)
        if chat_id in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        self.sent.append(Sent(chat_id, params["text"], params.get("reply_markup")))
        self.send_times.append((time.monotonic(), chat_id))
        return self._ok({"message_id": self._next_message(), "date": int(time.time()),
                         "chat": {"id": chat_id, "type": "private"}, "text": params["text"]})

    async def _m_editMessageText(self, params: dict[str, Any]) -> web.Response:
        self.sent.append(Sent(int(params["chat_id"]) if "chat_id" in params else 0, params["text"]))
        return self._ok({"message_id": self._next_message(), "date": int(time.time()),
                         "chat": {"id": int(params.get("chat_id") or 0), "type": "private"}, "text": params["text"]})

    async def _m_setWebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = params
        return self._ok(True)
