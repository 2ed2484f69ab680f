"""One layout model for a printed ticket; it feeds both the ESC/POS bytes and the PNG preview."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from escpos.capabilities import get_profile

from kiosk.queue.i18n import format_date, format_wait


@dataclass(frozen=True)
class Text:
    """A line of text; `size` multiplies character width and height (1-8)."""

    text: str
    size: int = 1
    bold: bool = False
    align: str = "center"


@dataclass(frozen=True)
class Rule:
    """A horizontal line across the paper."""


@dataclass(frozen=True)
class QR:
    """A QR code."""

    data: str
    module_dots: int = 6


@dataclass(frozen=True)
class Feed:
    """Blank lines."""

    lines: int = 1


@dataclass(frozen=True)
class Cut:
    """The end of the ticket: cut, or feed where the printer has no cutter."""


Element = Text | Rule | QR | Feed | Cut


@dataclass(frozen=True)
class Paper:
    """What a printer profile can do."""

    profile: str
    columns: int
    width_px: int
    native_qr: bool
    cutter: bool


@cache
def paper_for(profile_name: str) -> Paper:
    """Paper width, columns, QR and cutter support of a python-escpos profile."""
    profile = get_profile(profile_name)
    media = profile.profile_data.get("media", {}).get("width", {})
    fonts = profile.profile_data.get("fonts", {})
    columns = int(fonts.get("0", {}).get("columns", 42))
    width_px = media.get("pixels")
    width_px = int(width_px) if isinstance(width_px, (int, float)) else (384 if columns <= 32 else 512)
    features = profile.features
    return Paper(profile=profile_name, columns=columns, width_px=width_px,
                 native_qr=bool(features.get("qrCode")),
                 cutter=bool(features.get("paperFullCut") or features.get("paperPartCut")))


@dataclass(frozen=True)
class TicketFacts:
    """What is printed on a ticket, nothing more (never a phone number or a name)."""

    hall: str
    agency: str
    service: str
    number: str
    priority_label: str | None
    issued: datetime
    ahead: int
    estimated_wait_s: int
    status_url: str
    alert_hint: str
    footer: str
    reprint: bool = False
    late_at: datetime | None = None  # the kiosk showed this number as not printed at that time


def _wrapped(text: str, width: int, **style: object) -> list[Text]:
    lines = textwrap.wrap(text, width=max(1, width), break_long_words=True) or [""]
    return [Text(line, **style) for line in lines]  # type: ignore[arg-type]


def ticket_layout(facts: TicketFacts, paper: Paper) -> list[Element]:
    """The ticket, laid out for the paper's width."""
    cols = paper.columns
    number_size = 4 if len(facts.number) * 4 <= cols else 3
    out: list[Element] = []
    if facts.reprint:
        out += [Text("*** CETAK ULANG ***", bold=True)]
    if facts.late_at is not None:
        out += [Text("*** DICETAK TERLAMBAT ***", bold=True)]
        out += _wrapped(f"Nomor ini tampil di layar kios pukul {facts.late_at:%H.%M}.", cols)
    out += _wrapped(facts.hall, cols, bold=True)
    out += [Rule()]
    out += _wrapped(facts.agency, cols)
    out += _wrapped(facts.service, cols // 2 if len(facts.service) <= cols // 2 else cols,
                    size=2 if len(facts.service) <= cols // 2 else 1, bold=True)
    out += [Feed(), Text("NOMOR ANTREAN"), Text(facts.number, size=number_size, bold=True)]
    if facts.priority_label:
        out += _wrapped(f"PRIORITAS: {facts.priority_label.upper()}", cols, bold=True)
    out += [Feed()]
    out += _wrapped(f"{format_date(facts.issued)}, {facts.issued:%H.%M} {facts.issued.tzname() or ''}".strip(),
                    cols)
    out += _wrapped(f"Orang di depan Anda: {facts.ahead}", cols)
    out += _wrapped(f"Perkiraan waktu tunggu: {format_wait(facts.estimated_wait_s)}", cols)
    out += [Rule(), QR(facts.status_url, module_dots=6 if cols > 32 else 5)]
    out += _wrapped(facts.alert_hint, cols)
    out += [Rule()]
    out += _wrapped(facts.footer, cols)
    out += [Cut()]
    return out


def text_lines(layout: list[Element], paper: Paper) -> list[str]:
    """The layout as plain lines of text (for tests and logs)."""
    lines = []
    for element in layout:
        if isinstance(element, Text):
            lines.append(element.text)
        elif isinstance(element, Rule):
            lines.append("-" * paper.columns)
        elif isinstance(element, QR):
            lines.append(f"[QR {element.data}]")
    return lines
