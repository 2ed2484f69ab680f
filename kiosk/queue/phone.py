"""Indonesian mobile numbers, normalised to E.164 with the phonenumbers library."""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType

from kiosk.queue.errors import Unprocessable

MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def normalise_phone(text: str) -> str:
    """'0812-3456-7890', '+62 812...', '62812...' -> '+6281234567890'; 422 `invalid_phone` otherwise."""
    raw = text.strip()
    digits = "".join(ch for ch in raw if ch.isdigit())
    if digits.startswith("62") and not raw.startswith("+"):
        raw = "+" + digits
    try:
        number = phonenumbers.parse(raw, "ID")
    except phonenumbers.NumberParseException:
        number = None
    national = str(number.national_number) if number else ""
    if (number is None or number.country_code != 62 or not national.startswith("8")
            or not 9 <= len(national) <= 12 or not phonenumbers.is_valid_number(number)
            or phonenumbers.number_type(number) not in MOBILE_TYPES):
        raise Unprocessable(
            "Nomor HP tidak valid. Tulis nomor ponsel Indonesia, misalnya 0812 3456 7890.",
            code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
