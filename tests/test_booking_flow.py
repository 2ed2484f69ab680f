"""The whole online-queue flow in real headless Chromium on the demo hall: book on a phone-sized
page, confirm the phone with the code captured from the SMS gateway stand-in, type the booking code
on the kiosk's keypad the next morning, called from the counter console, shown on the hall TV."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.browser import PageProblems, artifact, browser  # noqa: F401 - the fixture
from tests.conftest import wib
from tests.demo_hall import demo_config, demo_server, staff_page  # noqa: F401 - the fixture
from tests.sms_standins import GatewayStandIn

PHONE_SIZE = {"width": 390, "height": 844}


@pytest.fixture
async def gateway(monkeypatch):
    monkeypatch.setenv("GILIRAN_SMS_USERNAME", "giliran")
    monkeypatch.setenv("GILIRAN_SMS_PASSWORD", "sandi")
    stand_in = GatewayStandIn("/messages")
    yield stand_in, await stand_in.start()
    await stand_in.stop()


async def last_code(stand_in: GatewayStandIn) -> str:
    async with asyncio.timeout(20):
        while not stand_in.accepted():
            await asyncio.sleep(0.05)
    found = re.search(r"\b(\d{6})\b", stand_in.accepted()[-1]["json"]["textMessage"]["text"])
    assert found
    return found.group(1)


async def test_book_from_a_phone_check_in_at_the_kiosk_called_and_shown(demo_server, browser, gateway,  # noqa: F811
                                                                         clock):
    stand_in, url = gateway
    server = await demo_server(demo_config(sms={"provider": "smsgate", "base_url": url, "rate_per_minute": 600}))

    # On a phone, the day before: confirm the number with the SMS code, book 09:00 tomorrow.
    phone = await browser.new_page(viewport=PHONE_SIZE, is_mobile=True, has_touch=True)
    problems = PageProblems(phone)
    await phone.goto(str(server.make_url("/ambil")))
    await phone.fill("#phone", "0812-3456-7890")
    await phone.click("#phone-form button[type=submit]")
    await phone.wait_for_selector("#code-form:not([hidden])")
    assert stand_in.accepted()[-1]["json"]["phoneNumbers"] == ["+6281234567890"]
    await phone.fill("#code", await last_code(stand_in))
    await phone.screenshot(path=artifact("booking-phone-code.png"))
    await phone.click("#code-form button[type=submit]")
    await phone.wait_for_selector("#step-service:not([hidden])")
    await phone.select_option("#service", "A")
    await phone.fill("#date", "2026-11-26")
    await phone.dispatch_event("#date", "change")
    slot = phone.locator("#slots button", has_text="09:00")
    await slot.wait_for()
    await phone.screenshot(path=artifact("booking-phone-slots.png"), full_page=True)
    await slot.click()
    await phone.wait_for_selector("#result:not([hidden])")
    code = re.search(r"\d{8}", await phone.text_content("#result-title")).group(0)
    await phone.click("#result-link")
    await phone.wait_for_selector("#booking-code")
    assert await phone.text_content("#booking-code") == code
    assert await phone.locator("img[alt^='Kode QR booking']").evaluate("(img) => img.naturalWidth > 0")
    await phone.screenshot(path=artifact("booking-phone-booked.png"), full_page=True)
    problems.check()

    # The next morning at the hall: the code typed on the kiosk's keypad prints the ticket.
    clock.set(wib(2026, 11, 26, 8, 40))
    kiosk = await browser.new_page(viewport={"width": 1080, "height": 1920})
    kiosk_problems = PageProblems(kiosk)
    await kiosk.goto(str(server.make_url("/kiosk?kiosk=K1")))
    await kiosk.click("#open-booking")
    await kiosk.wait_for_selector("#step-booking:not([hidden])")
    for digit in code:
        await kiosk.click(f"#booking-keypad .key[data-key='{digit}']")
    assert await kiosk.input_value("#booking-code") == code
    await kiosk.screenshot(path=artifact("booking-kiosk-code.png"))
    await kiosk.click("#booking-form button[type=submit]")
    await kiosk.wait_for_selector("#step-ticket:not([hidden])")
    number = await kiosk.text_content("#t-number")
    assert re.fullmatch(r"A\d{3}", number)
    await kiosk.screenshot(path=artifact("booking-kiosk-ticket.png"))
    kiosk_problems.check()

    # The hall TV and the counter console: called, shown.
    display = await browser.new_page(viewport={"width": 1920, "height": 1080})
    await display.goto(str(server.make_url("/display?sound=0")))
    await display.wait_for_function("() => window.giliranDisplay && window.giliranDisplay.connected")
    context, console = await staff_page(browser, server, "siti", "officer", ("1",))
    await console.goto(str(server.make_url("/staff/counter/1")))
    await console.wait_for_selector(f"#waiting tr[data-number={number}]")
    assert "Booking" in await console.text_content(f"#waiting tr[data-number={number}]")
    await console.get_by_role("button", name="Panggil Berikutnya").click()
    await console.wait_for_function(f"() => document.getElementById('current-number').textContent === '{number}'")
    await console.screenshot(path=artifact("booking-console-called.png"))
    await display.wait_for_function(f"() => document.getElementById('now-number').textContent === '{number}'")
    await display.screenshot(path=artifact("booking-display-called.png"))
    await context.close()
