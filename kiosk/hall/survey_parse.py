"""Checking the hall's `[survey]` section (see kiosk/hall/survey.py for what it holds)."""

from __future__ import annotations

from typing import Any

from kiosk.hall.reader import Reader
from kiosk.hall.survey import CODES, ELEMENTS, Element, SurveySettings


def parse_survey(s: Reader) -> SurveySettings:
    """[survey]: wording (questions and answer labels per U-code), open time, the tablet's time."""
    s.unknown_keys({"enabled", "open_minutes", "tablet_seconds", "complaints", "questions", "answers"})
    enabled = s.get("enabled", bool, True)
    open_minutes = s.whole("open_minutes", 0, 0, 10080)
    tablet = s.whole("tablet_seconds", 180, 30, 1800)
    complaints = s.free_text("complaints", "")
    questions = Reader(s.source, "[survey.questions]", s.get("questions", dict, {}))
    answers = Reader(s.source, "[survey.answers]", s.get("answers", dict, {}))
    questions.unknown_keys(set(CODES))
    answers.unknown_keys(set(CODES))
    elements = []
    for e in ELEMENTS:
        question = questions.text(e.code, e.question, max_len=300)
        if not question.strip():
            questions.fail(e.code, "must not be empty")
        labels = _labels(answers, e)
        elements.append(Element(e.code, e.key, e.name, question.strip(), labels))
    return SurveySettings(enabled=enabled, open_minutes=open_minutes, tablet_seconds=tablet,
                          complaints=complaints.strip(), elements=tuple(elements))


def _labels(r: Reader, e: Element) -> tuple[str, str, str, str]:
    raw: Any = r.get(e.code, list, list(e.answers))
    if len(raw) != 4:
        r.fail(e.code, "must list exactly four answers, from worst (1) to best (4)")
    for label in raw:
        if not isinstance(label, str) or not label.strip():
            r.fail(e.code, "must list exactly four answers, from worst (1) to best (4)")
        r.check_text(e.code, label, max_len=60, newlines=False)
    return (raw[0].strip(), raw[1].strip(), raw[2].strip(), raw[3].strip())
