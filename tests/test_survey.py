"""The satisfaction survey (SKM, PermenPAN-RB 14/2017): the arithmetic on worked examples computed by
hand (docs/survey.md), the hall's [survey] section, and the rules of answering (one response per
served ticket, the open window, the counter tablet) through the API."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from kiosk.hall.config import ConfigError
from kiosk.hall.messages import indonesian
from kiosk.hall.parse import parse_hall
from kiosk.hall.survey import CODES
from kiosk.survey.ikm import WEIGHT, grade, index_of, krejcie_morgan, round2, tally_of
from tests.conftest import hall_dict

ALL = dict.fromkeys(CODES)


def answers(*values: int) -> dict[str, int]:
    return dict(zip(CODES, values, strict=True))


# --- the arithmetic -----------------------------------------------------------------------------------
def test_worked_example_four_respondents():
    """Four respondents (docs/survey.md, "A worked example"), by hand:
    U1 sums 3+4+3+2 = 12 -> NRR 3.00; U2 4+4+3+3 = 14 -> 3.50; U3 2+3+3+2 = 10 -> 2.50;
    U4 4+4+4+4 = 16 -> 4.00; U5 3+3+3+3 = 12 -> 3.00; U6 3+4+4+3 = 14 -> 3.50; U7 4+4+4+3 = 15 -> 3.75;
    U8 3+3+2+3 = 11 -> 2.75; U9 2+3+3+3 = 11 -> 2.75. Sum of NRR = 28.75 (= 115/4);
    IKM = 28.75 / 9 x 25 = 79.8611... -> 79.86, B (Baik)."""
    tally = tally_of([answers(3, 4, 2, 4, 3, 3, 4, 3, 2), answers(4, 4, 3, 4, 3, 4, 4, 3, 3),
                      answers(3, 3, 3, 4, 3, 4, 4, 2, 3), answers(2, 3, 2, 4, 3, 3, 3, 3, 3)])
    assert [tally.sums[c] for c in CODES] == [12, 14, 10, 16, 12, 14, 15, 11, 11]
    assert tally.ikm() == Fraction(115, 4) / 9 * 25
    index = index_of(tally)
    assert index.nrr == {"U1": 3.0, "U2": 3.5, "U3": 2.5, "U4": 4.0, "U5": 3.0, "U6": 3.5, "U7": 3.75, "U8": 2.75,
                         "U9": 2.75}
    assert index.weighted["U7"] == 0.417  # 3.75 / 9 = 0.41666...
    assert (index.ikm, index.grade, index.mutu) == (79.86, "B", "Baik")


def test_partial_answers_divide_by_those_who_answered_each_element():
    """Two respondents, the second stopped after U3: U1 (4+2)/2 = 3, U4..U9 only the first's 4.
    Sum of NRR = 3 + 3 + 3 + 6 x 4 = 33; IKM = 33/9 x 25 = 91.666... -> 91.67, A."""
    tally = tally_of([answers(4, 4, 4, 4, 4, 4, 4, 4, 4), {"U1": 2, "U2": 2, "U3": 2}])
    assert tally.counts["U1"] == 2 and tally.counts["U4"] == 1
    index = index_of(tally)
    assert (index.nrr["U1"], index.nrr["U4"]) == (3.0, 4.0)
    assert (index.ikm, index.grade) == (91.67, "A")
    assert index_of(tally_of([{"U1": 4}])).ikm is None  # an element nobody answered: no IKM


def test_the_exact_ninth_not_0111():
    """All 4 gives 100.00 with 1/9 (0.111 would give 99.90); all 1 gives 25.00."""
    assert Fraction(1, 9) == WEIGHT
    assert index_of(tally_of([answers(*[4] * 9)])).ikm == 100.0
    assert index_of(tally_of([answers(*[1] * 9)])).ikm == 25.0
    assert float(sum([Fraction(111, 1000) * 4] * 9) * 25) == pytest.approx(99.9)


@pytest.mark.parametrize(("ikm", "expected"), [
    ("25.00", ("D", "Tidak Baik")), ("64.99", ("D", "Tidak Baik")), ("65.00", ("C", "Kurang Baik")),
    ("76.60", ("C", "Kurang Baik")), ("76.61", ("B", "Baik")), ("88.30", ("B", "Baik")),
    ("88.31", ("A", "Sangat Baik")), ("100.00", ("A", "Sangat Baik"))])
def test_grade_boundaries(ikm, expected):
    assert grade(Decimal(ikm)) == expected


def test_rounding_decides_the_grade():
    """A sum of NRR of 27.57 gives 27.57/9 x 25 = 76.5833.. -> 76.58 (C); 27.58 -> 76.6111.. -> 76.61 (B).
    Built from 100 respondents so the NRR are exact hundredths."""
    def of_sum(hundredths: int) -> tuple[float | None, str | None]:
        # 100 respondents all at 3 (sum of NRR 27.00); each point moved on one answer moves it by 0.01
        rows = [answers(3, 3, 3, 3, 3, 3, 3, 3, 3) for _ in range(100)]
        extra = hundredths - 2700
        for k in range(abs(extra)):
            rows[k % 100][CODES[k // 100]] = 4 if extra > 0 else 2
        index = index_of(tally_of(rows))
        assert sum(Fraction(v) for v in [tally_of(rows).nrr(c) for c in CODES]) == Fraction(hundredths, 100)
        return index.ikm, index.grade
    assert of_sum(2757) == (76.58, "C")
    assert of_sum(2758) == (76.61, "B")
    assert of_sum(2340) == (65.0, "C")  # 23.40/9 x 25 = 65.00 exactly
    assert of_sum(2339) == (64.97, "D")
    assert of_sum(3179) == (88.31, "A")  # 31.79/9 x 25 = 88.3055.. -> 88.31
    assert of_sum(3178) == (88.28, "B")
    assert round2(Fraction(88305, 1000)) == Decimal("88.31")  # half up


def test_krejcie_morgan_table():
    table = {10: 10, 15: 14, 50: 44, 100: 80, 150: 108, 300: 169, 500: 217, 550: 226, 1000: 278, 2000: 322,
             2800: 338, 5000: 357, 9000: 368, 10000: 370, 50000: 381, 1000000: 384}
    assert {n: krejcie_morgan(n) for n in table} == table
    assert krejcie_morgan(0) == 0


# --- the hall's [survey] section -----------------------------------------------------------------
def test_survey_section_wording_and_checks():
    config = parse_hall(hall_dict(survey={"open_minutes": 120, "questions": {"U1": "Syaratnya jelas?"},
                                          "answers": {"U8": ["Jelek", "Cukup", "Bagus", "Bagus sekali"]}}))
    assert config.survey.open_minutes == 120
    assert config.survey.element("U1").question == "Syaratnya jelas?"
    assert config.survey.element("U8").answers[3] == "Bagus sekali"
    assert config.survey.element("U2").answers[0] == "Tidak mudah"
    assert parse_hall(hall_dict()).survey.open_minutes == 0
    for bad, said in [({"answers": {"U1": ["a", "b", "c"]}}, "tepat empat jawaban"),
                      ({"questions": {"U10": "?"}}, "bukan isian yang dikenal"),
                      ({"open_minutes": -1}, "harus antara 0 dan 10080"),
                      ({"weights": [1]}, "bukan isian yang dikenal")]:
        with pytest.raises(ConfigError) as err:
            parse_hall(hall_dict(survey=bad))
        assert said in indonesian(err.value), indonesian(err.value)
