"""Kiosk tickets reach a real TCP 9100 printer stand-in: once, in order, through outages and restarts."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from kiosk.app import create_app
from kiosk.hall.parse import parse_hall
from kiosk.settings import Settings
from printers.web import SPOOL
from tests.conftest import hall_dict, login, take
from tests.escpos_reader import read_escpos
from tests.printer_standin import PrinterStandIn


@pytest.fixture
async def printer():
    standin = PrinterStandIn()
    await standin.start()
    yield standin
    await standin.stop()


def printing_hall(port: int, tmp_path, **printer_extra) -> dict:
    return hall_dict(
        printers=[{"id": "P1", "driver": "network", "host": "127.0.0.1", "port": port, "profile": "TM-T88V",
                   "timeout_s": 2, "confirm_wait_s": 2, "retry_max_s": 1, **printer_extra},
                  {"id": "P2", "driver": "preview", "profile": "POS-5890", "directory": "prints"}],
        kiosks=[{"id": "K1", "name": "Kios Lobi", "printer": "P1"},
                {"id": "K2", "name": "Kios Lantai 2", "printer": "P2"},
                {"id": "K3", "name": "Kios tanpa printer"}],
    )


@pytest.fixture
def make_client(aiohttp_client, tmp_path, clock, db_at):
    async def make(port: int, db: str = "print.sqlite3", **printer_extra):
        config = parse_hall(printing_hall(port, tmp_path, **printer_extra))
        app = create_app(Settings(db=db_at(db)), config=config, clock=clock, synchronous="NORMAL")
        return await aiohttp_client(app)
    return make


async def until(condition, timeout: float = 15.0, step: float = 0.05):
    """Wait (bounded) until condition() is true."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(step)


async def test_kiosk_ticket_comes_out_of_its_printer(printer, make_client):
    client = await make_client(printer.port)
    ticket = await take(client, "A", kiosk="K1", priority_reason="lansia")
    assert ticket["print"] == {"printer": "P1", "state": "printed", "message": None, "error": None}
    assert len(printer.printed) == 1
    out = read_escpos(printer.printed[0])
    assert out.qr_codes == [ticket["status_url"]]
    assert out.cuts == 1
    assert ("A001", 4) in out.lines, "the number in the largest size"
    text = out.text
    assert "MPP Uji <b>Coba</b>" in text and "Disdukcapil" in text and "KTP Elektronik" in text
    assert "PRIORITAS: LANSIA" in text and "Rabu, 25 November 2026, 09.00 WIB" in text
    assert "Orang di depan Anda: 0" in text and "Perkiraan waktu tunggu" in text
    assert "Pindai kode QR" in text and "Terima kasih" in text
    assert out.widest() <= 42
    # Tickets without a kiosk printer are not printed.
    assert (await take(client, "A"))["print"] is None
    assert (await take(client, "A", kiosk="K3"))["print"] is None
    assert len(printer.jobs) == 1
    resp = await client.post("/api/tickets", json={"service": "A", "kiosk": "K9"})
    assert resp.status == 422 and (await resp.json())["error"]["code"] == "unknown_kiosk"


async def test_printer_down_then_up_prints_every_ticket_once_in_order(printer, make_client):
    client = await make_client(printer.port)
    await printer.stop()
    queued = []
    for _ in range(4):
        body = await take(client, "B", kiosk="K1")
        assert body["print"]["state"] == "queued" and "Printer bermasalah" in body["print"]["message"]
        queued.append(body["number"])
    headers = await login(client, "sri", "supervisor")
    status = (await (await client.get("/api/printers", headers=headers)).json())
    p1 = next(p for p in status if p["id"] == "P1")
    assert p1["state"] == "offline" and p1["pending"] == 4 and p1["last_error"]
    await printer.start()
    await until(lambda: len(printer.printed) == 4)
    await asyncio.sleep(0.3)
    numbers = [next(t for t, size in read_escpos(d).lines if size == 4) for d in printer.printed]
    assert numbers == queued, "in order, each once"
    assert all("CETAK ULANG" not in read_escpos(d).text for d in printer.printed), \
        "refused connections sent nothing, so nothing is a reprint"
    status = (await (await client.get("/api/printers", headers=headers)).json())
    assert next(p for p in status if p["id"] == "P1")["pending"] == 0


async def test_restart_while_printer_is_down_loses_nothing(printer, make_client):
    await printer.stop()
    client = await make_client(printer.port, db="restart.sqlite3")
    numbers = [(await take(client, "B", kiosk="K1"))["number"] for _ in range(3)]
    await client.close()  # the server stops with three tickets unprinted
    await printer.start()
    client = await make_client(printer.port, db="restart.sqlite3")
    await until(lambda: len(printer.printed) == 3)
    more = await take(client, "B", kiosk="K1")
    assert more["print"]["state"] == "printed"
    printed = [next(t for t, size in read_escpos(d).lines if size == 4) for d in printer.printed]
    assert printed == numbers + [more["number"]]


async def test_paper_out_is_reported_and_printing_resumes(printer, make_client):
    client = await make_client(printer.port)
    printer.paper_out = True
    body = await take(client, "A", kiosk="K1")
    assert body["print"]["state"] == "queued"
    assert printer.printed == [], "nothing is sent to a printer without paper"
    headers = await login(client, "siti", "officer", ("1",))
    p1 = next(p for p in await (await client.get("/api/printers", headers=headers)).json() if p["id"] == "P1")
    assert p1["state"] == "paper_out" and p1["pending"] == 1
    printer.paper_out = False
    await until(lambda: len(printer.printed) == 1)


async def test_a_ticket_cut_mid_print_is_printed_again_as_a_reprint(printer, make_client):
    client = await make_client(printer.port)
    printer.mode = "drop"
    body = await take(client, "A", kiosk="K1")
    assert body["print"]["state"] == "queued"
    printer.mode = "ok"
    await until(lambda: len(printer.printed) == 1)
    out = read_escpos(printer.printed[0])
    assert "*** CETAK ULANG ***" in out.text and ("A001", 4) in out.lines


async def test_a_printer_that_never_answers_does_not_hold_up_the_kiosk(printer, make_client):
    client = await make_client(printer.port, confirm_wait_s=0.5)
    printer.mode = "silent"
    loop = asyncio.get_running_loop()
    started = loop.time()
    body = await take(client, "A", kiosk="K1")
    assert loop.time() - started < 2 and body["print"]["state"] == "queued"
    other = await take(client, "B")  # the rest of the hall goes on
    assert other["number"] == "B001"


async def test_reprint_by_staff(printer, make_client):
    client = await make_client(printer.port)
    ticket = await take(client, "A", kiosk="K1")
    resp = await client.post(f"/api/tickets/{ticket['token']}/reprint")
    assert resp.status == 401
    headers = await login(client, "siti", "officer", ("1",))
    resp = await client.post(f"/api/tickets/{ticket['token']}/reprint", headers=headers)
    assert resp.status == 202
    await until(lambda: len(printer.printed) == 2)
    assert "CETAK ULANG" in read_escpos(printer.printed[1]).text
    phone_ticket = await take(client, "A")
    resp = await client.post(f"/api/tickets/{phone_ticket['token']}/reprint", headers=headers)
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "no_printer"
    resp = await client.post(f"/api/tickets/{phone_ticket['token']}/reprint", headers=headers,
                             json={"printer": "P1"})
    assert resp.status == 202
    await until(lambda: len(printer.printed) == 3)


async def test_58mm_preview_printer_writes_bytes_and_a_png_of_the_paper_width(printer, make_client, tmp_path):
    client = await make_client(printer.port)
    body = await take(client, "B", kiosk="K2")
    assert body["print"]["state"] == "printed"
    prints = tmp_path / "prints"
    (png,) = prints.glob("*-B001.png")
    (raw,) = prints.glob("*-B001.bin")
    image = Image.open(io.BytesIO(png.read_bytes()))
    assert image.width == 384 and image.height > 600
    out = read_escpos(raw.read_bytes())
    assert out.widest() <= 32, "no line wider than a 58 mm printer's 32 columns"
    assert out.images == 1 and out.qr_codes == [], "no native QR on this profile: an image"
    assert out.cuts == 0 and raw.read_bytes().endswith(b"\x1bd\x06"), "no cutter: feed instead"


async def test_printer_health_lists_every_printer(printer, make_client):
    client = await make_client(printer.port)
    headers = await login(client, "siti", "officer", ("1",))
    rows = {p["id"]: p for p in await (await client.get("/api/printers", headers=headers)).json()}
    assert set(rows) == {"P1", "P2"} and rows["P1"]["kiosks"] == ["K1"]
    assert rows["P1"]["state"] in ("unknown", "ok")
    assert client.server.app[SPOOL].workers["P2"].printer.options["directory"].endswith("prints")
    assert (await client.get("/api/printers")).status == 401


async def test_file_driver_writes_through_python_escpos(aiohttp_client, tmp_path, clock, monkeypatch, db_at):
    device = tmp_path / "dev" / "lp0"  # a stand-in for /dev/usb/lp0: a plain file the deployment lists
    device.parent.mkdir()
    device.write_bytes(b"")
    monkeypatch.setenv("GILIRAN_PRINTER_DEVICES", str(device))
    config = parse_hall(hall_dict(
        printers=[{"id": "LP", "driver": "file", "devfile": str(device), "profile": "TM-T20II"}],
        kiosks=[{"id": "K1", "name": "Kios", "printer": "LP"}]))
    client = await aiohttp_client(create_app(Settings(db=db_at("data/file.sqlite3"), var=tmp_path / "data"), config=config,
                                             clock=clock, synchronous="NORMAL"))
    body = await take(client, "A", kiosk="K1")
    assert body["print"]["state"] == "printed"
    out = read_escpos(device.read_bytes())
    assert ("A001", 4) in out.lines and out.qr_codes == [body["status_url"]] and out.cuts == 1
    assert out.widest() <= 48


def test_wrong_printer_entries_are_named():
    from kiosk.hall.config import ConfigError
    bad = [({"id": "P", "driver": "laser"}, "key 'driver': 'laser' is not one of"),
           ({"id": "P", "driver": "network"}, "key 'host': is missing"),
           ({"id": "P", "driver": "network", "host": "h", "profile": "TM-XYZ"}, "unknown python-escpos profile"),
           ({"id": "P", "driver": "usb", "vendor_id": "zz", "product_id": 1}, "'zz' is not a USB id"),
           ({"id": "P", "driver": "file", "devfile": "/dev/x", "host": "h"}, "key 'host': is not a known key")]
    for entry, message in bad:
        with pytest.raises(ConfigError, match=message):
            parse_hall(hall_dict(printers=[entry], kiosks=[]))
    with pytest.raises(ConfigError, match=r"kiosks\[0\] \(id 'K'\), key 'printer': unknown printer 'NOPE'"):
        parse_hall(hall_dict(kiosks=[{"id": "K", "printer": "NOPE"}]))


# --- what the printers really answer (issue 16) --------------------------------------------------
async def test_printed_means_the_paper_came_out(printer, make_client):
    """A status answer only proves the printer received the ticket; "printed" waits for the
    printer's answer to GS ( H, which comes once the ticket is out."""
    printer.print_s = 0.6  # a slow thermal head
    client = await make_client(printer.port)
    ticket = await take(client, "A", kiosk="K1")
    assert ticket["print"]["state"] == "printed"
    assert printer.jobs[-1].finished_at is not None, "answered 'printed' only after the paper came out"


async def test_a_jammed_printer_is_not_reported_as_printed(printer, make_client):
    client = await make_client(printer.port, timeout_s=1, confirm_wait_s=1.5)
    assert (await take(client, "A", kiosk="K1"))["print"]["state"] == "printed"
    printer.jammed = True  # it takes the next ticket and answers its status, but nothing comes out
    ticket = await take(client, "A", kiosk="K1")
    assert ticket["print"]["state"] == "queued", "not confirmed: the kiosk shows the number on screen"
    staff = await login(client, "siti", "supervisor")
    health = {p["id"]: p for p in await (await client.get("/api/printers", headers=staff)).json()}
    assert health["P1"]["pending"] == 1 and "belum menyelesaikan" in health["P1"]["last_error"]
    printer.jammed = False
    await until(lambda: sum(1 for data in printer.printed if b"CETAK ULANG" in data) == 1)
    assert read_escpos(printer.printed[-1]).text.count(ticket["number"]) >= 1


async def test_a_clone_without_process_ids_is_confirmed_by_its_status(printer, make_client):
    printer.answers_process_id = False
    client = await make_client(printer.port, timeout_s=1, confirm_wait_s=2)
    first = await take(client, "A", kiosk="K1")  # waits once for an answer that never comes
    second = await take(client, "A", kiosk="K1")
    assert first["print"]["state"] == second["print"]["state"] == "printed"
    worker = client.server.app[SPOOL].workers["P1"]
    assert worker.driver.process_id is False, "learned from the first ticket: the next ones do not wait"
    assert len(printer.printed) == 2 and not any(b"CETAK ULANG" in data for data in printer.printed)


def _rendered(profile: str = "TM-T88V"):
    from datetime import datetime

    from printers.drivers import Rendered
    from printers.encode import escpos_bytes
    from printers.layout import TicketFacts, paper_for, ticket_layout

    paper = paper_for(profile)
    facts = TicketFacts(hall="MPP", agency="Disdukcapil", service="KTP", number="A001", priority_label=None,
                        issued=datetime(2026, 11, 25, 9, 0), ahead=0, estimated_wait_s=0,
                        status_url="http://hall.test/t/x", alert_hint="", footer="")
    layout = ticket_layout(facts, paper)
    return paper, Rendered(name="000042-A001", layout=layout, data=escpos_bytes(layout, paper))


async def test_a_serial_printer_answers_its_one_byte_status_at_once():
    """python-escpos reads 16 bytes and waits the whole timeout for them; the printer sends one:
    every status looked offline. The driver reads one byte, and confirms a ticket by GS ( H."""
    from kiosk.hall.config import Printer
    from printers.drivers import DRIVERS, OK
    from tests.printer_standin import SerialPrinterStandIn

    standin = SerialPrinterStandIn()
    try:
        paper, rendered = _rendered()
        printer = Printer(id="S1", driver="serial", profile="TM-T88V", options={"devfile": standin.devfile},
                          timeout_s=1, status_queries=True)
        driver = DRIVERS["serial"](printer, paper)
        assert await driver.status() == OK
        await driver.deliver(rendered)
        assert driver.process_id is True and bytes(standin.received) == rendered.data
        standin.paper_out = True
        assert await driver.status() == "paper_out"
    finally:
        standin.close()


@pytest.mark.parametrize("kind, options", [("cups", {"printer_name": "TM-T20"}),
                                           ("usb", {"vendor_id": 0x04B8, "product_id": 0x0E15})])
async def test_a_driver_whose_extra_is_missing_says_what_to_install_and_sends_nothing(kind, options):
    from escpos import printer as escpos_printer

    from kiosk.hall.config import Printer
    from printers.drivers import DRIVERS, PrinterFault

    name = {"cups": "CupsPrinter", "usb": "Usb"}[kind]
    if getattr(escpos_printer, name).is_usable():
        pytest.skip(f"python-escpos can use {kind} here (its extra is installed)")
    paper, rendered = _rendered()
    driver = DRIVERS[kind](Printer(id="X", driver=kind, profile="TM-T88V", options=options, timeout_s=1), paper)
    with pytest.raises(PrinterFault) as fault:
        await driver.deliver(rendered)
    assert f"pip install 'giliran[{kind}]'" in fault.value.message
    assert fault.value.partial is False, "nothing went out: the ticket must not come out later as CETAK ULANG"


def test_a_long_priority_line_wraps_on_58mm_paper():
    from datetime import datetime

    from printers.layout import TicketFacts, paper_for, text_lines, ticket_layout

    paper = paper_for("POS-5890")
    facts = TicketFacts(hall="MPP", agency="Disdukcapil", service="KTP", number="A001",
                        priority_label="Penyandang disabilitas", issued=datetime(2026, 11, 25, 9, 0), ahead=0,
                        estimated_wait_s=0, status_url="http://hall.test/t/x", alert_hint="", footer="")
    lines = text_lines(ticket_layout(facts, paper), paper)
    at = lines.index("PRIORITAS: PENYANDANG")
    assert lines[at + 1] == "DISABILITAS" and all(len(line) <= paper.columns for line in lines)


@pytest.fixture
def late_client(aiohttp_client, db_at, tmp_path, clock):
    """A hall whose kiosk K1 prints on the stand-in, with the late-print policy given."""
    async def make(port: int, late_print: str):
        doc = printing_hall(port, tmp_path, confirm_wait_s=0.3) | {"tickets": {"late_print": late_print}}
        app = create_app(Settings(db=db_at(f"late-{late_print}"), var=tmp_path), config=parse_hall(doc), clock=clock,
                         synchronous="NORMAL")
        return await aiohttp_client(app)
    return make


async def test_a_ticket_shown_as_unprinted_is_dropped_when_the_hall_says_so(printer, late_client):
    client = await late_client(printer.port, "drop")
    await printer.stop()
    body = await take(client, "A", kiosk="K1")
    assert body["print"]["state"] == "dropped" and "tidak dicetak" in body["print"]["message"]
    await printer.start()
    await asyncio.sleep(1.5)  # longer than the spool's back-off: a late A001 would be out by now
    served = await take(client, "B", kiosk="K1")  # the printer works again: the next ticket prints at once
    assert served["print"]["state"] == "printed"
    assert [next(t for t, size in read_escpos(d).lines if size == 4) for d in printer.printed] == ["B001"]
    headers = await login(client, "siti", "officer", ("1",))
    supervisor = await login(client, "sri", "supervisor")
    audit = await (await client.get("/api/audit?action=unprinted", headers=supervisor)).json()
    assert [(a["ticket_number"], a["detail"]) for a in audit] == [("A001", "printer P1: tidak dicetak")]
    # Asked at the counter, staff print it after all.
    resp = await client.post(f"/api/tickets/{body['token']}/reprint", headers=headers)
    assert resp.status == 202
    await until(lambda: len(printer.printed) == 2)
    assert "CETAK ULANG" in read_escpos(printer.printed[1]).text


async def test_a_ticket_shown_as_unprinted_is_printed_late_and_says_so(printer, late_client):
    client = await late_client(printer.port, "print")
    await printer.stop()
    body = await take(client, "A", kiosk="K1")
    assert body["print"]["state"] == "queued" and "akan dicetak" in body["print"]["message"]
    await printer.start()
    await until(lambda: len(printer.printed) == 1)
    out = read_escpos(printer.printed[0])
    assert "*** DICETAK TERLAMBAT ***" in out.text
    assert "tampil di layar kios pukul 09.00" in " ".join(out.text.split()), "whoever finds it knows"
    assert ("A001", 4) in out.lines


async def test_the_printed_hint_promises_telegram_only_when_a_bot_runs(printer, make_client, tmp_path):
    from kiosk.web.appkeys import QUEUE

    client = await make_client(printer.port)
    await take(client, "A", kiosk="K1")
    await until(lambda: len(printer.printed) == 1)
    assert "Telegram" not in read_escpos(printer.printed[0]).text, "no bot: no promise"
    # A hall with a bot: the notifier adds the ticket's Telegram link to its view (notifier/web.py).
    client.server.app[QUEUE].views.extensions.append(lambda t, view: view.update(telegram_url="https://t.me/b?start=x"))
    await take(client, "A", kiosk="K1")
    await until(lambda: len(printer.printed) == 2)
    assert "Telegram" in read_escpos(printer.printed[1]).text
