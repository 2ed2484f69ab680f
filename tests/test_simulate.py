"""The day simulator on cases with known answers: one counter with fixed service times (exact
waits, breaks, no-shows), an M/M/c day against Erlang C, alerts with an exact forecast, the same
seed giving the same day, profiles, replaying a real day, and the what-if answers."""

from __future__ import annotations

import filecmp
import heapq
import json
import statistics
from pathlib import Path

import pytest

from kiosk.hall.config import DEMO_HALL
from kiosk.hall.parse import load_hall, parse_hall
from kiosk.sim.engine import DaySimulation
from kiosk.sim.measures import percentile, summarise
from kiosk.sim.plan import plan_day
from kiosk.sim.profile import ProfileError, load_profile, parse_profile
from kiosk.sim.whatif import _erlang_c, erlang_counters, staffing, with_counters
from notifier.policy import AlertPolicy
from tests.conftest import hall_dict, wib
from tests.server_process import run_cli

ROOT = Path(__file__).resolve().parent.parent


def hall(counters: int = 1, minutes: float = 5, **extra):
    services = [{"code": "M", "name": "Layanan M", "agency": "DUKCAPIL", "service_minutes": minutes}]
    return parse_hall(hall_dict(services=services, counters=[
        {"id": str(i + 1), "name": f"Loket {i + 1}", "services": ["M"]} for i in range(counters)], **extra))


def profile(text: str, day: str = "2026-03-02"):
    return parse_profile(f'[profile]\nname = "uji"\ndate = "{day}"\n' + text, "uji.toml")


async def run_day(config, prof, seed=1, **kw):
    return await DaySimulation(plan_day(config, prof, seed), seed, **kw).run()


def waits_by_number(record):
    return {t.number: None if t.called_at is None else round(t.called_at - t.issued_at) for t in record.tickets}


async def test_one_counter_fixed_service_times_gives_exact_waits():
    prof = profile('''
[service_default]
arrivals_at = ["08:00", "08:01", "08:02", "08:20"]
service_time = { law = "fixed", mean_minutes = 5 }
[counter_default]
open = "08:00"
close = "12:00"
''')
    record = await run_day(hall(), prof)
    assert waits_by_number(record) == {"M001": 0, "M002": 240, "M003": 480, "M004": 0}
    summary = summarise(record)
    assert (summary["tickets"], summary["served"], summary["unserved"]) == (4, 4, 0)
    assert summary["wait_p50_s"] == 120 and summary["wait_p90_s"] == 408  # linear between ranks: [0, 0, 240, 480]
    assert summary["utilisation"] == {"1": round(20 / 240, 3)}


async def test_breaks_no_shows_and_walking_move_the_waits_exactly():
    prof = profile('''
[service_default]
arrivals_at = ["08:00", "08:01", "08:02", "08:03"]
service_time = { law = "fixed", mean_minutes = 5 }
walk_seconds = 0
[services.M]
arrivals_at = ["08:00", "08:01", "08:02", "08:03"]
[counter_default]
open = "08:00"
close = "12:00"
breaks = ["08:07-08:12"]
''')
    # 08:00 served 08:00-08:05; 08:01 called 08:05, served to 08:10 (the break waits for the visit);
    # break 08:10-08:12; 08:02 called 08:12; 08:03 called 08:17.
    record = await run_day(hall(), prof)
    assert waits_by_number(record) == {"M001": 0, "M002": 240, "M003": 600, "M004": 840}
    assert summarise(record)["utilisation"] == {"1": round(20 / (240 - 2), 3)}
    no_show = profile('''
[service_default]
arrivals_at = ["08:00", "08:00:30"]
service_time = { law = "fixed", mean_minutes = 5 }
no_show = 1.0
no_show_wait_seconds = 90
[counter_default]
open = "08:00"
close = "09:00"
''')
    record = await run_day(hall(), no_show)
    assert waits_by_number(record) == {"M001": 0, "M002": 60}, "the officer waits 90 s, then calls the next"
    assert summarise(record)["no_show"] == 2


def test_erlang_c_against_known_values():
    assert _erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert _erlang_c(3, 2.4) == pytest.approx(11.52 / 17.8)
    assert _erlang_c(1, 0.5) == pytest.approx(0.5), "M/M/1: the chance to wait is the load"
    assert erlang_counters(28.8, 300, 600) == 4
    assert erlang_counters(0, 300, 600) == 0


def fcfs_waits(plan, counters: int, opens: float) -> list[float]:
    """Waits of the plan's citizens in a first-come first-served queue with `counters` servers,
    computed directly (each citizen takes the first server to be free): the engine must agree."""
    free = [plan.midnight + opens] * counters
    waits = []
    for citizen in plan.citizens:
        arrival = plan.midnight + citizen.at
        start = max(arrival, heapq.heappop(free))
        waits.append(start - arrival)
        heapq.heappush(free, start + citizen.service_s)
    return waits


async def test_an_mmc_day_agrees_with_erlang_c():
    # Three counters, exponential services of 4 minutes, Poisson arrivals at 70% of capacity from
    # 01:00 to 23:00. Erlang C: P(wait) = C(3, 2.1) = 0.492; mean wait = C / (3 mu - lambda) = 2.19 min.
    prof = profile('''
[service_default]
arrivals = { "01:00" = 31.5, "23:00" = 0 }
service_time = { law = "exponential", mean_minutes = 4 }
[counter_default]
open = "01:00"
close = "23:59"
''')
    config = hall(counters=3)
    waits: list[float] = []
    for seed in (1, 2, 3):
        plan = plan_day(config, prof, seed)
        record = await DaySimulation(plan, seed, observe=False).run()
        engine = [t.called_at - t.issued_at for t in sorted(record.tickets, key=lambda t: (t.issued_at, t.id))]
        assert engine == pytest.approx(fcfs_waits(plan, 3, 3600), abs=1e-6), "the engine is first come, first served"
        waits += engine
    c = _erlang_c(3, 2.1)
    mean = c / (3 / 240 - 31.5 / 3600) / 60
    # Tolerances: three days (about 2,100 tickets) of this queue give a share waiting within 0.04
    # and a mean wait within 18% of the theory (one standard deviation, measured over 60 blocks of
    # three days with the direct recursion above); the test allows two.
    assert sum(w > 0 for w in waits) / len(waits) == pytest.approx(c, abs=0.08)
    assert statistics.mean(waits) / 60 == pytest.approx(mean, rel=0.36)


async def test_alerts_with_an_exact_forecast_land_in_the_window():
    # One counter, exactly 5 minutes a visit, the hall's pace set to 5 minutes: the forecast is exact.
    # Twelve people at eight, all following by SMS; a notice of 10 to 20 minutes is due to each.
    prof = profile('''
[alerts]
approach_minutes = 10
approach_ahead = 0
[service_default]
arrivals_at = ["07:59", "07:59", "07:59", "07:59", "07:59", "07:59", "07:59", "07:59", "07:59", "07:59", "07:59", "07:59"]
service_time = { law = "fixed", mean_minutes = 5 }
follow_sms = 1.0
[counter_default]
open = "08:00"
close = "10:00"
''')
    record = await run_day(hall(), prof, hooks=[lambda rt: AlertPolicy(rt.queue)])
    alerts = summarise(record)["alerts"]
    assert (alerts["followers"], alerts["due"], alerts["missed"], alerts["doubled"]) == (12, 12, 0, 0)
    assert alerts["eligible"] == 10, "the first two waited under 10 minutes"
    # At the opening the third citizen is 10 minutes away (told at once); from then on each is told at
    # the call 15 minutes before their own, the look closest to the middle of the window.
    assert alerts["lead_in_window_pct"] == 100.0 and sorted(alerts["leads_s"]) == [600] + [900] * 9


async def test_the_same_seed_gives_the_same_day():
    prof = load_profile(ROOT / "examples" / "hari-sepi.toml")
    config = load_hall(DEMO_HALL)
    first = summarise(await run_day(config, prof, 3, hooks=[lambda rt: AlertPolicy(rt.queue)]))
    again = summarise(await run_day(config, prof, 3, hooks=[lambda rt: AlertPolicy(rt.queue)]))
    other = summarise(await run_day(config, prof, 4, hooks=[lambda rt: AlertPolicy(rt.queue)]))
    assert first == again
    assert first["tickets"] > 200 and other != first


def test_profiles_default_every_unlisted_service_and_name_the_unknown():
    config = load_hall(DEMO_HALL)
    prof = profile('''
[service_default]
arrivals = { "08:00" = 10, "09:00" = 0 }
[services.A]
arrivals = { "08:00" = 40, "09:00" = 0 }
[services.QQ]
arrivals = { "08:00" = 40, "09:00" = 0 }
[counters."99"]
open = "09:00"
''')
    plan = plan_day(config, prof, 1)
    counts = {code: sum(1 for c in plan.citizens if c.service == code) for code in ("A", "B", "AG")}
    assert counts["A"] > 2 * counts["B"] > 0 and counts["AG"] > 0
    assert plan.warnings == ["profile names service QQ, which this hall does not have: left out",
                             "profile names counter 99, which this hall does not have: left out"]
    for name in ("senin-ramai.toml", "hari-sepi.toml"):
        shipped = load_profile(ROOT / "examples" / name)
        assert plan_day(config, shipped, 1).warnings == []
        assert filecmp.cmp(ROOT / "examples" / name, ROOT / "kiosk" / "sim" / "profiles" / name, shallow=False)


@pytest.mark.parametrize(("text", "message"), [
    ('[service_default]\ncolour = 1', "service_default: unknown key 'colour'"),
    ('[service_default]\narrivals = { "8:00" = 3 }', "'8:00' is not a time HH:MM"),
    ('[service_default]\narrivals = { "08:00" = 3 }\nload = { "08:00" = 1 }', "give one of arrivals, load"),
    ('[service_default]\nfollow_sms = 0.7\nfollow_telegram = 0.5', "must not exceed 1"),
    ('[service_default]\nno_show = 2', "no_show must be a number from 0 to 1"),
    ('[service_default]\nservice_time = { law = "gamma" }', "law must be one of"),
    ('[counter_default]\nopen = "15:00"\nclose = "08:00"', "close must come after open"),
    ('[counter_default]\nbreaks = ["13:00-12:00"]', "ends before it starts"),
    ('[alerts]\napproach_minutes = -1', "alerts.approach_minutes must be a number"),
])
def test_a_wrong_profile_is_refused_naming_the_key(text, message):
    with pytest.raises(ProfileError, match="uji.toml") as info:
        profile(text)
    assert message in str(info.value)


def test_friday_prayer_and_staggered_breaks():
    config = load_hall(DEMO_HALL)
    text = '''
[counter_default]
open = "08:00"
close = "15:00"
breaks = ["12:00-12:45"]
friday_breaks = ["11:30-13:00"]
stagger_breaks_minutes = 45
'''
    monday = {c.id: c.breaks for c in plan_day(config, profile(text), 1).counters}
    assert monday["1"] == ((12 * 3600, 12 * 3600 + 2700),)  # Dukcapil's first counter
    assert monday["2"] == ((12 * 3600 + 2700, 13 * 3600 + 1800),)  # its second, in turn
    assert monday["4"] == ((14 * 3600 + 900, 15 * 3600),)  # the last turn that ends by closing
    assert monday["5"] == monday["1"] and monday["6"] == monday["2"]  # then the turns start again
    assert monday["16"] == ((12 * 3600, 12 * 3600 + 2700),)  # the only counter of the Pengadilan Agama
    friday = {c.id: c.breaks for c in plan_day(config, profile(text, "2026-03-06"), 1).counters}
    assert set(friday.values()) == {((11 * 3600 + 1800, 13 * 3600),)}


async def test_a_real_day_replayed_from_a_database(runtime_factory, db_at, clock, tmp_path):
    clock.set(wib(2026, 3, 2, 8, 0))
    rt = await runtime_factory(hall(counters=2))
    for minute, priority in ((0, False), (7, True), (31, False)):
        clock.set(wib(2026, 3, 2, 8, minute))
        await rt.queue.issue("M", priority=priority)
    db = db_at("q0")  # the runtime's database: an SQLite file, or its hall's URL on PostgreSQL
    prof = profile(f'''
[replay]
database = "{db}"
day = "2026-03-02"
[service_default]
service_time = {{ law = "fixed", mean_minutes = 5 }}
''', day="2026-03-09")
    from kiosk.sim.run import replayed
    arrivals = await replayed(hall(counters=2), prof)
    assert arrivals == [(8 * 3600, "M", False), (8 * 3600 + 420, "M", True), (8 * 3600 + 1860, "M", False)]
    plan = plan_day(hall(counters=2), prof, 1, arrivals)
    assert [(c.at, c.service, c.priority_reason is not None) for c in plan.citizens] == arrivals
    record = await DaySimulation(plan, 1).run()
    assert record.day == "2026-03-09" and len(record.tickets) == 3


async def test_counters_what_if_and_staffing():
    config = hall(counters=1)
    prof = profile('''
[service_default]
arrivals = { "08:00" = 30, "11:00" = 0 }
service_time = { law = "fixed", mean_minutes = 5 }
[counter_default]
open = "08:00"
close = "13:00"
''')
    changed = with_counters(config, "M", 3)
    assert [c.id for c in changed.counters_for("M")] == ["1", "SIM2", "SIM3"]
    assert with_counters(changed, "M", 1).counters_for("M")[0].id == "1"
    from kiosk.sim.whatif import counters_what_if
    answer = await counters_what_if(config, prof, "M", 3, [1])
    assert answer["now"]["counters"] == 1 and answer["what_if"]["counters"] == 3
    assert answer["now"]["tickets"] == answer["what_if"]["tickets"] > 60
    assert answer["what_if"]["wait_p90_s"] < answer["now"]["wait_p90_s"] / 5
    # 30 an hour at 5 minutes each is 2.5 counters' work: three keep the wait short.
    plan = await staffing(config, prof, "M", 10 * 60, [1, 2])
    hours = {h["hour"]: h for h in plan["hours"]}
    assert plan["met"] and all(hours[h]["counters"] >= 3 for h in (8, 9, 10))
    assert all(hours[h]["wait_p90_s"] <= 600 for h in (8, 9, 10))
    assert hours[12]["counters"] == 0


async def test_the_command_writes_the_report_and_the_comparison(tmp_path):
    code, out, err = await run_cli("simulate", "--profile", str(ROOT / "examples" / "hari-sepi.toml"), "--seed", "1-2",
                                   "--out", str(tmp_path))
    assert code == 0, err
    assert "seed 1:" in out and "seed 2:" in out and "| seed |" in out
    summary = json.loads((tmp_path / "seed-1" / "summary.json").read_text())
    for key in ("tickets", "wait_p50_s", "wait_p90_s", "utilisation", "eta_abs_err_p50_s", "eta_abs_err_p90_s",
                "eta_bias_s"):
        assert key in summary, key
    for key in ("approach_sent", "lead_in_window_pct", "missed", "doubled"):
        assert key in summary["alerts"], key
    html = (tmp_path / "seed-1" / "report.html").read_text()
    assert html.count("<svg") == 5 and "<script" not in html and "<link" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html
    assert (tmp_path / "comparison.md").exists()
    code, _, err = await run_cli("simulate", "--profile", str(tmp_path / "none.toml"))
    assert code == 2 and "cannot read" in err and "Traceback" not in err
    code, out, err = await run_cli("simulate", "--profile", str(ROOT / "examples" / "hari-sepi.toml"),
                                   "--service", "A", "--counters", "4", "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert answer["counters"]["what_if"]["counters"] == 4 and answer["counters"]["now"]["counters"] == 3


def test_percentile_is_linear_between_ranks():
    assert percentile([], 50) is None
    assert percentile([5.0], 90) == 5.0
    assert percentile([0, 10, 20, 30], 50) == 15
    assert percentile([0, 10, 20, 30], 90) == pytest.approx(27)


async def test_the_command_simulates_the_hall_kept_in_a_database(runtime_factory, db_at, tmp_path):
    # The hall in the database has one service on one counter; the profile names it and one more.
    await runtime_factory(hall(counters=1))
    db = str(db_at("q0"))  # the runtime's database (on PostgreSQL its hall's URL)
    prof = tmp_path / "pagi.toml"
    prof.write_text('''
[profile]
name = "pagi"
[service_default]
arrivals_at = ["08:00", "08:01"]
service_time = { law = "fixed", mean_minutes = 5 }
[services.ZZ]
arrivals_at = ["08:00"]
[counter_default]
open = "08:00"
close = "09:00"
''')
    code, out, err = await run_cli("simulate", "--db", db, "--profile", str(prof), "--out", str(tmp_path / "o"))
    assert code == 0, err
    assert "warning: profile names service ZZ, which this hall does not have: left out" in out
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["tickets"] == 2 and summary["wait_p90_s"] == 216  # waits 0 and 240 s
