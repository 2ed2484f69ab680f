"""The live waiting-time watch (SLA): per service, how long its longest-waiting ticket has waited so
far against the service's target. Amber from 75% of the target, red once the target is reached, so
the supervisor sees a service running away before its target is missed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kiosk.hall.config import HallConfig
from kiosk.storage.base import Store

AMBER_AT = 0.75
LEVEL_LABELS = {"ok": "aman", "amber": "mendekati target", "red": "melewati target"}


def level(wait_s: float, target_s: int) -> str:
    """ok, amber (from 75% of the target) or red (at or past the target)."""
    if wait_s >= target_s:
        return "red"
    return "amber" if wait_s >= AMBER_AT * target_s else "ok"


async def sla_watch(store: Store, config: HallConfig, today: str, now: float,
                    scope: Sequence[str] | None) -> list[dict[str, Any]]:
    """Services with someone waiting who was not called yet, the most urgent first."""
    oldest = await store.reports.longest_waits(today)
    waiting = await store.reads.waiting_counts(today)
    rows = []
    for code, since in oldest.items():
        if scope is not None and code not in scope:
            continue
        service = config.service(code)
        target = config.target_wait_s(code)
        wait = max(0, round(now - since))
        rows.append({"service": code, "name": service.name if service else code,
                     "agency": service.agency if service else "", "waiting": waiting.get(code, 0),
                     "longest_wait_s": wait, "target_s": target, "ratio": round(wait / target, 2),
                     "level": level(wait, target), "level_label": LEVEL_LABELS[level(wait, target)]})
    return sorted(rows, key=lambda r: (-r["ratio"], r["service"]))
