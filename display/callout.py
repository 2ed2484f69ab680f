"""The spoken call-out: "Nomor antrean A dua belas, silakan menuju loket tiga."."""

from __future__ import annotations

import re

from num2words import num2words

from kiosk.hall.config import DisplaySettings

DIGITS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
TICKET = re.compile(r"^([A-Z]{1,2})(\d+)$")


def number_words(n: int) -> str:
    """12 -> 'dua belas', 111 -> 'seratus sebelas', 1000 -> 'seribu' (num2words, Indonesian)."""
    return str(num2words(n, lang="id"))


def spoken_number(number: str, read: str = "words") -> str:
    """'A012' -> 'A dua belas' (words) or 'A nol satu dua' (digits); two letters are spelled apart."""
    m = TICKET.match(number)
    if not m:
        return number
    letters = " ".join(m.group(1))
    digits = m.group(2)
    spoken = " ".join(DIGITS[int(d)] for d in digits) if read == "digits" else number_words(int(digits))
    return f"{letters} {spoken}"


def spoken_text(text: str) -> str:
    """Numbers inside a name read as words: 'Loket 3' -> 'Loket tiga'."""
    return re.sub(r"\d+", lambda m: number_words(int(m.group())), text)


def sentence(number: str, counter_name: str, service_name: str, settings: DisplaySettings) -> str:
    """The sentence the hall hears for one call."""
    return settings.phrase.format(number=spoken_number(number, settings.read_numbers),
                                  counter=spoken_text(counter_name).lower(), service=spoken_text(service_name))
