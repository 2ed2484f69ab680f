"""The day's report: summary.json and report.html (self-contained: its charts are inline SVG, its
style is in the page, nothing is fetched)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kiosk import __version__
from kiosk.sim.charts import bar_chart, histogram, line_chart
from kiosk.sim.engine import DayRecord
from kiosk.sim.measures import hourly, summarise
from kiosk.web.pages import render


def _minutes(values: list[Any]) -> list[float | None]:
    return [None if v is None else round(v / 60, 1) for v in values]


def charts(record: DayRecord, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's charts, each with its title and the table of its numbers."""
    series = hourly(record)
    hours = [f"{h:02d}" for h in series["hours"]]
    out = []

    def add(title: str, chart: Any, head: tuple[str, ...], rows: list[Any]) -> None:
        out.append({"title": title, "chart": chart, "head": head, "rows": rows})

    title = "Waktu tunggu menurut jam ambil nomor"
    p50, p90 = _minutes(series["wait_p50_s"]), _minutes(series["wait_p90_s"])
    add(title, line_chart(title, "Median dan persentil ke-90 waktu tunggu (menit) per jam ambil nomor", hours,
                          [("median", p50), ("persentil 90", p90)], " mnt"),
        ("Jam", "Nomor dipanggil", "Median (mnt)", "P90 (mnt)"),
        list(zip(hours, series["tickets"], p50, p90, strict=True)))
    title, queue = "Panjang antrean sepanjang hari", series["queue"]
    add(title, line_chart(title, "Orang menunggu di seluruh layanan, tiap 5 menit", [t for t, _ in queue],
                          [("menunggu", [n for _, n in queue])]), ("Pukul", "Menunggu"), queue)
    title = "Utilisasi loket"
    counters = sorted(summary["utilisation"].items(), key=lambda kv: (len(kv[0]), kv[0]))
    names, use = [c for c, _ in counters], [round(100 * u, 1) for _, u in counters]
    add(title, bar_chart(title, "Bagian waktu buka yang dipakai melayani (persen)", names, [("utilisasi", use)],
                         "%", y_max=100), ("Loket", "Utilisasi (%)"), list(zip(names, use, strict=True)))
    title = "Galat perkiraan saat ambil nomor"
    new, old = _minutes(series["err_p90_forecast_s"]), _minutes(series["err_p90_formula_s"])
    add(title, line_chart(title, "Persentil ke-90 galat mutlak (menit) per jam: prakiraan dan rumus lama", hours,
                          [("prakiraan", new), ("rumus lama", old)], " mnt"),
        ("Jam", "Prakiraan P90 (mnt)", "Rumus lama P90 (mnt)"), list(zip(hours, new, old, strict=True)))
    title = "Jarak pemberitahuan sebelum dipanggil"
    notice = record.plan.config.alerts.approach_minutes
    chart, bins = histogram(title, f"Menit antara pemberitahuan dan panggilan; jendela {notice:g}-{2 * notice:g} "
                            "menit diarsir", [x / 60 for x in summary["alerts"]["leads_s"]], 5.0, (notice, 2 * notice))
    add(title, chart, ("Menit", "Pemberitahuan"), bins)
    return out


def write_report(record: DayRecord, out: Path) -> dict[str, Any]:
    """Write summary.json and report.html into `out`; returns the summary."""
    summary = summarise(record)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    html = render("report.html", "kiosk.sim", s=summary, charts=charts(record, summary), version=__version__,
                  profile=record.plan.profile, config=record.plan.config)
    (out / "report.html").write_text(html, encoding="utf-8")
    return summary
