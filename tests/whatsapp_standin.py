"""Local stand-ins for WhatsApp: Meta's Cloud API (Graph), Fonnte and Wablas, as real HTTP servers
on loopback speaking each API (research: /work/notes/channels.md), plus drivers that post what
each provider posts to the hall (signed where the provider signs)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

GRAPH_VERSION = "v23.0"
PHONE_NUMBER_ID = "106540352242922"


class _Server:
    """An aiohttp app on 127.0.0.1, port 0."""

    async def start(self) -> str:
        self._runner = web.AppRunner(self.app())
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.url

    async def stop(self) -> None:
        await self._runner.cleanup()

    def app(self) -> web.Application:
        raise NotImplementedError


def graph_error(status: int, code: int, message: str, details: str = "") -> web.Response:
    body = {"error": {"message": f"(#{code}) {message}", "type": "OAuthException", "code": code,
                      "error_data": {"messaging_product": "whatsapp", "details": details or message},
                      "fbtrace_id": "AbCdEf123"}}
    return web.json_response(body, status=status)


@dataclass
class CloudStandIn(_Server):
    """Meta's Graph API for one number: `POST /{version}/{phone-number-id}/messages`, Bearer token.

    The 24-hour window is modelled: free-form text to a number that has not written within 24
    hours is accepted (200, a wamid) and then reported `failed` with 131047 through the hall's
    webhook, as Meta does; templates must be approved (else 404, 132001)."""

    token: str = "EAAG-uji-token"
    app_secret: str = "rahasia-aplikasi-meta"
    approved: set[str] = field(default_factory=lambda: {"antrean_hampir_tiba", "antrean_dipanggil"})
    sent: list[dict[str, Any]] = field(default_factory=list)  # accepted request bodies
    faults: list[tuple[int, int]] = field(default_factory=list)  # (HTTP status, error code) for the next sends
    last_inbound: dict[str, float] = field(default_factory=dict)  # wa_id -> when the user last wrote
    hall_url: str = ""  # where the hall's webhook is (for delivery reports and users' messages)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{version}/{pnid}/messages", self._messages)
        return app

    def texts_to(self, wa_id: str) -> list[dict[str, Any]]:
        """What was accepted for one number, in order."""
        return [b for b in self.sent if b["to"] == wa_id]

    async def _messages(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return graph_error(401, 190, "Error validating access token: Session has expired")
        if request.match_info["pnid"] != PHONE_NUMBER_ID or request.match_info["version"] != GRAPH_VERSION:
            return graph_error(400, 100, "Unsupported post request")
        body = await request.json()
        if self.faults:
            status, code = self.faults.pop(0)
            return graph_error(status, code, "Rate limit hit" if code == 130429 else "Error")
        if body.get("messaging_product") != "whatsapp" or not str(body.get("to", "")).isdigit() \
                or body.get("type") not in ("text", "template"):
            return graph_error(400, 100, "Invalid parameter")
        if body["type"] == "template" and body["template"]["name"] not in self.approved:
            return graph_error(404, 132001, "Template name does not exist in the translation")
        if body["type"] == "text" and not 0 < len(body["text"]["body"]) <= 4096:
            return graph_error(400, 131009, "Parameter value is not valid")
        wamid = f"wamid.{uuid.uuid4().hex}"
        if body["type"] == "text" and time.time() - self.last_inbound.get(body["to"], 0) > 24 * 3600:
            asyncio.get_running_loop().create_task(self._report_failed(wamid, body["to"], 131047))
        else:
            self.sent.append(body)
        return web.json_response({"messaging_product": "whatsapp",
                                  "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                                  "messages": [{"id": wamid}]})

    # --- what Meta posts to the hall ----------------------------------------------------------
    def signed(self, raw: bytes) -> dict[str, str]:
        digest = hmac.new(self.app_secret.encode(), raw, hashlib.sha256).hexdigest()
        return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}

    async def post(self, payload: dict[str, Any], headers: dict[str, str] | None = None) -> int:
        """Post an event to the hall's webhook (signed unless headers are given)."""
        raw = json.dumps(payload).encode()
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{self.hall_url}/whatsapp/webhook", data=raw,
                                    headers=self.signed(raw) if headers is None else headers) as resp:
                return resp.status

    @staticmethod
    def envelope(value: dict[str, Any]) -> dict[str, Any]:
        return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [
            {"field": "messages", "value": {"messaging_product": "whatsapp",
                                            "metadata": {"display_phone_number": "6281100001111",
                                                         "phone_number_id": PHONE_NUMBER_ID}, **value}}]}]}

    def user_message(self, wa_id: str, text: str, message_id: str | None = None) -> dict[str, Any]:
        """A citizen's text as Meta's webhook carries it (and the window opens)."""
        self.last_inbound[wa_id] = time.time()
        return self.envelope({
            "contacts": [{"profile": {"name": "Warga"}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": message_id or f"wamid.in{uuid.uuid4().hex}",
                          "timestamp": str(int(time.time())), "type": "text", "text": {"body": text}}]})

    async def user_sends(self, wa_id: str, text: str) -> int:
        """The citizen writes to the hall's number."""
        return await self.post(self.user_message(wa_id, text))

    async def _report_failed(self, wamid: str, wa_id: str, code: int) -> None:
        await asyncio.sleep(0.05)
        await self.post(self.envelope({"statuses": [{
            "id": wamid, "status": "failed", "timestamp": str(int(time.time())), "recipient_id": wa_id,
            "errors": [{"code": code, "title": "Re-engagement message", "message": "Re-engagement message",
                        "error_data": {"details": "Message failed to send because more than 24 hours have "
                                                  "passed since the customer last replied to this number."}}]}]}))


async def _fields(request: web.Request) -> dict[str, Any]:
    """JSON, urlencoded or multipart, as the gateways accept them."""
    if request.content_type == "application/json":
        data = await request.json()
        return data if isinstance(data, dict) else {}
    return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}


@dataclass
class FonnteStandIn(_Server):
    """Fonnte: `POST /send`, `Authorization: <token>` exactly; JSON `status` (HTTP 200 either way)."""

    token: str = "fonnte-token-uji"
    sent: list[dict[str, Any]] = field(default_factory=list)
    quota: int = 1000
    hall_url: str = ""
    path_secret: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/send", self._send)
        return app

    async def _send(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != self.token:
            return web.json_response({"status": False, "reason": "token invalid"})
        data = await _fields(request)
        target = str(data.get("target", ""))
        if not target or "message" not in data:
            return web.json_response({"status": False, "reason": "input invalid"})
        if target.startswith("0") and data.get("countryCode", "62") != "0":
            target = data.get("countryCode", "62") + target[1:]
        if not target.isdigit() or len(target) < 10:
            return web.json_response({"status": False, "reason": "target invalid"})
        if self.quota <= 0:
            return web.json_response({"status": False, "reason": "insufficient quota"})
        self.quota -= 1
        self.sent.append({"target": target, "message": data["message"]})
        ident = str(80367170 + len(self.sent))
        return web.json_response({"detail": "success! message in queue", "id": [ident], "process": "pending",
                                  "requestid": 2937124, "status": True, "target": [target]})

    async def user_sends(self, sender: str, message: str, secret: str | None = None) -> int:
        """Fonnte posts an incoming message (JSON, unsigned) to the device's webhook URL."""
        payload = {"device": "6281100001111", "sender": sender, "message": message, "text": "", "member": "",
                   "name": "Warga", "location": "", "timestamp": int(time.time()),
                   "inboxid": uuid.uuid4().int % 10**8}
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{self.hall_url}/whatsapp/webhook/{secret or self.path_secret}",
                                    json=payload) as resp:
                return resp.status


@dataclass
class WablasStandIn(_Server):
    """Wablas: `POST /api/send-message`, `Authorization: <token>.<secret key>`; JSON `status`."""

    token: str = "wablas-token-uji"
    secret_key: str = "kunciWB"
    sent: list[dict[str, Any]] = field(default_factory=list)
    hall_url: str = ""
    path_secret: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/send-message", self._send)
        return app

    async def _send(self, request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "")
        if given.split(".")[0] != self.token:
            return web.json_response({"status": False, "message": "token invalid"})
        if given != f"{self.token}.{self.secret_key}":
            return web.json_response({"status": False, "message": "secret key invalid"})
        data = await _fields(request)
        if not data.get("phone") or not data.get("message"):
            return web.json_response({"status": False, "message": "phone or message empty"})
        self.sent.append({"phone": str(data["phone"]), "message": data["message"]})
        return web.json_response({"status": True, "message": "Message is pending and waiting to be processed",
                                  "data": {"device_id": "FAKE01", "quota": 99, "messages": [
                                      {"id": str(uuid.uuid4()), "phone": data["phone"],
                                       "message": data["message"], "status": "pending"}]}})

    async def user_sends(self, phone: str, message: str, secret: str | None = None) -> int:
        """Wablas posts an incoming message to the device's webhook URL (unsigned)."""
        payload = {"id": uuid.uuid4().hex, "phone": phone, "message": message, "pushName": "Warga",
                   "isGroup": False, "isFromMe": False, "timestamp": int(time.time())}
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{self.hall_url}/whatsapp/webhook/{secret or self.path_secret}",
                                    json=payload) as resp:
                return resp.status
