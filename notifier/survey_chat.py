"""The satisfaction survey in the chats that follow a ticket (docs/survey.md).

When a followed ticket is served (`done`), in the same transaction as the change (a writer hook,
after the alert policy's): a Telegram chat gets the first of the nine questions with its four
answers as inline buttons and a "Berhenti" button; each pressed answer is stored at once
(`Surveys.answer_one`: a partial response is kept if the citizen stops) and the next question
comes back through the outbox. A phone following by SMS gets one short link to the ticket page's
survey, only when the hall has a real SMS gateway. WhatsApp is not asked (its templates need
Meta's approval first). Nothing ties an answer to the chat in what staff see: responses carry no
address.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from kiosk.hall.config import HallConfig
from kiosk.hall.survey import CODES, Element
from kiosk.queue.errors import DomainError
from kiosk.queue.following import Following
from kiosk.queue.models import Ticket
from kiosk.queue.writer import Work
from kiosk.survey.service import Surveys
from kiosk.web.appkeys import FOLLOWING, QUEUE, SURVEYS
from kiosk.web.citizen import sms_offered
from notifier.messages import sms_safe
from notifier.webhooks import BOT

log = logging.getLogger(__name__)
PREFIX = "skm"
FACES = ("😠", "🙁", "🙂", "😄")
LAPOR = "Pengaduan resmi: SP4N-LAPOR! www.lapor.go.id · SMS 1708."


def question_text(element: Element, index: int) -> str:
    """One question as the chat shows it."""
    return f"Survei kepuasan · pertanyaan {index}/{len(CODES)}\n{element.question}"


def question_buttons(element: Element, token: str) -> list[list[list[str]]]:
    """The four answers (worst first, with a face), one per row, and a button to stop."""
    rows = [[[f"{FACES[v]} {label}", f"{PREFIX}:{token}:{element.code}:{v + 1}"]]
            for v, label in enumerate(element.answers)]
    return [*rows, [["Berhenti", f"{PREFIX}:{token}:stop"]]]


class SurveyChat:
    """Asks the survey in chats and takes their answers."""

    def __init__(self, surveys: Surveys, following: Following) -> None:
        self.surveys = surveys
        self.following = following

    @property
    def config(self) -> HallConfig:
        """The hall in force."""
        return self.surveys.writer.config

    async def hook(self, work: Work) -> None:
        """In the transaction that served a followed ticket: its survey to each chat and phone."""
        if not self.config.survey.enabled:
            return
        queued = False
        for change in work.changes:
            if change.kind != "done":
                continue
            ticket = change.ticket
            for channel, address in await work.q.subscriptions(ticket.id):
                message = self._first(ticket, channel)
                if message is None:
                    continue
                text, data = message
                queued |= await work.q.enqueue_message(
                    ticket_id=ticket.id, stage="survey", channel=channel, address=address, text=text,
                    key=f"{ticket.id}:survey:{channel}:{address}", at=work.now, data=data)
        if queued:
            work.notify("alert.queued", {})

    def _first(self, ticket: Ticket, channel: str) -> tuple[str, dict[str, Any] | None] | None:
        if channel == "telegram":
            first = self.config.survey.elements[0]
            intro = (f"Bagaimana pelayanan untuk nomor {ticket.number}? Mohon jawab 9 pertanyaan singkat "
                     "(tanpa nama). Anda dapat berhenti kapan saja.\n\n")
            return intro + question_text(first, 1), {"buttons": question_buttons(first, ticket.token)}
        if channel == "sms" and sms_offered(self.config):
            url = f"{self.config.hall.public_url}/t/{ticket.token}"
            return sms_safe(f"Giliran: mohon nilai pelayanan nomor {ticket.number} (tanpa nama): {url}"), None
        return None

    async def on_button(self, address: str, data: str, external_id: str) -> None:
        """A pressed answer (`skm:<token>:<U-code>:<1-4>`) or `skm:<token>:stop`, kept once."""
        inbound_id, answered = await self.following.record_inbound("telegram", address, external_id, data)
        if answered:
            return
        parts = data.split(":")
        token = parts[1] if len(parts) > 1 else ""
        ticket = next((t for t in await self.following.tickets_of("telegram", address, today_only=False)
                       if t.token == token), None)
        reply: tuple[str, dict[str, Any] | None]
        if ticket is None:
            reply = ("Nomor antrean ini tidak terhubung dengan percakapan ini.", None)
        elif len(parts) == 3 and parts[2] == "stop":
            reply = ("Terima kasih. Jawaban Anda sejauh ini sudah tersimpan.\n" + LAPOR, None)
        else:
            reply = await self._answer(ticket, parts)
        await self.following.queue_message(channel="telegram", address=address, stage="survey", text=reply[0],
                                           key=f"survey:telegram:{inbound_id}", ticket=ticket, data=reply[1],
                                           answers=inbound_id)

    async def _answer(self, ticket: Ticket, parts: list[str]) -> tuple[str, dict[str, Any] | None]:
        if len(parts) != 4 or parts[2] not in CODES or parts[3] not in ("1", "2", "3", "4"):
            return "Jawaban tidak dikenal.", None
        try:
            answers = await self.surveys.answer_one(ticket.id, parts[2], int(parts[3]), "telegram")
        except DomainError as exc:
            return exc.message, None
        log.info("survey answer %s for %s (telegram)", parts[2], ticket.number)
        following = CODES.index(parts[2]) + 1
        order = [*CODES[following:], *CODES[:following]]  # the next one not yet answered
        left = [code for code in order if answers.get(code) is None]
        if not left:
            return f"Terima kasih! Penilaian Anda sudah kami terima.\n{LAPOR}", None
        element = self.config.survey.element(left[0])
        assert element is not None
        return question_text(element, CODES.index(element.code) + 1), {"buttons": question_buttons(element,
                                                                                                   ticket.token)}


def setup_survey_chat(app: web.Application) -> None:
    """After the notifier: the hook (it runs after the alert policy's) and, once the bot is up, its buttons."""
    chat = SurveyChat(app[SURVEYS], app[FOLLOWING])
    app[QUEUE].writer.add_hook(chat.hook)

    async def register(app: web.Application) -> None:
        bot: Any = app.get(BOT)
        if bot is not None:  # a TelegramBot (the key is typed `object` so the bot's module loads only when used)
            bot.button_handlers[PREFIX] = chat.on_button
    app.on_startup.append(register)
