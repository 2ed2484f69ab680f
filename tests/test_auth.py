"""Every staff route refuses anonymous callers and wrong roles; logins are throttled."""

from __future__ import annotations

import re

from kiosk.staff.auth import SESSION_SECONDS
from kiosk.storage import Queries
from kiosk.web.appkeys import QUEUE, STORE
from tests.conftest import PASSWORD, login, take

# Routes anybody may use. A new route is staff-only unless it is added here on purpose.
PUBLIC = {
    ("GET", "/"), ("GET", "/api/health"), ("GET", "/api/hall"), ("GET", "/api/services"),
    ("POST", "/api/tickets"), ("GET", "/api/tickets/{token}"), ("DELETE", "/api/tickets/{token}"),
    ("GET", "/api/events"), ("POST", "/api/login"), ("GET", "/t/{token}"), ("GET", "/static/"), ("GET", "/favicon.ico"),
    ("GET", "/display"), ("GET", "/display/{zone}"), ("GET", "/display-events"), ("GET", "/display-audio/{key}.wav"),
    ("GET", "/display-audio/chime.wav"), ("GET", "/api/display/ticker"), ("GET", "/display-static/"),
    ("POST", "/api/tickets/{token}/phone"),  # the token is the citizen's key
    ("GET", "/api/tickets/{token}/events"),  # the status page's own stream
    ("GET", "/kiosk"), ("GET", "/t/{token}/qr.svg"), ("GET", "/t/{token}/telegram.svg"),
    ("POST", "/telegram/webhook"),  # Telegram's secret-token header (tests/test_telegram.py)
    ("GET", "/api/kiosk/search"), ("GET", "/loket/{id}"), ("GET", "/api/display/counters/{id}"),  # no citizen data
    ("GET", "/display-media/{name}"),  # the displays' playlist
    # Providers' webhooks, each checked by its own signature or secret (tests/test_whatsapp.py, test_replies.py)
    ("GET", "/whatsapp/webhook"), ("POST", "/whatsapp/webhook"), ("POST", "/whatsapp/webhook/{secret}"),
    ("POST", "/sms/webhook"),
    # The online queue (docs/booking.md): citizens' routes; making, cancelling and taking need the
    # X-Identity of a phone confirmed by SMS code (tests/test_booking_api.py), not a staff login.
    ("POST", "/api/verify"), ("POST", "/api/verify/{verification}"), ("GET", "/api/online/services"),
    ("GET", "/api/services/{code}/slots"), ("POST", "/api/bookings"), ("GET", "/api/bookings/{code}"),
    ("DELETE", "/api/bookings/{code}"), ("POST", "/api/bookings/{code}/check-in"), ("POST", "/api/remote-tickets"),
    ("GET", "/ambil"), ("GET", "/booking/{code}"), ("GET", "/booking/{code}/qr.svg"),
    # The satisfaction survey: answered by the ticket's token, or at the counter tablet only for the
    # ticket that counter has just served (tests/test_survey_api.py); the tablet shows no token.
    ("POST", "/api/surveys"), ("GET", "/api/surveys/counter/{id}"), ("GET", "/survei"),
}
SUPERVISORS_ONLY = {("GET", "/api/audit"), ("GET", "/api/admin/hall"), ("PUT", "/api/admin/{section}/{key}"),
                    ("GET", "/api/reports/summary"), ("GET", "/api/reports/summary.csv"),
                    ("GET", "/api/reports/summary.xlsx"), ("GET", "/api/reports/workbook.xlsx"),
                    ("GET", "/api/reports/sla"), ("GET", "/api/reports/ikm"), ("GET", "/api/reports/ikm.csv"),
                    ("GET", "/api/reports/ikm.xlsx"), ("GET", "/api/reports/ikm/comments"),
                    ("GET", "/api/reports/ikm/comments.csv")}
ADMINS_ONLY = {("GET", "/api/users"), ("POST", "/api/users"), ("POST", "/api/users/{name}/password"),
               ("POST", "/api/users/{name}/disable"), ("POST", "/api/users/{name}/enable"),
               ("POST", "/api/admin/{section}"), ("PUT", "/api/admin/{section}"),
               ("DELETE", "/api/admin/{section}/{key}")}
# Staff pages: anonymous visitors are sent to the login page; the login form itself is public.
PAGES = {("GET", "/staff"), ("GET", "/staff/counter/{id}"), ("GET", "/staff/supervisor"), ("GET", "/staff/audit"),
         ("POST", "/staff/logout"), ("GET", "/admin"), ("GET", "/admin/{section}"), ("GET", "/admin/{section}/new"),
         ("GET", "/admin/{section}/{key}"), ("POST", "/admin/{section}"), ("POST", "/admin/{section}/{key}"),
         ("POST", "/admin/{section}/{key}/delete"), ("GET", "/laporan"), ("GET", "/laporan/ikm"), ("GET", "/kabupaten"), ("GET", "/admin/simulasi"),
         ("POST", "/admin/simulasi"), ("GET", "/admin/tayangan"), ("POST", "/admin/tayangan"),
         ("POST", "/admin/tayangan/{name}/{action}")}
MANAGER_PAGES = {p for p in PAGES if p[1].startswith("/admin")} | {("GET", "/staff/supervisor"),
                                                                   ("GET", "/staff/audit"), ("GET", "/laporan"),
                                                                   ("GET", "/laporan/ikm")}
PUBLIC |= {("GET", "/staff/login"), ("POST", "/staff/login")}


def _routes(app):
    for route in app.router.routes():
        if route.method == "HEAD":
            continue
        info = route.resource.get_info()
        path = info.get("formatter") or info.get("path") or info.get("prefix") + "/"
        yield route.method, path


def _concrete(path: str, token: str) -> str:
    return (path.replace("{id}", "1").replace("{token}", token).replace("{name}", "siti")
            .replace("{section}", "services").replace("{key}", "A").replace("{action}", "hapus"))


async def test_every_staff_route_needs_a_login(client):
    ticket = await take(client, "A")
    for method, path in PAGES:
        resp = await client.request(method, _concrete(path, ticket["token"]), allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"] == "/staff/login", path
    staff_routes = [r for r in _routes(client.server.app) if r not in PUBLIC | PAGES]
    assert ("GET", "/api/printers") in staff_routes and ("POST", "/api/tickets/{token}/reprint") in staff_routes
    assert len(staff_routes) >= 14, staff_routes
    for method, path in staff_routes:
        url = _concrete(path, ticket["token"])
        for headers in ({}, {"Authorization": "Bearer not-a-session"}, {"Authorization": "Basic YTpi"}):
            resp = await client.request(method, url, headers=headers, json={"service": "B"})
            body = await resp.json()
            assert resp.status == 401, (method, path, headers)
            assert body["error"]["code"] == "unauthorized"
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await (await client.get("/api/tickets/" + ticket["token"])).json())["state"] == "waiting", \
        "refused calls changed nothing"


async def test_officers_work_only_their_counters(client):
    officer = await login(client, "siti", "officer", ("2",))
    await take(client, "A")
    counter_routes = [(m, p) for m, p in _routes(client.server.app) if p.startswith("/api/counters/{id}/")
                      and m == "POST"]
    assert len(counter_routes) == 9
    for method, path in counter_routes:
        resp = await client.request(method, path.replace("{id}", "1"), headers=officer, json={"service": "B"})
        assert resp.status == 403, path
        assert (await resp.json())["error"]["code"] == "forbidden_counter"
    for method, path in SUPERVISORS_ONLY:
        resp = await client.request(method, _concrete(path, "x"), headers=officer, json={"daily_quota": 1})
        assert resp.status == 403 and (await resp.json())["error"]["code"] == "forbidden", path
    resp = await client.post("/api/counters/2/next", headers=officer)
    assert resp.status == 200, "their own counter works"
    ticket = (await resp.json())["ticket"]
    await client.post("/api/counters/2/no-show", headers=officer)
    stranger = await login(client, "joko", "officer", ("3",))  # counter 3 serves only P
    resp = await client.post(f"/api/tickets/{ticket['token']}/requeue", headers=stranger)
    assert resp.status == 403


async def test_officers_never_reach_the_manager_pages(client):
    await login(client, "siti", "officer", ("1",))
    form = (await client.get("/staff/login")).cookies["giliran_login_csrf"].value
    await client.post("/staff/login", data={"username": "siti", "password": PASSWORD, "csrf": form})
    assert (await client.get("/staff")).status == 200
    for method, path in MANAGER_PAGES:
        resp = await client.request(method, _concrete(path, "x"), data={"daily_quota": "1"}, allow_redirects=False)
        assert resp.status == 403, (method, path)
    assert client.server.app[QUEUE].config.service("A").daily_quota == 5


async def test_only_admins_manage_users(client):
    for name, role in (("siti", "officer"), ("sri", "supervisor")):
        headers = await login(client, name, role, ("1",) if role == "officer" else ())
        for method, path in ADMINS_ONLY:
            resp = await client.request(method, _concrete(path, "x"), headers=headers,
                                        json={"username": "baru", "password": "rahasia-baru", "role": "officer"})
            assert resp.status == 403, (role, path)
    admin = await login(client, "adi", "admin")
    resp = await client.post("/api/users", headers=admin,
                             json={"username": "joko", "password": "rahasia-joko", "role": "officer",
                                   "counters": ["2"]})
    assert resp.status == 201
    joko = await client.post("/api/login", json={"username": "joko", "password": "rahasia-joko"})
    joko_headers = {"Authorization": f"Bearer {(await joko.json())['token']}"}
    assert (await client.get("/api/me", headers=joko_headers)).status == 200
    resp = await client.post("/api/users/joko/disable", headers=admin)
    assert resp.status == 200
    assert (await client.get("/api/me", headers=joko_headers)).status == 401, "a disabled user's sessions end"
    assert (await client.post("/api/login", json={"username": "joko", "password": "rahasia-joko"})).status == 401
    await client.post("/api/users/joko/enable", headers=admin)
    resp = await client.post("/api/users/joko/password", headers=admin, json={"password": "sandi-baru-joko"})
    assert resp.status == 200
    assert (await client.post("/api/login", json={"username": "joko", "password": "sandi-baru-joko"})).status == 200
    resp = await client.post("/api/users/adi/disable", headers=admin)
    assert resp.status == 422 and (await resp.json())["error"]["code"] == "self_disable"
    users = await (await client.get("/api/users", headers=admin)).json()
    assert {u["username"] for u in users} >= {"joko", "adi"} and "password_hash" not in str(users)
    entries = await (await client.get("/api/audit?username=adi", headers=admin)).json()
    assert {e["action"] for e in entries} >= {"add_user", "disable", "enable", "reset_password"}
    assert all(e["username"] == "adi" for e in entries)


async def test_supervisors_and_admins_work_every_counter(client):
    await take(client, "A")
    await take(client, "A")
    for name, role in (("sri", "supervisor"), ("adi", "admin")):
        headers = await login(client, name, role)
        resp = await client.post("/api/counters/7/next", headers=headers)
        assert resp.status == 200, role
        assert (await client.get("/api/audit", headers=headers)).status == 200


async def test_login_failures_and_throttling(client):
    await login(client, "siti", "officer", ("1",))
    resp = await client.post("/api/login", json={"username": "siti", "password": "salah-sekali"})
    body = await resp.json()
    assert resp.status == 401 and body["error"]["code"] == "invalid_credentials"
    assert "salah" in body["error"]["message"]
    resp = await client.post("/api/login", json={"username": "nobody", "password": "whatever1"})
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "invalid_credentials"
    statuses = []
    for _ in range(10):
        resp = await client.post("/api/login", json={"username": "siti", "password": "tebak-tebak"})
        statuses.append(resp.status)
    assert statuses[:3] == [401, 401, 401] and set(statuses[4:]) == {429}, statuses
    resp = await client.post("/api/login", json={"username": "siti", "password": PASSWORD})
    assert resp.status == 429, "even the right password waits out the lock"
    assert (await resp.json())["error"]["code"] == "too_many_attempts" and int(resp.headers["Retry-After"]) > 0


async def test_throttle_lifts_after_the_window(client, clock):
    await login(client, "siti", "officer", ("1",))
    for _ in range(6):
        await client.post("/api/login", json={"username": "siti", "password": "tebak-tebak"})
    clock.advance(61)  # 5 failures per 300 s: one more try every 60 s
    resp = await client.post("/api/login", json={"username": "siti", "password": PASSWORD})
    assert resp.status == 200


async def test_sessions_expire_and_log_out(client, clock):
    headers = await login(client, "siti", "officer", ("1",))
    assert (await client.get("/api/me", headers=headers)).status == 200
    resp = await client.post("/api/logout", headers=headers)
    assert resp.status == 200
    assert (await client.get("/api/me", headers=headers)).status == 401
    resp = await client.post("/api/login", json={"username": "siti", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {(await resp.json())['token']}"}
    clock.advance(SESSION_SECONDS + 1)
    assert (await client.get("/api/me", headers=headers)).status == 401


async def test_passwords_and_tokens_are_stored_hashed(client):
    headers = await login(client, "siti", "officer", ("1",))
    q: Queries = client.server.app[STORE].reads
    user = await q.user_by_name("SITI")
    assert user is not None and user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    token = headers["Authorization"].split()[1]
    async with q.conn.execute("SELECT token_hash FROM sessions") as cur:
        stored = [row[0] for row in await cur.fetchall()]
    assert token not in stored and all(re.fullmatch(r"[0-9a-f]{64}", s) for s in stored)


async def test_bad_new_accounts_are_refused(client):
    from kiosk.queue.errors import Unprocessable
    from kiosk.web.appkeys import AUTH, QUEUE
    app = client.server.app
    for args, code in ((("a b", "rahasia-123", "officer", ()), "invalid_username"),
                       (("siti", "pendek", "officer", ()), "weak_password"),
                       (("siti", "rahasia-123", "boss", ()), "invalid_role"),
                       (("siti", "rahasia-123", "officer", ("99",)), "unknown_counter"),
                       (("\u0430dmin", "rahasia-123", "admin", ()), "invalid_username"),  # Cyrillic a
                       (("siti", "rahasia-123", "officer", ()), "counters_needed")):
        try:
            await app[AUTH].add_user(*args, app[QUEUE].config)
        except Unprocessable as exc:
            assert exc.code == code
        else:
            raise AssertionError(f"{args} was accepted")
