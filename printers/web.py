"""Wires the print spool into the app and serves printer health to staff."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from kiosk.web.appkeys import BUS, HALL, PRINTING, QUEUE, SETTINGS
from kiosk.web.http import ok, staff
from printers.spool import PrintSpool

SPOOL = web.AppKey("print_spool", PrintSpool)
routes = web.RouteTableDef()


@routes.get("/api/printers")
async def printers(request: web.Request) -> web.Response:
    """Staff: each printer's state (ok, offline, paper_out, unknown), jobs waiting, last error."""
    await staff(request)
    return ok(await request.app[SPOOL].overview())


def setup_printing(app: web.Application) -> None:
    """Add the spool (started after the database, stopped before it closes) and its route."""
    var_dir = app[SETTINGS].data_dir
    app[SPOOL] = PrintSpool(app[QUEUE], app[PRINTING], app[HALL], app[BUS], var_dir)

    async def spool_ctx(app: web.Application) -> AsyncIterator[None]:
        await app[SPOOL].start()
        yield
        await app[SPOOL].stop()

    app.cleanup_ctx.append(spool_ctx)
    app.add_routes(routes)
