"""The summary report: per service, agency, counter, officer, day or hour of the day, the counts of
every end of a stay and the waiting, walking and service times (docs/reports.md defines each one).

Everything is read through `Store.reports` (never the writer); this module turns the sums and
wait statistics the store returns into the rows of the API, the pages and the exports.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from kiosk.hall.config import HallConfig
from kiosk.reports.period import Period, day_label
from kiosk.storage.base import GroupStats, ServiceInfo, Store

FIELDS = ("issued", "served", "no_show", "cancelled", "expired", "transferred_out", "transferred_in", "called",
          "wait_p50_s", "wait_p90_s", "wait_mean_s", "walk_mean_s", "service_mean_s", "within_target_pct")
COUNT_FIELDS = ("issued", "served", "no_show", "cancelled", "expired", "transferred_out", "transferred_in", "called")
NONE_LABELS = {"agency": "Tanpa instansi (layanan terhapus)", "counter": "Belum dipanggil di loket",
               "officer": "Petugas tidak tercatat"}


def mean(total: int, count: int) -> float | None:
    """A mean of whole seconds, to one decimal (None when there is nothing to average)."""
    return None if count == 0 else round(total / count, 1)


def service_infos(config: HallConfig) -> list[ServiceInfo]:
    """The hall's services with their agency and target."""
    return [ServiceInfo(s.code, s.agency, config.target_wait_s(s.code)) for s in config.services]


def hall_offset_s(config: HallConfig, day: date) -> int:
    """The hall's offset from UTC on a day, in seconds (Indonesian zones have no daylight saving)."""
    offset = datetime.combine(day, time(12), tzinfo=config.hall.tz).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def build_row(key: str, label: str, stats: GroupStats | None) -> dict[str, Any]:
    """One row of the summary, in the API's shape."""
    c = stats.counts if stats else {}
    waits = stats.waits if stats else None
    called = waits.called if waits else 0
    started = c.get("started", 0)
    return {
        "key": key, "label": label,
        "issued": c.get("issued", 0), "served": c.get("served", 0), "no_show": c.get("no_show", 0),
        "cancelled": c.get("cancelled", 0), "expired": c.get("expired", 0),
        "transferred_out": c.get("transferred_out", 0), "transferred_in": c.get("transferred_in", 0),
        "called": called,
        "wait_p50_s": waits.p50 if waits else None,
        "wait_p90_s": waits.p90 if waits else None,
        "wait_mean_s": mean(waits.total_s, called) if waits else None,
        "walk_mean_s": mean(c.get("walk_sum", 0), started),
        "service_mean_s": mean(c.get("service_sum", 0), started),
        "within_target_pct": round(100 * waits.within_target / called, 1) if waits else None,
    }


def _has_data(stats: GroupStats) -> bool:
    return stats.waits is not None or any(v for v in stats.counts.values())


class Summaries:
    """Computes summaries for a hall from its store's report reads."""

    def __init__(self, store: Store, config: HallConfig) -> None:
        self.store = store
        self.config = config

    async def summary(self, period: Period, by: str, scope: Sequence[str] | None) -> dict[str, Any]:
        """`{"from", "to", "by", "rows": [...], "total": {...}}` (the API's answer)."""
        groups, total = await self.store.reports.summary(
            period.days, by, service_infos(self.config), scope, round(self.config.queue.target_wait_minutes * 60),
            hall_offset_s(self.config, period.first))
        keys = [k for k in self.order(by, set(groups)) if _has_data(groups[k])]
        return {"from": period.first.isoformat(), "to": period.last.isoformat(), "by": by,
                "rows": [build_row(k, self.label(by, k), groups[k]) for k in keys],
                "total": build_row("", "Jumlah", total)}

    def order(self, by: str, keys: set[str]) -> list[str]:
        """Keys in the hall's own order (services, agencies, counters as configured), the rest after."""
        known: list[str] = []
        if by == "service":
            known = [s.code for s in self.config.services]
        elif by == "agency":
            known = [a.code for a in self.config.agencies]
        elif by == "counter":
            known = [c.id for c in self.config.counters]
        ordered = [k for k in known if k in keys]
        rest = sorted(k for k in keys if k not in known and k != "")
        return ordered + rest + ([""] if "" in keys else [])

    def label(self, by: str, key: str) -> str:
        """What a row is called on pages and in exports."""
        if key == "" and by in NONE_LABELS:
            return NONE_LABELS[by]
        if by == "service":
            service = self.config.service(key)
            return service.name if service else f"{key} (layanan terhapus)"
        if by == "agency":
            agency = self.config.agency(key)
            return agency.name if agency else key
        if by == "counter":
            counter = self.config.counter(key)
            return counter.name if counter else f"Loket {key} (terhapus)"
        if by == "day":
            return day_label(date.fromisoformat(key))
        if by == "hour":
            hour = int(key)
            return f"{hour:02d}.00–{(hour + 1) % 24:02d}.00"
        return key
