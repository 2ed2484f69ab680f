"""Asking and answering the survey: when a ticket's survey is open, a citizen's answer by the
ticket's token (web), the counter tablet's answer for the ticket that counter has just served, and
the Telegram chat's answers one element at a time (a partial response is kept).

Integrity (docs/survey.md): one response per ticket (a complete one is final; a partial one, from
Telegram, may be completed or replaced while the survey is open); only a ticket that was served
(`done`) has a survey; the tablet answers only for the ticket its counter served last, within
`[survey] tablet_seconds`; every write goes through the queue's writer and stores nothing when
anything is wrong. Nothing here ever reads a phone or a chat into a response.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any

from kiosk.hall.survey import CODES, EDUCATION, GENDERS, OCCUPATIONS, SurveySettings
from kiosk.queue.errors import Conflict, NotFound, Unprocessable
from kiosk.queue.models import DONE, Ticket
from kiosk.queue.writer import Work, Writer, ticket_in
from kiosk.storage.base import Queries

log = logging.getLogger(__name__)
OPEN, ANSWERED, CLOSED, NONE = "open", "answered", "closed", "none"
MAX_COMMENT = 1000


def invalid(message: str) -> Unprocessable:
    """422 `invalid_survey`."""
    return Unprocessable(message, code="invalid_survey")


def check_answers(raw: Any) -> dict[str, int]:
    """All nine elements, each a whole number 1-4; 422 `invalid_survey` naming what is wrong."""
    if not isinstance(raw, dict):
        raise invalid("Jawaban survei harus berisi U1 sampai U9.")
    unknown = [k for k in raw if k not in CODES]
    if unknown:
        raise invalid(f"Unsur '{str(unknown[0])[:20]}' tidak dikenal; unsur survei adalah U1 sampai U9.")
    missing = [c for c in CODES if c not in raw]
    if missing:
        raise invalid(f"Pertanyaan {', '.join(missing)} belum dijawab.")
    for code in CODES:
        value = raw[code]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
            raise invalid(f"Jawaban {code} harus angka 1 sampai 4.")
    return {c: int(raw[c]) for c in CODES}


def check_profile(raw: Any) -> dict[str, Any]:
    """The optional respondent profile: jenis kelamin L/P, usia 10-120, pendidikan, pekerjaan."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise invalid("Data responden tidak sesuai.")
    unknown = [k for k in raw if k not in ("gender", "age", "education", "occupation")]
    if unknown:
        raise invalid(f"Data responden '{str(unknown[0])[:20]}' tidak dikenal.")
    profile: dict[str, Any] = {}
    gender, age = raw.get("gender"), raw.get("age")
    if gender not in (None, "", *GENDERS):
        raise invalid("Jenis kelamin harus L atau P.")
    if age not in (None, "") and (isinstance(age, bool) or not isinstance(age, int) or not 10 <= age <= 120):
        raise invalid("Usia harus angka 10 sampai 120 tahun.")
    for key, choices, name in (("education", EDUCATION, "Pendidikan"), ("occupation", OCCUPATIONS, "Pekerjaan")):
        value = raw.get(key)
        if value not in (None, "", *choices):
            raise invalid(f"{name} harus salah satu dari: {', '.join(choices)}.")
        profile[key] = value or None
    profile["gender"] = gender or None
    profile["age"] = age if age not in (None, "") else None
    return profile


def check_comment(raw: Any) -> str | None:
    """The optional suggestion or complaint (at most 1000 characters, control characters removed)."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise invalid("Saran atau pengaduan harus berupa teks.")
    if len(raw) > MAX_COMMENT:
        raise invalid(f"Saran atau pengaduan paling panjang {MAX_COMMENT} karakter.")
    text = "".join(ch for ch in raw if ch in "\n\t" or ch.isprintable()).strip()
    return text or None


class Surveys:
    """The survey's rules over the queue's writer (one per hall)."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    @property
    def settings(self) -> SurveySettings:
        """The hall's `[survey]` in force."""
        return self.writer.config.survey

    def closes_at(self, ticket: Ticket) -> float:
        """When a served ticket's survey closes: `open_minutes` after it was served, or (0) at the
        end of the ticket's day in the hall's time zone."""
        finished = ticket.finished_at or ticket.issued_at
        minutes = self.settings.open_minutes
        if minutes:
            return finished + 60 * minutes
        tz = self.writer.config.hall.tz
        midnight = datetime.combine(datetime.fromisoformat(ticket.day).date() + timedelta(days=1), time(), tz)
        return midnight.timestamp()

    async def state(self, ticket: Ticket, q: Queries | None = None) -> str:
        """open, answered, closed or none (no survey: not served, or the hall asks none)."""
        if not self.settings.enabled or ticket.state != DONE:
            return NONE
        response = await (q or self.writer.store.reads).survey_response(ticket.id)
        if response is not None and response["complete"]:
            return ANSWERED
        return OPEN if self.writer.clock.now() < self.closes_at(ticket) else CLOSED

    async def extend_view(self, ticket: Ticket, view: dict[str, Any], q: Queries | None) -> None:
        """The ticket view's `survey` field (Views.async_extensions)."""
        state = await self.state(ticket, q)
        view["survey"] = {"state": state, "url": f"{view['status_url']}#survei" if state != NONE else None}

    # --- answering -------------------------------------------------------------------------------
    async def answer(self, token: str, answers: Any, respondent: Any = None, comment: Any = None) -> dict[str, Any]:
        """A citizen's complete answer by the ticket's token (the ticket page)."""
        checked, profile, text = check_answers(answers), check_profile(respondent), check_comment(comment)
        async with self.writer.write() as w:
            ticket = await ticket_in(w.q, token)
            await self._save(w, ticket, checked, profile, text, "web", complete=True)
        log.info("survey answered for %s (web)", ticket.number)
        return {"state": ANSWERED, "number": ticket.number}

    async def answer_at_counter(self, counter_id: str, number: str, answers: Any, respondent: Any = None,
                                comment: Any = None) -> dict[str, Any]:
        """The counter tablet's answer: only for the ticket that counter served last, the one the
        tablet shows (`number`), within `tablet_seconds` of its end."""
        checked, profile, text = check_answers(answers), check_profile(respondent), check_comment(comment)
        async with self.writer.write() as w:
            ticket = await self._tablet_ticket(w.q, counter_id, w.now)
            if ticket is None or ticket.number != number:
                raise Conflict("Survei untuk nomor ini sudah ditutup di tablet loket.", code="survey_closed")
            await self._save(w, ticket, checked, profile, text, "tablet", complete=True)
        log.info("survey answered for %s at counter %s (tablet)", ticket.number, counter_id)
        return {"state": ANSWERED, "number": ticket.number}

    async def answer_one(self, ticket_id: int, code: str, value: int, channel: str) -> dict[str, int | None]:
        """One element answered in a chat (Telegram): kept at once, so stopping keeps a partial
        response; the response is complete when all nine are answered. Returns the answers so far."""
        if code not in CODES or isinstance(value, bool) or not 1 <= value <= 4:
            raise invalid("Jawaban tidak dikenal.")
        async with self.writer.write() as w:
            ticket = await w.q.ticket_by_id(ticket_id)
            if ticket is None:
                raise NotFound("Nomor antrean tidak ditemukan.", code="unknown_ticket")
            existing = await w.q.survey_response(ticket.id)
            answers: dict[str, int | None] = dict(existing["answers"]) if existing else dict.fromkeys(CODES)
            answers[code] = value
            complete = all(answers[c] is not None for c in CODES)
            await self._save(w, ticket, answers, {}, existing["comment"] if existing else None, channel,
                             complete=complete, partial_ok=True)
        return answers

    async def _save(self, w: Work, ticket: Ticket, answers: dict[str, Any], profile: dict[str, Any],
                    comment: str | None, channel: str, *, complete: bool, partial_ok: bool = False) -> None:
        if not self.settings.enabled:
            raise Conflict("Aula ini tidak menjalankan survei kepuasan.", code="survey_closed")
        if ticket.state != DONE:
            raise Conflict(f"Nomor {ticket.number} belum selesai dilayani; survei dibuka setelah pelayanan selesai.",
                           code="survey_closed")
        if w.now >= self.closes_at(ticket):
            raise Conflict(f"Survei untuk nomor {ticket.number} sudah ditutup.", code="survey_closed")
        existing = await w.q.survey_response(ticket.id)
        if existing is not None and existing["complete"]:
            raise Conflict(f"Survei untuk nomor {ticket.number} sudah diisi. Terima kasih.", code="survey_answered")
        if existing is not None and partial_ok and existing["channel"] != channel:
            raise Conflict(f"Survei untuk nomor {ticket.number} sedang diisi di tempat lain.", code="survey_answered")
        visit = await w.q.served_visit(ticket.id)
        service = self.writer.config.service(ticket.service)
        await w.q.save_survey_response(
            ticket_id=ticket.id, day=ticket.day, service=ticket.service,
            agency=service.agency if service else "", counter_id=visit[0] if visit else ticket.counter_id,
            officer=visit[1] if visit else None, answers=answers, profile=profile, comment=comment,
            channel=channel, complete=complete, at=w.now)
        w.notify("survey.answered", {"ticket_id": ticket.id, "counter": visit[0] if visit else ticket.counter_id,
                                     "complete": complete})

    # --- the counter tablet ----------------------------------------------------------------------
    async def _tablet_ticket(self, q: Queries, counter_id: str, now: float) -> Ticket | None:
        if self.writer.config.counter(counter_id) is None:
            raise NotFound(f"Loket '{counter_id[:16]}' tidak ada di aula ini.", code="unknown_counter")
        ticket = await q.last_served_at(self.writer.today(), counter_id)
        if ticket is None or ticket.finished_at is None or now - ticket.finished_at > self.settings.tablet_seconds:
            return None
        return ticket

    async def tablet(self, counter_id: str) -> dict[str, Any]:
        """What the counter tablet shows: the survey of the ticket just served there (its number and
        service, never a token), or nothing (the idle screen)."""
        reads = self.writer.store.reads
        now = self.writer.clock.now()
        ticket = await self._tablet_ticket(reads, counter_id, now)
        counter = self.writer.config.counter(counter_id)
        shown = None
        if ticket is not None and await self.state(ticket) == OPEN:
            response = await reads.survey_response(ticket.id)
            if response is None:  # one begun elsewhere (Telegram) is not offered here
                service = self.writer.config.service(ticket.service)
                left = self.settings.tablet_seconds - (now - (ticket.finished_at or now))
                shown = {"number": ticket.number, "service_name": service.name if service else ticket.service,
                         "seconds_left": max(0, int(left))}
        return {"counter": counter_id, "counter_name": counter.name if counter else counter_id, "survey": shown}
