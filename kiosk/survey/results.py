"""The IKM of a range of days per service, agency, counter, officer or month, with the response
rate and the Krejcie-Morgan sample the served population asks for (docs/survey.md). Reads only
(never the writer); scoped like every report (`report_scope`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kiosk.hall.config import HallConfig
from kiosk.hall.survey import CODES
from kiosk.queue.errors import Unprocessable
from kiosk.reports.period import MONTHS, Period
from kiosk.storage.base import Store
from kiosk.survey.ikm import Tally, index_of, krejcie_morgan

GROUPINGS = ("service", "agency", "counter", "officer", "month")
NO_OFFICER = "Petugas tidak tercatat"
OWN_MINIMUM = 10  # an officer sees their own IKM only over at least this many responses


def check_survey_grouping(by: str | None) -> str:
    """service (default), agency, counter, officer or month; 422 `invalid_grouping` otherwise."""
    by = by or "service"
    if by not in GROUPINGS:
        raise Unprocessable(f"Pengelompokan '{by[:20]}' tidak dikenal; pilih {', '.join(GROUPINGS)}.",
                            code="invalid_grouping")
    return by


@dataclass
class Group:
    """Sums of one group: responses, per element sums/counts and answer distribution, served tickets."""

    responses: int = 0
    served: int = 0
    sums: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CODES, 0))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CODES, 0))
    dist: dict[str, list[int]] = field(default_factory=lambda: {c: [0, 0, 0, 0] for c in CODES})

    def add(self, row: dict[str, Any]) -> None:
        """Add a tally row of the store."""
        self.responses += row["responses"]
        for code in CODES:
            self.sums[code] += row["sums"][code]
            self.counts[code] += row["counts"][code]
            self.dist[code] = [a + b for a, b in zip(self.dist[code], row["dist"][code], strict=True)]

    def row(self, key: str, label: str) -> dict[str, Any]:
        """The group as the API shows it."""
        index = index_of(Tally(self.responses, self.sums, self.counts))
        required = krejcie_morgan(self.served)
        return {"key": key, "label": label, "responses": self.responses, "served": self.served,
                "response_rate_pct": round(100 * self.responses / self.served, 1) if self.served else None,
                "sample_required": required, "sample_enough": self.responses >= required and self.served > 0,
                "nrr": index.nrr, "nrr_weighted": index.weighted, "ikm": index.ikm, "grade": index.grade,
                "mutu": index.mutu}


def month_label(month: str) -> str:
    """'2026-11' as 'November 2026'."""
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {year}"


def _key(by: str, row: dict[str, Any], config: HallConfig) -> str:
    if by == "agency":
        if "agency" in row:
            return str(row["agency"] or "")
        service = config.service(row["service"])
        return service.agency if service else ""
    return str(row[by] or "") if by != "month" else str(row["month"])


def _label(by: str, key: str, config: HallConfig) -> str:
    if by == "service":
        service = config.service(key)
        return service.name if service else f"Layanan {key} (dihapus)"
    if by == "agency":
        agency = config.agency(key)
        return agency.name if agency else (key or "Instansi tidak dikenal")
    if by == "counter":
        counter = config.counter(key)
        return counter.name if counter else (f"Loket {key}" if key else "Loket tidak tercatat")
    if by == "officer":
        return key or NO_OFFICER
    return month_label(key)


def _order(by: str, keys: Sequence[str], config: HallConfig) -> list[str]:
    known = {"service": [s.code for s in config.services], "agency": [a.code for a in config.agencies],
             "counter": [c.id for c in config.counters]}.get(by)
    if known is None:
        return sorted(keys, key=lambda k: (k == "", k.lower()))
    rank = {k: i for i, k in enumerate(known)}
    return sorted(keys, key=lambda k: (rank.get(k, len(rank)), k))


async def ikm_report(store: Store, config: HallConfig, period: Period, by: str,
                     scope: Sequence[str] | None) -> dict[str, Any]:
    """`{"from", "to", "by", "rows", "total", "distribution"}`: the IKM of each group and in total."""
    return (await ikm_reports(store, config, period, (by,), scope))[by]


async def ikm_reports(store: Store, config: HallConfig, period: Period, groupings: Sequence[str],
                      scope: Sequence[str] | None) -> dict[str, dict[str, Any]]:
    """The IKM by several groupings from one read of the sums (one snapshot: every table agrees)."""
    tallies, served = await store.reports.survey_sums(period.days, scope)
    return {by: _report(config, period, by, tallies, served) for by in groupings}


def _report(config: HallConfig, period: Period, by: str, tallies: list[dict[str, Any]],
            served: list[dict[str, Any]]) -> dict[str, Any]:
    groups: dict[str, Group] = {}
    total = Group()
    for row in tallies:
        groups.setdefault(_key(by, row, config), Group()).add(row)
        total.add(row)
    for row in served:
        groups.setdefault(_key(by, row, config), Group()).served += row["served"]
        total.served += row["served"]
    rows = [groups[k].row(k, _label(by, k, config)) for k in _order(by, list(groups), config)]
    elements = [{"code": e.code, "key": e.key, "name": e.name, "question": e.question, "answers": list(e.answers),
                 "counts": total.dist[e.code]} for e in config.survey.elements]
    return {"from": period.first.isoformat(), "to": period.last.isoformat(), "by": by, "rows": rows,
            "total": total.row("", "Jumlah"), "distribution": elements}


async def comments(store: Store, config: HallConfig, period: Period, scope: Sequence[str] | None,
                   limit: int = 500) -> list[dict[str, Any]]:
    """The suggestions written in the range, newest first, with their service and date only."""
    rows = await store.reports.survey_comments(period.days, scope, limit)
    return [{"day": r["day"], "service": r["service"], "service_name": _label("service", r["service"], config),
             "comment": r["comment"]} for r in rows]


PROFILE_NAMES = {"gender": "Jenis kelamin", "age": "Usia", "education": "Pendidikan", "occupation": "Pekerjaan"}


async def profile(store: Store, period: Period, scope: Sequence[str] | None) -> list[dict[str, Any]]:
    """The respondents' profile as counts (what units publish beside the IKM); never per person."""
    rows = await store.reports.survey_profile(period.days, scope)
    labels = {"L": "Laki-laki", "P": "Perempuan"}
    return [{"field": PROFILE_NAMES[name], "value": labels.get(value, value) or "Tidak diisi", "count": n}
            for name, value, n in rows]


async def own_ikm(store: Store, config: HallConfig, username: str, today: date) -> dict[str, Any]:
    """An officer's own IKM over the last 90 days (motivation, not surveillance): only the aggregate,
    and only over at least OWN_MINIMUM responses."""
    period = Period.of(date.fromordinal(today.toordinal() - 89), today)
    report = await ikm_report(store, config, period, "officer", None)
    row = next((r for r in report["rows"] if r["key"] == username), None)
    responses = row["responses"] if row else 0
    shown = row is not None and responses >= OWN_MINIMUM
    return {"from": report["from"], "to": report["to"], "responses": responses, "minimum": OWN_MINIMUM,
            "ikm": row["ikm"] if shown and row else None, "grade": row["grade"] if shown and row else None,
            "mutu": row["mutu"] if shown and row else None}
