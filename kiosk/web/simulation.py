"""Admins: the capacity what-if (/admin/simulasi). With a day's profile, how long would citizens of
a service wait with N counters on it, and how many counters does it need per hour to keep the 90th
percentile wait under a target? The day is simulated through the real queue by `giliran simulate`
in a process of its own (seconds of CPU that must not slow the hall's server), on a copy of the
hall in use; one simulation runs at a time."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from kiosk.hall.config import HallConfig
from kiosk.queue.errors import Conflict, Forbidden, Unavailable
from kiosk.queue.models import User
from kiosk.sim.charts import bar_chart, line_chart
from kiosk.sim.profile import Profile, ProfileError, load_profile
from kiosk.sim.whatif import MAX_COUNTERS
from kiosk.web.appkeys import QUEUE
from kiosk.web.http import SESSION_COOKIE, csrf_for
from kiosk.web.pages import render
from kiosk.web.staff_pages import logged_in

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
PROFILES = Path(__file__).resolve().parent.parent / "sim" / "profiles"
TIMEOUT_S = 300.0
RUNNING = web.AppKey("simulation_running", asyncio.Lock)


def setup_simulation(app: web.Application) -> None:
    """The what-if page's routes (before the admin's /admin/{section}) and its one-at-a-time lock."""
    app[RUNNING] = asyncio.Lock()
    app.add_routes(routes)


def profiles() -> dict[str, Profile]:
    """The day profiles admins can choose (shipped with Giliran), by file name."""
    found = {}
    for path in sorted(PROFILES.glob("*.toml")):
        try:
            found[path.stem] = load_profile(path)
        except ProfileError:
            log.exception("profile %s cannot be used", path)
    return found


async def _admin(request: web.Request) -> User:
    user = await logged_in(request)
    if user.role != "admin":
        raise Forbidden("Simulasi kapasitas hanya untuk admin.", code="admin_only")
    return user


def _page(request: web.Request, user: User, values: dict[str, str], status: int = 200, **context: Any
          ) -> web.Response:
    config = request.app[QUEUE].config
    html = render("admin_simulation.html", hall=config.hall, user=user, csrf=csrf_for(request.cookies[SESSION_COOKIE]),
                  profiles=profiles(), services=config.services, values=values, max_counters=MAX_COUNTERS,
                  **context)
    return web.Response(text=html, content_type="text/html", status=status)


@routes.get("/admin/simulasi")
async def simulation_page(request: web.Request) -> web.StreamResponse:
    """Admin: the what-if form."""
    user = await _admin(request)
    config = request.app[QUEUE].config
    first = config.services[0] if config.services else None
    values = {"profile": next(iter(profiles()), ""), "service": first.code if first else "",
              "counters": str(len(config.counters_for(first.code)) + 1) if first else "1", "target": "30", "seed": "1"}
    return _page(request, user, values)


def _checked(form: dict[str, str], config: HallConfig, choices: dict[str, Profile]) -> tuple[str, str, int, float, int]:
    """The form's values, or ValueError with the Indonesian reason."""
    if form.get("profile") not in choices:
        raise ValueError("Pilih profil hari dari daftar.")
    if config.service(form.get("service", "")) is None:
        raise ValueError("Pilih layanan dari daftar.")
    try:
        counters = int(form.get("counters", ""))
        if not 0 <= counters <= MAX_COUNTERS:
            raise ValueError
    except ValueError:
        raise ValueError(f"Jumlah loket harus bilangan bulat 0 sampai {MAX_COUNTERS}.") from None
    try:
        target = float(form.get("target", "").replace(",", "."))
        if not 1 <= target <= 600:
            raise ValueError
    except ValueError:
        raise ValueError("Target waktu tunggu harus angka 1 sampai 600 menit.") from None
    try:
        seed = int(form.get("seed", ""))
        if not 1 <= seed <= 1000:
            raise ValueError
    except ValueError:
        raise ValueError("Benih acak harus bilangan bulat 1 sampai 1000.") from None
    return form["profile"], form["service"], counters, target, seed


@routes.post("/admin/simulasi")
async def simulation_run(request: web.Request) -> web.StreamResponse:
    """Admin: run the what-if and show its answer as charts and tables."""
    user = await _admin(request)
    posted = await request.post()
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token or not hmac.compare_digest(str(posted.get("csrf", "")), csrf_for(token)):
        raise Forbidden("Formulir kedaluwarsa (token CSRF tidak cocok). Muat ulang halaman.", code="csrf_failed")
    form = {k: str(posted.get(k, "")).strip() for k in ("profile", "service", "counters", "target", "seed")}
    config, choices = request.app[QUEUE].config, profiles()
    try:
        profile, service, counters, target, seed = _checked(form, config, choices)
    except ValueError as exc:
        return _page(request, user, form, status=422, message=str(exc))
    lock = request.app[RUNNING]
    if lock.locked():
        raise Conflict("Simulasi lain sedang berjalan; coba lagi sebentar lagi.", code="simulation_running")
    async with lock:
        answer = await _simulate(config, PROFILES / f"{profile}.toml", service, counters, target, seed)
    return _page(request, user, form, answer=answer, charts=_charts(answer), profile=choices[profile])


async def _simulate(config: HallConfig, profile: Path, service: str, counters: int, target: float,
                    seed: int) -> dict[str, Any]:
    """`giliran simulate` in its own process on a copy of the hall in use; its JSON answer."""
    with tempfile.TemporaryDirectory(prefix="giliran-whatif-") as folder:
        hall = Path(folder) / "hall.json"
        await asyncio.to_thread(hall.write_text, json.dumps(config.raw, ensure_ascii=False), "utf-8")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "kiosk", "simulate", "--config", str(hall), "--profile", str(profile),
            "--service", service, "--counters", str(counters), "--target-p90", f"{target:g}", "--seed", str(seed),
            "--json", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            async with asyncio.timeout(TIMEOUT_S):
                out, err = await proc.communicate()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise Unavailable("Simulasi terlalu lama dan dihentikan; coba profil atau layanan lain.") from None
    if proc.returncode != 0:
        log.error("what-if simulation failed (%s): %s", proc.returncode, err.decode(errors="replace")[-2000:])
        raise Unavailable("Simulasi gagal dijalankan; lihat log server.")
    answer: dict[str, Any] = json.loads(out)
    return answer


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _charts(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The answer's charts, each with the rows of its table."""
    out = []
    counters = answer["counters"]
    hours = sorted(counters["hours"], key=int)
    labels = [f"{int(h):02d}" for h in hours]
    now = [_minutes(counters["hours"][h].get("now")) for h in hours]
    then = [_minutes(counters["hours"][h].get("what_if")) for h in hours]
    title = "Waktu tunggu P90 per jam datang"
    out.append({"title": title, "chart": line_chart(
        title, f"Persentil ke-90 waktu tunggu (menit) dengan {counters['now']['counters']} loket seperti sekarang dan "
        f"dengan {counters['what_if']['counters']} loket", labels,
        [(f"sekarang ({counters['now']['counters']} loket)", now),
         (f"dengan {counters['what_if']['counters']} loket", then)], " mnt"),
        "head": ("Jam", "Sekarang (mnt)", f"Dengan {counters['what_if']['counters']} loket (mnt)"),
        "rows": list(zip(labels, now, then, strict=True))})
    staffing = answer["staffing"]
    rows = staffing["hours"]
    title = "Loket yang dibutuhkan per jam"
    out.append({"title": title, "chart": bar_chart(
        title, f"Loket untuk menjaga waktu tunggu P90 di bawah {_minutes(staffing['target_p90_s'])} menit",
        [f"{r['hour']:02d}" for r in rows], [("loket", [r["counters"] for r in rows])]),
        "head": ("Jam", "Kedatangan", "Loket dibutuhkan", "Erlang C", "P90 tersimulasi (mnt)"),
        "rows": [(f"{r['hour']:02d}", r["arrivals"], r["counters"], r["erlang"], _minutes(r["wait_p90_s"]))
                 for r in rows]})
    return out
