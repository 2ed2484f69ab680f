"""Indonesian mobile numbers in every form citizens write them, and clear refusals."""

from __future__ import annotations

import pytest

from kiosk.queue.errors import Unprocessable
from kiosk.queue.phone import normalise_phone


@pytest.mark.parametrize("written", [
    "081234567890", "0812-3456-7890", "0812 3456 7890", "+6281234567890", "+62 812 3456 7890",
    "6281234567890", "62 812-3456-7890", " 0812.3456.7890 ",
])
def test_accepted_forms(written):
    assert normalise_phone(written) == "+6281234567890"


def test_other_operators_and_lengths():
    assert normalise_phone("0857 1234 5678") == "+6285712345678"
    assert normalise_phone("0811-234-567") == "+62811234567"


@pytest.mark.parametrize("written", [
    "021 555 1234",        # a Jakarta landline: no SMS
    "12345", "0812", "", "abc", "+65 8123 4567",  # too short, not a number, Singapore
    "08123456789012345",   # too long
])
def test_refusals(written):
    with pytest.raises(Unprocessable) as info:
        normalise_phone(written)
    assert info.value.code == "invalid_phone" and "Nomor HP tidak valid" in info.value.message
