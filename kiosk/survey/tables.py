"""The IKM as tables (for CSV/XLSX, kiosk/reports/export.py) in the layout units publish, and as SVG
charts with their tables (kiosk/reports/charts.py): the distribution of answers per element and
the IKM by month."""

from __future__ import annotations

from typing import Any

from kiosk.hall.config import HallConfig
from kiosk.hall.survey import CODES
from kiosk.reports.charts import Chart, bar_chart, columns_of, stacked_bars
from kiosk.reports.export import Column, Table
from kiosk.survey.ikm import krejcie_morgan

HEADERS = {"service": "Layanan", "agency": "Instansi", "counter": "Loket", "officer": "Petugas", "month": "Bulan"}
SHEETS = {"service": "IKM per layanan", "agency": "IKM per instansi", "counter": "IKM per loket",
          "officer": "IKM per petugas", "month": "IKM per bulan"}
NOTE = ("NRR per unsur = jumlah nilai unsur / jumlah responden yang menjawab unsur itu; "
        "IKM = (jumlah NRR x 1/9) x 25. Mutu: A 88,31-100 Sangat Baik; B 76,61-88,30 Baik; "
        "C 65,00-76,60 Kurang Baik; D 25,00-64,99 Tidak Baik (PermenPAN-RB 14/2017).")


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for code in CODES:
        out[code] = row["nrr"][code]
    return out


def ikm_table(result: dict[str, Any], by: str) -> Table:
    """One row per group: respondents, served, response rate, sample needed, NRR U1-U9, IKM, mutu."""
    columns = [Column("label", HEADERS[by]), Column("key", "Kode"), Column("responses", "Responden", 0),
               Column("served", "Dilayani", 0), Column("response_rate_pct", "Tingkat respons (%)", 1),
               Column("sample_required", "Sampel minimal (Krejcie-Morgan)", 0),
               *[Column(code, f"NRR {code}", 2) for code in CODES],
               Column("ikm", "IKM", 2), Column("grade", "Mutu"), Column("mutu", "Kinerja unit")]
    return Table(SHEETS[by], f"Indeks Kepuasan Masyarakat {SHEETS[by][4:]}", columns,
                 [_flat(r) for r in result["rows"]], _flat(result["total"]), (NOTE,))


def published_table(result: dict[str, Any], config: HallConfig) -> Table:
    """The unit's IKM as units publish it: per element the sum of values, respondents, NRR and NRR
    weighted by 1/9, then the sum of weighted NRR, the IKM (x 25), mutu and kinerja unit."""
    total = result["total"]
    rows: list[dict[str, Any]] = []
    for element in result["distribution"]:
        counts = element["counts"]
        rows.append({"code": element["code"], "name": element["name"], "sum": sum((v + 1) * n for v, n in
                                                                                  enumerate(counts)),
                     "n": sum(counts), "nrr": total["nrr"][element["code"]],
                     "weighted": total["nrr_weighted"][element["code"]]})
    weighted = [v for v in total["nrr_weighted"].values() if v is not None]
    footer = {"code": "", "name": "Jumlah NRR tertimbang", "weighted": round(sum(weighted), 3) if weighted else None}
    notes = (f"IKM unit pelayanan (jumlah NRR tertimbang x 25): {_num(total['ikm'])}",
             f"Mutu pelayanan: {total['grade'] or '-'} · Kinerja unit pelayanan: {total['mutu'] or '-'}",
             f"Responden: {total['responses']} dari {total['served']} warga yang dilayani; sampel minimal "
             f"Krejcie-Morgan {krejcie_morgan(total['served'])}", NOTE,
             "U1..U9 mengikuti urutan kuesioner: U8 Sarana dan prasarana, U9 Penanganan pengaduan.")
    return Table("IKM unit", f"Indeks Kepuasan Masyarakat {config.hall.name}",
                 columns_of(("code", "Kode", None), ("name", "Unsur pelayanan", None), ("sum", "Jumlah nilai", 0),
                            ("n", "Responden", 0), ("nrr", "NRR per unsur", 2),
                            ("weighted", "NRR tertimbang (x 1/9)", 3)), rows, footer, notes)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}".replace(".", ",")


def comments_table(rows: list[dict[str, Any]]) -> Table:
    """The suggestions and complaints with their service and date (never who wrote them)."""
    return Table("Saran", "Saran dan pengaduan", columns_of(("day", "Tanggal", None),
                                                              ("service_name", "Layanan", None),
                                                              ("comment", "Saran / pengaduan", None)), rows)


def _short(text: str, width: int = 24) -> str:
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def profile_table(rows: list[dict[str, Any]]) -> Table:
    """Respondents by jenis kelamin, usia, pendidikan, pekerjaan (counts)."""
    return Table("Profil responden", "Profil responden", columns_of(("field", "Data", None), ("value", "Isian", None),
                                                                  ("count", "Responden", 0)), rows)


def distribution_chart(result: dict[str, Any]) -> Chart:
    """Per element, the share of each answer (1-4), from the total."""
    elements = result["distribution"]
    labels = [_short(f"{e['code']} {e['name']}") for e in elements]
    rows = [{"label": label, **{f"v{v + 1}": e["counts"][v] for v in range(4)}}
            for label, e in zip(labels, elements, strict=True)]
    table = Table("Sebaran jawaban", "Sebaran jawaban per unsur",
                  columns_of(("label", "Unsur", None), ("v1", "1 (terburuk)", 0), ("v2", "2", 0), ("v3", "3", 0),
                             ("v4", "4 (terbaik)", 0)), rows)
    colors = ("#c53030", "#dd6b20", "#68a357", "#2e8540")
    return stacked_bars("ikm-sebaran", "Sebaran jawaban per unsur (1 terburuk, 4 terbaik)", labels,
                        ["1", "2", "3", "4"], [e["counts"] for e in elements], table, colors,
                        [f"n={sum(e['counts'])}" for e in elements])


def trend_chart(by_month: dict[str, Any]) -> Chart:
    """IKM by month."""
    rows = [r for r in by_month["rows"] if r["ikm"] is not None]
    table = Table("IKM per bulan", "IKM per bulan", columns_of(("label", "Bulan", None), ("responses", "Responden", 0),
                                                             ("ikm", "IKM", 2), ("grade", "Mutu", None)), rows)
    return bar_chart("ikm-tren", "Tren IKM per bulan", [r["label"] for r in rows],
                     [("IKM", [r["ikm"] for r in rows])], table)
