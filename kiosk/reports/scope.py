"""Agency scoping: a supervisor may be limited to some agencies and then sees only their rows,
everywhere reports exist (the summaries, charts, exports, the live waiting-time watch)."""

from __future__ import annotations

from kiosk.hall.config import HallConfig
from kiosk.queue.errors import Forbidden
from kiosk.queue.models import User

MANAGERS = ("admin", "supervisor")


def report_scope(user: User, config: HallConfig) -> list[str] | None:
    """The service codes a user's reports cover (None: every service, also ones removed since).
    Officers get 403: reports are for supervisors and admins."""
    if user.role not in MANAGERS:
        raise Forbidden("Laporan hanya untuk supervisor dan admin.", code="forbidden")
    if user.role == "admin" or not user.agencies:
        return None
    return [s.code for s in config.services if s.agency in user.agencies]


def scope_text(user: User, config: HallConfig) -> str | None:
    """The agencies a limited supervisor sees, named (None when unlimited)."""
    if user.role == "admin" or not user.agencies:
        return None
    names = []
    for code in user.agencies:
        agency = config.agency(code)
        names.append(agency.name if agency else code)
    return ", ".join(names)
