"""Counters' utilisation: how long each counter was open, busy with a citizen, and idle.

A counter is *open* on a day from its first call to the end of its last visit, less its breaks
(pause to resume, from the audit log); it is *busy* from each call to the end of that visit (the
walk to the counter and the service); *idle* is open and not busy. Utilisation = busy / open.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from kiosk.hall.config import HallConfig
from kiosk.reports.period import Period
from kiosk.storage.base import Store


def _breaks(events: list[tuple[str, str, float]]) -> dict[str, list[tuple[float, float]]]:
    """Per counter, (start, end) of each break; one not ended yet runs on forever."""
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    since: dict[str, float] = {}
    for counter, action, at in events:
        if action == "pause" and counter not in since:
            since[counter] = at
        elif action == "resume" and counter in since:
            out[counter].append((since.pop(counter), at))
    for counter, start in since.items():
        out[counter].append((start, float("inf")))
    return out


def _overlap(spans: list[tuple[float, float]], start: float, end: float) -> float:
    return sum(max(0.0, min(end, b) - max(start, a)) for a, b in spans)


async def counter_usage(store: Store, config: HallConfig, period: Period,
                        scope: Sequence[str] | None) -> list[dict[str, Any]]:
    """Per counter (the hall's order): days worked, open, busy and idle seconds, utilisation %."""
    days = await store.reports.counter_days(period.days, scope)
    if not days:
        return []
    breaks = _breaks(await store.reports.pauses(min(d["first_call_at"] for d in days),
                                                max(d["last_end_at"] for d in days)))
    totals: dict[str, dict[str, float]] = defaultdict(lambda: {"days": 0, "open": 0.0, "busy": 0.0})
    for d in days:
        span = d["last_end_at"] - d["first_call_at"]
        total = totals[d["counter"]]
        total["days"] += 1
        total["open"] += max(0.0, span - _overlap(breaks.get(d["counter"], []), d["first_call_at"], d["last_end_at"]))
        total["busy"] += d["busy_s"]
    order = [c.id for c in config.counters]
    rows = []
    for counter in sorted(totals, key=lambda c: (order.index(c) if c in order else len(order), c)):
        t = totals[counter]
        open_s, busy_s = round(t["open"]), round(min(t["busy"], t["open"]))
        known = config.counter(counter)
        rows.append({"key": counter, "label": known.name if known else f"Loket {counter} (terhapus)",
                     "days": int(t["days"]), "open_s": open_s, "busy_s": busy_s, "idle_s": open_s - busy_s,
                     "utilisation_pct": round(100 * busy_s / open_s, 1) if open_s else None})
    return rows
