"""The report book for a range: the summaries by service, agency, counter and officer, and the four
charts with their tables; what `/laporan` shows and the full workbook exports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from kiosk.hall.config import HallConfig
from kiosk.reports.charts import Chart, bar_chart, columns_of, heat_map, stacked_bars
from kiosk.reports.export import Column, Table
from kiosk.reports.period import WEEKDAYS, Period
from kiosk.reports.summary import Summaries, hall_offset_s
from kiosk.reports.usage import counter_usage
from kiosk.storage.base import WAIT_BUCKETS, Store

TITLES = {"service": "Per layanan", "agency": "Per instansi", "counter": "Per loket", "officer": "Per petugas",
          "day": "Per hari", "hour": "Per jam"}
KEY_HEADERS = {"service": "Layanan", "agency": "Instansi", "counter": "Loket", "officer": "Petugas",
               "day": "Tanggal", "hour": "Jam"}
SUMMARY_COLUMNS = columns_of(
    ("issued", "Diambil", 0), ("transferred_in", "Masuk alihan", 0), ("served", "Dilayani", 0),
    ("no_show", "Tidak hadir", 0), ("cancelled", "Dibatalkan", 0), ("expired", "Kedaluwarsa", 0),
    ("transferred_out", "Dialihkan keluar", 0), ("called", "Dipanggil", 0),
    ("wait_p50_s", "Tunggu median (detik)", 0), ("wait_p90_s", "Tunggu p90 (detik)", 0),
    ("wait_mean_s", "Tunggu rata-rata (detik)", 1), ("walk_mean_s", "Jalan ke loket rata-rata (detik)", 1),
    ("service_mean_s", "Layanan rata-rata (detik)", 1), ("within_target_pct", "Dalam target (%)", 1))
CLASSES = ("< 5 mnt", "5–10 mnt", "10–15 mnt", "15–30 mnt", "30–60 mnt", "≥ 60 mnt")
MOST_SERVICES = 12  # the waiting-time chart shows the busiest services; its table has every one


def summary_table(summary: dict[str, Any], by: str) -> Table:
    """A summary as an export table (key and label first)."""
    columns = [Column("key", "Kode"), Column("label", KEY_HEADERS[by]), *SUMMARY_COLUMNS]
    return Table(sheet=TITLES[by], title=f"Ringkasan {TITLES[by].lower()}", columns=columns, rows=summary["rows"],
                 total=summary["total"], notes=("Waktu dalam detik. Definisi tiap angka: docs/reports.md.",))


@dataclass(frozen=True)
class Book:
    """Everything `/laporan` shows for a range."""

    period: Period
    summaries: dict[str, dict[str, Any]]
    charts: list[Chart]

    def tables(self) -> list[Table]:
        """The summaries and the charts' tables, in the page's order."""
        return [summary_table(s, by) for by, s in self.summaries.items()] + [c.table for c in self.charts]


async def report_book(store: Store, config: HallConfig, period: Period, scope: Sequence[str] | None) -> Book:
    """The summaries and charts of a range for one scope."""
    summaries = Summaries(store, config)
    by_kind = {by: await summaries.summary(period, by, scope) for by in ("service", "agency", "counter", "officer")}
    offset = hall_offset_s(config, period.first)
    cells = await store.reports.arrivals(period.days, offset, scope)
    served = await store.reports.served_hours(period.days, offset, scope)
    charts = [hourly_chart(cells, served), await waits_chart(store, config, period, scope),
              arrivals_chart(cells, period), usage_chart(await counter_usage(store, config, period, scope))]
    return Book(period, by_kind, charts)


def hourly_chart(cells: list[tuple[str, int, int]], served_by_hour: dict[int, int]) -> Chart:
    """Tickets issued and served per hour of the day (the same numbers as the summary by hour)."""
    issued_by_hour: dict[int, int] = {}
    for _, hour, n in cells:
        issued_by_hour[hour] = issued_by_hour.get(hour, 0) + n
    hours = set(issued_by_hour) | set(served_by_hour)
    span = range(min(hours), max(hours) + 1) if hours else range(8, 16)
    labels = [f"{h:02d}" for h in span]
    issued = [issued_by_hour.get(h, 0) for h in span]
    served = [served_by_hour.get(h, 0) for h in span]
    table = Table("Per jam (grafik)", "Tiket diambil dan dilayani per jam",
                  columns_of(("hour", "Jam", None), ("issued", "Diambil", 0), ("served", "Dilayani", 0)),
                  [{"hour": f"{h:02d}.00", "issued": i, "served": s} for h, i, s in zip(span, issued, served,
                                                                                        strict=True)])
    return bar_chart("per-jam", "Tiket diambil dan dilayani per jam", labels,
                     [("Diambil", issued), ("Dilayani", served)], table)


async def waits_chart(store: Store, config: HallConfig, period: Period, scope: Sequence[str] | None) -> Chart:
    """Per service, the share of called tickets in each waiting-time class."""
    classes = await store.reports.wait_classes(period.days, scope)
    order = [s.code for s in config.services]
    codes = sorted(classes, key=lambda c: (-sum(classes[c]), order.index(c) if c in order else len(order), c))
    names = {s.code: s.name for s in config.services}
    rows = [{"service": names.get(c, c), **{f"c{i}": n for i, n in enumerate(classes[c])}, "n": sum(classes[c])}
            for c in codes]
    table = Table("Sebaran tunggu", "Sebaran waktu tunggu per layanan (jumlah tiket dipanggil)",
                  [Column("service", "Layanan"), *(Column(f"c{i}", label, 0) for i, label in enumerate(CLASSES)),
                   Column("n", "Jumlah", 0)], rows)
    shown = codes[:MOST_SERVICES]
    title = "Sebaran waktu tunggu per layanan" + (f" ({MOST_SERVICES} tersibuk)" if len(codes) > MOST_SERVICES else "")
    return stacked_bars("sebaran-tunggu", title, [names.get(c, c) for c in shown], CLASSES,
                        [classes[c] for c in shown], table)


def arrivals_chart(cells: list[tuple[str, int, int]], period: Period) -> Chart:
    """Tickets issued per day (or weekday, for ranges over a month) and hour of the day."""
    by_weekday = period.length > 31
    hours = sorted({h for _, h, _ in cells}) or list(range(8, 16))
    span = list(range(hours[0], hours[-1] + 1))
    grid: dict[str, dict[int, int]] = {}
    for day, hour, n in cells:
        row = WEEKDAYS[date.fromisoformat(day).weekday()] if by_weekday else day
        grid.setdefault(row, {})
        grid[row][hour] = grid[row].get(hour, 0) + n
    labels = [w for w in WEEKDAYS if w in grid] if by_weekday else sorted(grid)
    shown = [f"{date.fromisoformat(d).day} {WEEKDAYS[date.fromisoformat(d).weekday()][:3]}" for d in labels] \
        if not by_weekday else labels
    values = [[grid[r].get(h, 0) for h in span] for r in labels]
    title = "Kedatangan per " + ("hari dalam pekan" if by_weekday else "tanggal") + " dan jam"
    table = Table("Kedatangan", title, [Column("row", "Hari" if by_weekday else "Tanggal"),
                                        *(Column(f"h{h}", f"{h:02d}", 0) for h in span)],
                  [{"row": r, **{f"h{h}": v for h, v in zip(span, vals, strict=True)}}
                   for r, vals in zip(labels, values, strict=True)])
    return heat_map("kedatangan", title, shown, [f"{h:02d}" for h in span], values, table)


def usage_chart(usage: list[dict[str, Any]]) -> Chart:
    """Per counter, the share of its open time spent busy and idle."""
    rows = [u | {f"{k}_h": round(u[f"{k}_s"] / 3600, 1) for k in ("open", "busy", "idle")} for u in usage]
    table = Table("Utilisasi loket", "Utilisasi loket (jam buka, melayani, menganggur)",
                  columns_of(("label", "Loket", None), ("days", "Hari buka", 0), ("open_h", "Buka (jam)", 1),
                             ("busy_h", "Melayani (jam)", 1), ("idle_h", "Menganggur (jam)", 1),
                             ("utilisation_pct", "Utilisasi (%)", 1)), rows)
    notes = ["—" if u["utilisation_pct"] is None else f"{u['utilisation_pct']:.1f}%".replace(".", ",") for u in usage]
    return stacked_bars("utilisasi", "Utilisasi loket: melayani dan menganggur", [u["label"] for u in usage],
                        ("Melayani", "Menganggur"), [[u["busy_s"], u["idle_s"]] for u in usage], table,
                        colors=("#1f5f99", "#cbd5e0"), notes=notes)


__all__ = ["WAIT_BUCKETS", "Book", "report_book", "summary_table"]
