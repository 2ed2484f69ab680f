"""The day in numbers (summary.json): waits, counters' utilisation, the estimates' errors against
the waits that followed, and the approach alerts' lead times. Definitions in docs/estimates.md.

Percentiles are taken over the values themselves, interpolating linearly between the two closest
ranks (`percentile`); a wait is a ticket's first call less its issue.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiosk.queue.models import CANCELLED, DONE, NO_SHOW, WAITING, Ticket
from kiosk.sim.engine import DayRecord, Shown


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0-100), linear between the closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Called:
    """A ticket that was called (its wait is known)."""

    id: int
    prefix: str
    issued_at: float
    called_at: float


def _called(tickets: Iterable[Ticket]) -> dict[int, Called]:
    return {t.id: Called(t.id, t.prefix, t.issued_at, t.called_at) for t in tickets if t.called_at is not None}


def _r(value: float | None, digits: int = 0) -> float | int | None:
    if value is None:
        return None
    return round(value) if digits == 0 else round(value, digits)


def summarise(record: DayRecord) -> dict[str, Any]:
    """The day's summary (what summary.json holds)."""
    plan = record.plan
    tickets = record.tickets
    called = _called(tickets)
    waits = [t.called_at - t.issued_at for t in called.values()]
    states: dict[str, int] = {}
    for t in tickets:
        states[t.state] = states.get(t.state, 0) + 1
    forecast = _errors(record.forecast, called)
    formula = _errors(record.formula, called)
    paired = _paired(record, called)
    return {
        "profile": plan.profile.name,
        "hall": plan.config.hall.name,
        "day": record.day,
        "seed": record.seed,
        "tickets": len(tickets),
        "served": states.get(DONE, 0),
        "no_show": states.get(NO_SHOW, 0),
        "cancelled": states.get(CANCELLED, 0),
        "unserved": states.get(WAITING, 0),
        "refused": dict(sorted(record.refused.items())),
        "wait_p50_s": _r(percentile(waits, 50)),
        "wait_p90_s": _r(percentile(waits, 90)),
        "wait_mean_s": _r(sum(waits) / len(waits)) if waits else None,
        "wait_max_s": _r(max(waits, default=None)),
        "utilisation": _utilisation(record),
        "eta_abs_err_p50_s": forecast["at_issue"]["abs_err_p50_s"],
        "eta_abs_err_p90_s": forecast["at_issue"]["abs_err_p90_s"],
        "eta_bias_s": forecast["at_issue"]["bias_s"],
        "eta": {"forecast": forecast, "formula": formula, "paired_at_issue": paired},
        "alerts": _alerts(record, called),
        "services": _per_service(record, called),
        "warnings": plan.warnings,
    }


def _errors(shown: Shown, called: dict[int, Called]) -> dict[str, Any]:
    """Errors of the estimates shown, at issue and at every later change, against the wait that followed."""
    at_issue = [(tid, at, est) for tid, (at, est) in shown.at_issue.items()]
    return {"at_issue": _error_stats(at_issue, called), "later": _error_stats(shown.later, called)}


def _error_stats(records: Iterable[tuple[int, float, int | None]], called: dict[int, Called]) -> dict[str, Any]:
    errors, unknown = [], 0
    for tid, at, est in records:
        ticket = called.get(tid)
        if ticket is None:
            continue  # cancelled or never called: no wait to compare with
        if est is None:
            unknown += 1
            continue
        errors.append(est - (ticket.called_at - at))
    absolute = [abs(e) for e in errors]
    return {"count": len(errors), "not_estimable": unknown,
            "abs_err_p50_s": _r(percentile(absolute, 50)), "abs_err_p90_s": _r(percentile(absolute, 90)),
            "bias_s": _r(sum(errors) / len(errors)) if errors else None}


def _paired(record: DayRecord, called: dict[int, Called]) -> dict[str, Any]:
    """At issue, on the same tickets (those the forecast could estimate): forecast against formula."""
    ids = [tid for tid, (_, est) in record.forecast.at_issue.items() if est is not None and tid in called]
    new = [(tid, *record.forecast.at_issue[tid]) for tid in ids]
    old = [(tid, *record.formula.at_issue[tid]) for tid in ids]
    a, b = _error_stats(new, called), _error_stats(old, called)
    gain = None
    if a["abs_err_p90_s"] is not None and b["abs_err_p90_s"]:
        gain = round(100 * (1 - a["abs_err_p90_s"] / b["abs_err_p90_s"]), 1)
    return {"tickets": len(ids), "forecast": a, "formula": b, "p90_lower_by_pct": gain}


def _utilisation(record: DayRecord) -> dict[str, float]:
    busy: dict[str, float] = {}
    for visit in record.visits:
        busy[visit["counter_id"]] = busy.get(visit["counter_id"], 0.0) + visit["ended_at"] - visit["called_at"]
    return {cid: round(min(1.0, busy.get(cid, 0.0) / open_s), 3) if open_s > 0 else 0.0
            for cid, open_s in record.open_s.items()}


def _alerts(record: DayRecord, called: dict[int, Called]) -> dict[str, Any]:
    """Approach alerts: sent, due (a followed ticket called), missed, doubled, lead times."""
    config = record.plan.config
    by_ticket: dict[int, list[dict[str, Any]]] = {}
    for message in record.approach:
        by_ticket.setdefault(message["ticket_id"], []).append(message)
    doubled = sum(1 for rows in by_ticket.values()
                  if len({(m["channel"], m["address"]) for m in rows}) < len(rows))
    due = missed = eligible = inside = early = late = 0
    leads: list[float] = []
    for tid, (_, since) in record.followed.items():
        ticket = called.get(tid)
        if ticket is None or since >= ticket.called_at:
            continue
        due += 1
        sent = [m["created_at"] for m in by_ticket.get(tid, []) if m["created_at"] <= ticket.called_at]
        if not sent:
            missed += 1
        minutes = config.approach_rule(ticket.prefix)[1] * 60
        if ticket.called_at - since < minutes:
            continue  # followed too late for an alert with that much notice
        eligible += 1
        if sent:
            lead = ticket.called_at - min(sent)
            leads.append(lead)
            inside += minutes <= lead <= 2 * minutes
            early += lead > 2 * minutes
            late += lead < minutes
    return {"followers": len(record.followed), "approach_sent": len(record.approach), "due": due,
            "missed": missed, "doubled": doubled, "eligible": eligible,
            "lead_in_window_pct": round(100 * inside / eligible, 1) if eligible else None,
            "early": early, "late": late, "lead_p50_s": _r(percentile(leads, 50)),
            "lead_p10_s": _r(percentile(leads, 10)), "lead_p90_s": _r(percentile(leads, 90)),
            "leads_s": [round(x) for x in leads]}


def _per_service(record: DayRecord, called: dict[int, Called]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    waits: dict[str, list[float]] = {}
    for t in record.tickets:
        row = rows.setdefault(t.prefix, {"tickets": 0, "served": 0, "no_show": 0, "cancelled": 0, "unserved": 0})
        row["tickets"] += 1
        key = {DONE: "served", NO_SHOW: "no_show", CANCELLED: "cancelled", WAITING: "unserved"}.get(t.state)
        if key:
            row[key] += 1
        if t.id in called:
            waits.setdefault(t.prefix, []).append(called[t.id].called_at - t.issued_at)
    for code, row in rows.items():
        row["wait_p50_s"] = _r(percentile(waits.get(code, []), 50))
        row["wait_p90_s"] = _r(percentile(waits.get(code, []), 90))
    return dict(sorted(rows.items()))


def hourly(record: DayRecord) -> dict[str, Any]:
    """Series for the report's charts, by local hour: waits by hour of issue, estimate errors by hour
    of issue (forecast and formula), queue lengths every sample, lead times."""
    tz = record.plan.config.hall.tz
    called = _called(record.tickets)

    def hour(at: float) -> int:
        return datetime.fromtimestamp(at, tz).hour

    waits: dict[int, list[float]] = {}
    for t in called.values():
        waits.setdefault(hour(t.issued_at), []).append(t.called_at - t.issued_at)
    errors: dict[str, dict[int, list[float]]] = {"forecast": {}, "formula": {}}
    for name, shown in (("forecast", record.forecast), ("formula", record.formula)):
        for tid, (at, est) in shown.at_issue.items():
            if tid in called and est is not None and record.forecast.at_issue[tid][1] is not None:
                errors[name].setdefault(hour(at), []).append(abs(est - (called[tid].called_at - at)))
    hours = sorted(set(waits) | set(errors["forecast"]) | set(errors["formula"]))
    return {
        "hours": hours,
        "wait_p50_s": [_r(percentile(waits.get(h, []), 50)) for h in hours],
        "wait_p90_s": [_r(percentile(waits.get(h, []), 90)) for h in hours],
        "tickets": [len(waits.get(h, [])) for h in hours],
        "err_p90_forecast_s": [_r(percentile(errors["forecast"].get(h, []), 90)) for h in hours],
        "err_p90_formula_s": [_r(percentile(errors["formula"].get(h, []), 90)) for h in hours],
        "queue": [(datetime.fromtimestamp(at, tz).strftime("%H:%M"), sum(counts.values()))
                  for at, counts in record.samples],
    }
