"""The Indonesian call-out sentence, and server-side speech with espeak-ng."""

from __future__ import annotations

import shutil
import wave

import pytest

from display.callout import sentence, spoken_number
from display.speech import Speech
from kiosk.hall.config import DisplaySettings

WORDS = {
    1: "satu", 10: "sepuluh", 11: "sebelas", 12: "dua belas", 20: "dua puluh", 99: "sembilan puluh sembilan",
    100: "seratus", 101: "seratus satu", 111: "seratus sebelas", 1000: "seribu",
}


@pytest.mark.parametrize(("n", "words"), sorted(WORDS.items()))
def test_numbers_read_as_words(n, words):
    number = f"A{n:03d}"
    assert sentence(number, "Loket 3", "KTP", DisplaySettings()) == \
        f"Nomor antrean A {words}, silakan menuju loket tiga."


def test_digit_by_digit_and_two_letter_prefixes():
    assert spoken_number("A012", "digits") == "A nol satu dua"
    assert spoken_number("TL105", "words") == "T L seratus lima"
    assert spoken_number("TL105", "digits") == "T L satu nol lima"


def test_phrasing_is_configurable():
    settings = DisplaySettings(phrase="Antrean {number} untuk {service}, ke {counter}.", read_numbers="digits")
    assert sentence("B007", "Loket 12", "Kartu Keluarga", settings) == \
        "Antrean B nol nol tujuh untuk Kartu Keluarga, ke loket dua belas."


def test_phrase_with_unknown_fields_is_refused():
    from kiosk.hall.config import ConfigError
    from kiosk.hall.parse import parse_hall
    from tests.conftest import hall_dict
    with pytest.raises(ConfigError, match=r"\[display\], key 'phrase': may use only"):
        parse_hall(hall_dict(display={"phrase": "Nomor {nomor}"}))


async def test_espeak_speaks_only_known_sentences_and_caches_them(tmp_path):
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng not installed: the display falls back to the browser's voice")
    speech = Speech(tmp_path)
    text = sentence("A012", "Loket 3", "KTP", DisplaySettings())
    assert await speech.audio(speech.key(text)) is None, "a sentence the server never announced is refused"
    key = speech.register(text)
    path = await speech.audio(key)
    with wave.open(str(path)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert 1.5 < seconds < 10
    mtime = path.stat().st_mtime_ns
    assert await speech.audio(key) == path and path.stat().st_mtime_ns == mtime, "cached per sentence"


async def test_without_espeak_the_display_uses_the_browser(tmp_path):
    speech = Speech(tmp_path, binary="")
    key = speech.register("Nomor antrean A satu, silakan menuju loket satu.")
    assert not speech.available and await speech.audio(key) is None
