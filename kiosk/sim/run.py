"""What `giliran simulate` does: one day per seed (summary.json and report.html each), the
estimators compared over the seeds (comparison.md), or a capacity question (kiosk/sim/whatif.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.hall.config import HallConfig
from kiosk.sim.engine import DaySimulation, HookFactory
from kiosk.sim.plan import plan_day
from kiosk.sim.profile import Profile, ProfileError
from kiosk.sim.report import write_report
from kiosk.sim.whatif import counters_what_if, staffing
from kiosk.storage import read_day_of, shown

SEEDS = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")


def parse_seeds(text: str | None, default: int) -> list[int]:
    """'3', '1-5' or '1,4,9' as a list of seeds (the profile's own when none is given)."""
    if not text:
        return [default]
    seeds: list[int] = []
    for part in text.split(","):
        match = SEEDS.match(part)
        if not match:
            raise ProfileError(f"--seed: {text!r} is not a seed, a range (1-5) or a list (1,4,9)")
        first, last = int(match[1]), int(match[2] or match[1])
        if last < first or last - first > 100:
            raise ProfileError(f"--seed: {part.strip()!r} is not a range of at most 100 seeds")
        seeds += range(first, last + 1)
    return seeds


async def replayed(config: HallConfig, profile: Profile) -> list[tuple[int, str, bool]] | None:
    """The arrivals of the profile's replayed day: (second of the day, service, priority)."""
    if profile.replay is None:
        return None
    try:
        tickets, _ = await read_day_of(profile.replay.database, profile.replay.day)
    except (OSError, ValueError, LookupError) as exc:
        raise ProfileError(f"{profile.source}: replay: {exc}") from None
    out = []
    for t in tickets:
        local = datetime.fromtimestamp(t.issued_at, config.hall.tz)
        out.append((local.hour * 3600 + local.minute * 60 + local.second, t.prefix, t.priority))
    if not out:
        raise ProfileError(f"{profile.source}: replay: no tickets on {profile.replay.day} in "
                           f"{shown(profile.replay.database)}")
    return out


async def simulate(config: HallConfig, profile: Profile, seeds: Sequence[int], out: Path,
                   hooks: Sequence[HookFactory] = (), echo: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Each seed's day, reported in `out` (in seed-N/ when there are several); with several seeds,
    the comparison of the estimators in comparison.md and comparison.json."""
    arrivals = await replayed(config, profile)
    summaries = []
    for seed in seeds:
        plan = plan_day(config, profile, seed, arrivals)
        for warning in plan.warnings:
            echo(f"warning: {warning}")
        record = await DaySimulation(plan, seed, hooks).run()
        folder = out if len(seeds) == 1 else out / f"seed-{seed}"
        summary = write_report(record, folder)
        summaries.append(summary)
        echo(day_line(summary, record.wall_s, folder))
    if len(seeds) > 1:
        table = comparison(profile, summaries)
        (out / "comparison.md").write_text(table, encoding="utf-8")
        (out / "comparison.json").write_text(json.dumps([_compact(s) for s in summaries], indent=2) + "\n",
                                             encoding="utf-8")
        echo(table)
    return summaries


def day_line(s: dict[str, Any], wall_s: float, folder: Path) -> str:
    """One line per simulated day."""
    paired, alerts = s["eta"]["paired_at_issue"], s["alerts"]
    return (f"seed {s['seed']}: {s['tickets']} tickets, wait p50 {_m(s['wait_p50_s'])} p90 {_m(s['wait_p90_s'])}; "
            f"estimate at issue p90 error {_m(paired['forecast']['abs_err_p90_s'])} (formula "
            f"{_m(paired['formula']['abs_err_p90_s'])}, {paired['p90_lower_by_pct']}% lower); alerts "
            f"{alerts['lead_in_window_pct']}% in window, {alerts['missed']} missed, {alerts['doubled']} doubled; "
            f"{wall_s:.1f} s -> {folder}/report.html")


def _m(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f} min"


def _compact(s: dict[str, Any]) -> dict[str, Any]:
    keep = ("profile", "seed", "tickets", "served", "no_show", "cancelled", "unserved", "wait_p50_s", "wait_p90_s",
            "eta_abs_err_p50_s", "eta_abs_err_p90_s", "eta_bias_s")
    alerts = {k: v for k, v in s["alerts"].items() if k != "leads_s"}
    return {k: s[k] for k in keep} | {"eta": s["eta"], "alerts": alerts}


def comparison(profile: Profile, summaries: list[dict[str, Any]]) -> str:
    """Markdown: per seed, the estimate's error at issue (forecast against the formula on the same
    tickets, and later) and the approach alerts."""
    lines = [f"### {profile.name} (`{Path(profile.source).name}`)", "",
             "| seed | tickets | wait p50 / p90 min | at issue p90 abs err s: forecast / formula | lower by | "
             "bias s: forecast / formula | later p90 abs err s: forecast / formula | not estimable at issue | "
             "alerts in window | missed | doubled |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in summaries:
        p, later, a = s["eta"]["paired_at_issue"], (s["eta"]["forecast"]["later"], s["eta"]["formula"]["later"]), \
            s["alerts"]
        lines.append(
            f"| {s['seed']} | {s['tickets']} | {_mm(s['wait_p50_s'])} / {_mm(s['wait_p90_s'])} | "
            f"{p['forecast']['abs_err_p90_s']} / {p['formula']['abs_err_p90_s']} | {p['p90_lower_by_pct']}% | "
            f"{p['forecast']['bias_s']} / {p['formula']['bias_s']} | "
            f"{later[0]['abs_err_p90_s']} / {later[1]['abs_err_p90_s']} | "
            f"{s['eta']['forecast']['at_issue']['not_estimable']} | {a['lead_in_window_pct']}% of {a['eligible']} | "
            f"{a['missed']} | {a['doubled']} |")
    lines.append(_all_seeds(summaries))
    return "\n".join(lines) + "\n"


def _all_seeds(summaries: list[dict[str, Any]]) -> str:
    """The comparison's last row: means over the seeds, alerts pooled."""
    def mean(values: list[Any]) -> str:
        known = [v for v in values if v is not None]
        return "-" if not known else f"{sum(known) / len(known):.0f}"

    paired = [s["eta"]["paired_at_issue"] for s in summaries]
    alerts = [s["alerts"] for s in summaries]
    eligible = sum(a["eligible"] for a in alerts)
    inside = sum(round(a["lead_in_window_pct"] * a["eligible"] / 100) for a in alerts if a["eligible"])
    lower = [p["p90_lower_by_pct"] for p in paired if p["p90_lower_by_pct"] is not None]
    return (f"| all | {mean([s['tickets'] for s in summaries])} | - | "
            f"{mean([p['forecast']['abs_err_p90_s'] for p in paired])} / "
            f"{mean([p['formula']['abs_err_p90_s'] for p in paired])} | "
            f"{sum(lower) / len(lower):.1f}% (least {min(lower):.1f}%) | "
            f"{mean([p['forecast']['bias_s'] for p in paired])} / {mean([p['formula']['bias_s'] for p in paired])} | "
            f"{mean([s['eta']['forecast']['later']['abs_err_p90_s'] for s in summaries])} / "
            f"{mean([s['eta']['formula']['later']['abs_err_p90_s'] for s in summaries])} | "
            f"{mean([s['eta']['forecast']['at_issue']['not_estimable'] for s in summaries])} | "
            f"{100 * inside / eligible if eligible else 0:.1f}% of {eligible} | {sum(a['missed'] for a in alerts)} | "
            f"{sum(a['doubled'] for a in alerts)} |")


def _mm(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f}"


async def what_if(config: HallConfig, profile: Profile, service: str, counters: int | None,
                  target_minutes: float | None, seeds: list[int]) -> dict[str, Any]:
    """The capacity answers asked for (see kiosk/sim/whatif.py)."""
    answer: dict[str, Any] = {"profile": profile.name, "service": service,
                              "service_name": (s.name if (s := config.service(service)) else service)}
    if counters is not None:
        answer["counters"] = await counters_what_if(config, profile, service, counters, seeds)
    if target_minutes is not None:
        answer["staffing"] = await staffing(config, profile, service, target_minutes * 60, seeds)
    return answer


def what_if_text(answer: dict[str, Any]) -> str:
    """The what-if answer for a terminal."""
    lines = [f"{answer['service']} ({answer['service_name']}), profile {answer['profile']}"]
    if c := answer.get("counters"):
        for label, key in (("now", "now"), ("with", "what_if")):
            v = c[key]
            lines.append(f"  {label} {v['counters']} counters: {v['called']} of {v['tickets']} called "
                         f"({v['unserved']} still waiting at closing, counted to then), wait p50 "
                         f"{_m(v['wait_p50_s'])}, p90 {_m(v['wait_p90_s'])}"
                         + (f" (shares counters with {', '.join(v['shared_with'])})" if v["shared_with"] else ""))
    if st := answer.get("staffing"):
        lines.append(f"  counters needed per hour for a p90 wait under {_m(st['target_p90_s'])}"
                     + ("" if st["met"] else " (NOT met within the limits)") + ":")
        for h in st["hours"]:
            lines.append(f"    {h['hour']:02d}:00  {h['counters']:>2} counters  ({h['arrivals']} arrivals, "
                         f"Erlang C {h['erlang']}, simulated p90 {_m(h['wait_p90_s'])})")
    return "\n".join(lines)
