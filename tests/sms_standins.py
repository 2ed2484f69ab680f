"""Local stand-ins for SMS gateways: real HTTP servers on loopback that record what they are sent,
and a driver posting what SMS Gateway for Android posts when an SMS comes in (signed)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web


@dataclass
class GatewayStandIn:
    """One HTTP endpoint; answers `fail_first` requests with `fail_status`, then succeeds.

    `legacy_app`: behave like SMS Gateway for Android before 1.39, which has no `textMessage`
    field: a body without `message` fails in the app's null check (500), `message` is accepted."""

    path: str
    ok_status: int = 202
    ok_body: Any = field(default_factory=lambda: {"id": "m1", "state": "Pending"})
    fail_first: int = 0
    fail_status: int = 503
    legacy_app: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post(self.path, self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        await self._runner.cleanup()

    def accepted(self) -> list[dict[str, Any]]:
        """The requests that were answered with success."""
        return [r for r in self.requests if r.get("accepted")]

    async def _handle(self, request: web.Request) -> web.Response:
        entry: dict[str, Any] = {"headers": dict(request.headers), "content_type": request.content_type}
        if request.content_type == "application/json":
            entry["json"] = await request.json()
        else:
            entry["form"] = dict(await request.post())
        self.requests.append(entry)
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.json_response({"message": "queue is full"}, status=self.fail_status)
        if self.legacy_app and "message" not in entry.get("json", {}):
            return web.json_response({"message": "java.lang.NullPointerException: message must not be null"},
                                     status=500)
        entry["accepted"] = True
        return web.json_response(self.ok_body, status=self.ok_status)


def smsgate_signature(key: str, raw: bytes, timestamp: str) -> str:
    """SMS Gateway for Android's X-Signature: hex HMAC-SHA256(key, body + X-Timestamp)."""
    return hmac.new(key.encode(), raw + timestamp.encode(), hashlib.sha256).hexdigest()


async def smsgate_receives(hall_url: str, sender: str, text: str, *, key: str, timestamp: float | None = None,
                           signature: str | None = None, event_id: str | None = None) -> int:
    """The phone running SMS Gateway for Android got an SMS and posts `sms:received` to the hall."""
    payload = {"id": event_id or uuid.uuid4().hex[:21], "webhookId": "giliran-inbox", "deviceId": "PyDmBQZZXYmyxMw",
               "event": "sms:received",
               "payload": {"messageId": uuid.uuid4().hex[:8], "message": text,
                           "receivedAt": "2026-12-02T11:09:36.000+07:00", "sender": sender,
                           "recipient": "+6289876543210", "simNumber": 1, "phoneNumber": sender}}
    raw = json.dumps(payload).encode()
    stamp = str(int(time.time() if timestamp is None else timestamp))
    headers = {"Content-Type": "application/json", "User-Agent": "me.capcom.smsgateway/1.68.0",
               "X-Timestamp": stamp, "X-Signature": signature or smsgate_signature(key, raw, stamp)}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{hall_url}/sms/webhook", data=raw, headers=headers) as resp:
            return resp.status
