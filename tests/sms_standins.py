"""Local stand-ins for SMS gateways: real HTTP servers on loopback that record what they are sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class GatewayStandIn:
    """One HTTP endpoint; answers `fail_first` requests with `fail_status`, then succeeds."""

    path: str
    ok_status: int = 202
    ok_body: Any = field(default_factory=lambda: {"id": "m1", "state": "Pending"})
    fail_first: int = 0
    fail_status: int = 503
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
        return web.json_response(self.ok_body, status=self.ok_status)
