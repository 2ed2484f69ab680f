"""The survey over HTTP: the ticket view's `survey`, answering by token (201, 409 survey_answered,
409 survey_closed, 422 invalid_survey storing nothing), a double submit storing one response, the
counter tablet answering only for the ticket its counter has just served, and the IKM report
(who may read it, agency scope, the exact figures, CSV and XLSX)."""

from __future__ import annotations

import asyncio
import csv
import io

from openpyxl import load_workbook

from kiosk.hall.survey import CODES
from kiosk.web.appkeys import AUTH, QUEUE, STORE
from tests.conftest import PASSWORD, login, take, wib


def answers(*values: int) -> dict[str, int]:
    return dict(zip(CODES, values, strict=True))


GOOD = answers(4, 4, 3, 4, 3, 4, 4, 3, 3)


async def serve(client, officer, counter: str = "1", service: str = "A") -> dict:
    """Take a ticket and serve it to the end at a counter; returns the ticket."""
    ticket = await take(client, service)
    for action in ("next", "start", "finish"):
        resp = await client.post(f"/api/counters/{counter}/{action}", headers=officer)
        assert resp.status == 200, await resp.text()
    return ticket


async def count_responses(client) -> int:
    rows = await client.server.app[STORE].reads._all("SELECT COUNT(*) FROM survey_responses")
    return int(rows[0][0])


async def post(client, body):
    resp = await client.post("/api/surveys", json=body)
    return resp.status, await resp.json()


async def test_answer_by_token_once_and_only_when_served(client, clock):
    officer = await login(client, "siti", "officer", ("1", "2", "3"))
    waiting = await take(client, "A")
    assert waiting["survey"] == {"state": "none", "url": None}
    status, body = await post(client, {"token": waiting["token"], "answers": GOOD})
    assert (status, body["error"]["code"]) == (409, "survey_closed")
    await client.post("/api/counters/1/next", headers=officer)
    await client.post("/api/counters/1/start", headers=officer)
    await client.post("/api/counters/1/finish", headers=officer)
    view = await (await client.get(f"/api/tickets/{waiting['token']}")).json()
    assert view["survey"] == {"state": "open", "url": f"http://hall.test/t/{waiting['token']}#survei"}

    bad = [({"answers": {**GOOD, "U1": 5}}, "U1"), ({"answers": {**GOOD, "U3": 0}}, "U3"),
           ({"answers": {k: v for k, v in GOOD.items() if k != "U9"}}, "U9"),
           ({"answers": {**GOOD, "U10": 4}}, "U10"), ({"answers": {**GOOD, "U2": True}}, "U2"),
           ({"answers": {**GOOD, "U4": "4"}}, "U4"), ({"answers": [4] * 9}, "U1"),
           ({"answers": GOOD, "respondent": {"gender": "X"}}, "Jenis kelamin"),
           ({"answers": GOOD, "respondent": {"age": 7}}, "Usia"),
           ({"answers": GOOD, "comment": "x" * 1001}, "1000")]
    for extra, named in bad:
        status, body = await post(client, {"token": waiting["token"], **extra})
        assert (status, body["error"]["code"]) == (422, "invalid_survey"), extra
        assert named in body["error"]["message"]
    assert await count_responses(client) == 0

    status, body = await post(client, {"token": waiting["token"], "answers": GOOD, "comment": "Ruang tunggu panas",
                                       "respondent": {"gender": "P", "age": 67, "education": "SMA"}})
    assert (status, body) == (201, {"state": "answered", "number": "A001"})
    status, body = await post(client, {"token": waiting["token"], "answers": answers(*[1] * 9)})
    assert (status, body["error"]["code"]) == (409, "survey_answered")
    view = await (await client.get(f"/api/tickets/{waiting['token']}")).json()
    assert view["survey"]["state"] == "answered"
    assert await count_responses(client) == 1
    status, body = await post(client, {"token": "no-such-token", "answers": GOOD})
    assert (status, body["error"]["code"]) == (404, "unknown_ticket")


async def test_double_submit_stores_one(client, clock):
    officer = await login(client, "siti", "officer", ("1",))
    ticket = await serve(client, officer)
    results = await asyncio.gather(*[post(client, {"token": ticket["token"], "answers": GOOD}) for _ in range(5)])
    assert sorted(s for s, _ in results) == [201, 409, 409, 409, 409]
    assert await count_responses(client) == 1


async def test_window_closes_at_the_end_of_the_day(client, clock):
    officer = await login(client, "siti", "officer", ("1",))
    clock.set(wib(2026, 11, 25, 15, 0))
    ticket = await serve(client, officer)
    clock.set(wib(2026, 11, 25, 23, 59, 59))
    view = await (await client.get(f"/api/tickets/{ticket['token']}")).json()
    assert view["survey"]["state"] == "open"
    clock.set(wib(2026, 11, 26, 0, 0, 0))
    view = await (await client.get(f"/api/tickets/{ticket['token']}")).json()
    assert view["survey"]["state"] == "closed"
    status, body = await post(client, {"token": ticket["token"], "answers": GOOD})
    assert (status, body["error"]["code"]) == (409, "survey_closed")


async def test_open_minutes_from_the_hall(client_for, clock):
    client = await client_for(survey={"open_minutes": 30})
    officer = await login(client, "siti", "officer", ("1",))
    ticket = await serve(client, officer)
    clock.advance(30 * 60 - 1)
    assert (await (await client.get(f"/api/tickets/{ticket['token']}")).json())["survey"]["state"] == "open"
    clock.advance(1)
    status, body = await post(client, {"token": ticket["token"], "answers": GOOD})
    assert (status, body["error"]["code"]) == (409, "survey_closed")


async def test_counter_tablet_only_for_the_ticket_just_served(client, clock):
    officer = await login(client, "siti", "officer", ("1", "2"))
    assert (await (await client.get("/api/surveys/counter/1")).json())["survey"] is None
    first = await serve(client, officer, "1")
    shown = (await (await client.get("/api/surveys/counter/1")).json())["survey"]
    assert shown["number"] == first["number"] and "token" not in shown
    assert (await (await client.get("/api/surveys/counter/2")).json())["survey"] is None  # not another counter's
    assert (await client.get("/api/surveys/counter/99")).status == 404
    status, body = await post(client, {"counter": "2", "number": first["number"], "answers": GOOD})
    assert (status, body["error"]["code"]) == (409, "survey_closed")
    second = await serve(client, officer, "1")  # the counter served the next citizen meanwhile
    status, body = await post(client, {"counter": "1", "number": first["number"], "answers": GOOD})
    assert (status, body["error"]["code"]) == (409, "survey_closed")
    status, body = await post(client, {"counter": "1", "number": second["number"], "answers": GOOD})
    assert (status, body["number"]) == (201, second["number"])
    assert (await (await client.get("/api/surveys/counter/1")).json())["survey"] is None  # answered: idle
    third = await serve(client, officer, "1")
    clock.advance(181)  # [survey] tablet_seconds = 180
    assert (await (await client.get("/api/surveys/counter/1")).json())["survey"] is None
    status, body = await post(client, {"counter": "1", "number": third["number"], "answers": GOOD})
    assert (status, body["error"]["code"]) == (409, "survey_closed")
    # the first citizen can still answer on their own ticket page
    status, _ = await post(client, {"token": first["token"], "answers": GOOD})
    assert status == 201


async def test_ikm_report_figures_scope_and_files(client, clock):
    """Counter 1 (siti) serves A001 and A002, counter 3 (budi) serves P001 (IMIGRASI). Answers:
    A001 all 4, A002 (4,4,3,4,3,4,4,3,3) -> service A: NRR U1 4, U3 3.5, U5 3.5, U8 3.5, U9 3.5,
    others 4; sum 34 -> IKM 34/9 x 25 = 94.444.. -> 94.44 A. P001 all 2 -> 50.00 D.
    Total: U1, U2, U4, U6, U7 (4+4+2)/3 = 3.333..; U3, U5, U8, U9 (4+3+2)/3 = 3; sum of NRR
    5 x 10/3 + 4 x 3 = 28.666.. -> 28.666../9 x 25 = 79.629.. -> 79.63 B."""
    siti = await login(client, "siti", "officer", ("1",))
    budi = await login(client, "budi", "officer", ("3",))
    a1 = await serve(client, siti, "1")
    a2 = await serve(client, siti, "1")
    p1 = await serve(client, budi, "3", "P")
    await serve(client, siti, "1")  # served, never answered
    for ticket, values in ((a1, answers(*[4] * 9)), (a2, GOOD), (p1, answers(*[2] * 9))):
        status, _ = await post(client, {"token": ticket["token"], "answers": values,
                                        "comment": f"saran {ticket['number']}"})
        assert status == 201
    assert (await client.get("/api/reports/ikm")).status == 401
    assert (await client.get("/api/reports/ikm", headers=siti)).status == 403
    boss = await login(client, "sri", "supervisor")
    body = await (await client.get("/api/reports/ikm?from=2026-11-25&to=2026-11-25&by=service", headers=boss)).json()
    rows = {r["key"]: r for r in body["rows"]}
    assert (rows["A"]["responses"], rows["A"]["served"], rows["A"]["ikm"], rows["A"]["grade"], rows["A"]["mutu"]) \
        == (2, 3, 94.44, "A", "Sangat Baik")
    assert rows["A"]["nrr"]["U3"] == 3.5 and rows["A"]["response_rate_pct"] == 66.7
    assert rows["A"]["sample_required"] == 3 and rows["A"]["sample_enough"] is False
    assert (rows["P"]["ikm"], rows["P"]["grade"], rows["P"]["mutu"]) == (50.0, "D", "Tidak Baik")
    total = body["total"]
    assert (total["responses"], total["served"], total["ikm"], total["grade"]) == (3, 4, 79.63, "B")
    assert total["nrr"]["U1"] == 3.33
    assert body["distribution"][0]["counts"] == [0, 1, 0, 2]
    officers = await (await client.get("/api/reports/ikm?by=officer", headers=boss)).json()
    assert [(r["key"], r["ikm"]) for r in officers["rows"]] == [("budi", 50.0), ("siti", 94.44)]
    months = await (await client.get("/api/reports/ikm?by=month", headers=boss)).json()
    assert [(r["label"], r["ikm"]) for r in months["rows"]] == [("November 2026", 79.63)]
    bad = await client.get("/api/reports/ikm?by=day", headers=boss)
    assert (bad.status, (await bad.json())["error"]["code"]) == (422, "invalid_grouping")

    app = client.server.app
    await app[AUTH].add_user("ani", PASSWORD, "supervisor", (), app[QUEUE].config, ["IMIGRASI"])
    resp = await client.post("/api/login", json={"username": "ani", "password": PASSWORD})
    limited = {"Authorization": f"Bearer {(await resp.json())['token']}"}
    body = await (await client.get("/api/reports/ikm?by=service", headers=limited)).json()
    assert [r["key"] for r in body["rows"]] == ["P"] and body["total"]["ikm"] == 50.0
    notes = await (await client.get("/api/reports/ikm/comments", headers=limited)).json()
    assert notes["comments"] == [{"day": "2026-11-25", "service": "P", "service_name": "Paspor",
                                  "comment": "saran P001"}]

    resp = await client.get("/api/reports/ikm.csv?by=service", headers=boss)
    text = (await resp.read()).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:3] == ["Layanan", "Kode", "Responden"] and "IKM" in table[0]
    assert table[1][0] == "KTP Elektronik" and table[1][table[0].index("IKM")] == "94.44"
    resp = await client.get("/api/reports/ikm.xlsx?by=service", headers=boss)
    book = load_workbook(io.BytesIO(await resp.read()))
    assert book.sheetnames == ["IKM unit", "IKM per layanan", "Profil responden", "Saran"]
    profile = [[c.value for c in row] for row in book["Profil responden"].iter_rows(min_row=5)]
    assert ["Jenis kelamin", "Tidak diisi", 3] in profile and ["Usia", "Tidak diisi", 3] in profile
    sheet = book["IKM unit"]
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert ["U1", "Persyaratan", 10, 3, 3.33, 0.37] in cells
    assert any(isinstance(r[0], str) and r[0].startswith("IKM unit pelayanan") and "79,63" in r[0] for r in cells)
    assert [c.value for c in book["Saran"][5]][2].startswith("saran")


async def test_officer_sees_own_aggregate_only_from_ten(client, clock):
    siti = await login(client, "siti", "officer", ("1",))
    for i in range(10):
        ticket = await serve(client, siti, "1", "B")
        mine = await (await client.get("/api/surveys/mine", headers=siti)).json()
        assert mine["ikm"] is None and mine["responses"] == i
        await post(client, {"token": ticket["token"], "answers": answers(*[3] * 9)})
    mine = await (await client.get("/api/surveys/mine", headers=siti)).json()
    assert (mine["responses"], mine["ikm"], mine["grade"]) == (10, 75.0, "C")


async def test_admins_change_the_survey_times_not_the_arithmetic(client, admin):
    """The admin form's [survey] section: open time, tablet time, complaint channel; checked like
    every hall section, in Indonesian; the wording set in the hall file is kept."""
    resp = await client.put("/api/admin/survey", headers=admin, json={"open_minutes": 60, "complaints": "Meja 1"})
    assert resp.status == 200, await resp.text()
    config = client.server.app[QUEUE].config
    assert (config.survey.open_minutes, config.survey.complaints) == (60, "Meja 1")
    resp = await client.put("/api/admin/survey", headers=admin, json={"tablet_seconds": 5})
    body = await resp.json()
    assert resp.status == 422 and "Survei kepuasan" in body["error"]["message"], body
    assert "harus antara 30 dan 1800" in body["error"]["message"]
    resp = await client.put("/api/admin/survey", headers=admin, json={"weights": "1"})
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "unknown_field"
