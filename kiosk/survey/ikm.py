"""The regulation's arithmetic (PermenPAN-RB 14/2017), exactly, on whole sums:

    NRR_i = (sum of the values given to element i) / (respondents who answered element i)
    IKM   = (sum over the nine elements of NRR_i x 1/9) x 25          (25.00 .. 100.00)

The weight is the exact 1/9 (the regulation prints 0,111, its rounding: with 0,111 all answers 4
would give 99.90). Everything is computed with fractions and rounded once, half up, to two
decimals; the grade is read from that rounded IKM:

    D  25.00-64.99 Tidak Baik · C 65.00-76.60 Kurang Baik · B 76.61-88.30 Baik · A 88.31-100.00 Sangat Baik

The sample size for a population is Krejcie and Morgan's (1970), which the regulation's guidance
names: s = X^2 N P(1-P) / (d^2 (N-1) + X^2 P(1-P)), X^2 = 3.841, P = 0.5, d = 0.05, rounded to the
nearest whole number (this reproduces every row of their table).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from kiosk.hall.survey import CODES

WEIGHT = Fraction(1, 9)
GRADES = (  # (lowest IKM of the grade, grade, mutu pelayanan / kinerja unit)
    (Decimal("88.31"), "A", "Sangat Baik"),
    (Decimal("76.61"), "B", "Baik"),
    (Decimal("65.00"), "C", "Kurang Baik"),
    (Decimal("25.00"), "D", "Tidak Baik"),
)
HUNDREDTH = Decimal("0.01")


def round2(value: Fraction) -> Decimal:
    """A fraction rounded half up to two decimals, in whole numbers (as units publish)."""
    scaled = value * 100
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    if 2 * rest >= scaled.denominator:
        whole += 1
    return Decimal(whole).scaleb(-2).quantize(HUNDREDTH)


def grade(ikm: Decimal) -> tuple[str, str]:
    """(grade, mutu) of an IKM already rounded to two decimals."""
    for lowest, letter, mutu in GRADES:
        if ikm >= lowest:
            return letter, mutu
    return "D", "Tidak Baik"


@dataclass(frozen=True)
class Tally:
    """The sums of a group of responses: per element the sum of values and how many answered it, and
    per element how many gave each value 1-4."""

    responses: int
    sums: Mapping[str, int]
    counts: Mapping[str, int]

    def nrr(self, code: str) -> Fraction | None:
        """The element's NRR (None when nobody answered it)."""
        n = self.counts.get(code, 0)
        return Fraction(self.sums.get(code, 0), n) if n else None

    def ikm(self) -> Fraction | None:
        """The IKM as an exact fraction (None unless every element has at least one answer)."""
        nrrs = [self.nrr(code) for code in CODES]
        if any(v is None for v in nrrs):
            return None
        return sum((v * WEIGHT for v in nrrs if v is not None), Fraction(0)) * 25


@dataclass(frozen=True)
class Index:
    """What a row of results shows."""

    responses: int
    nrr: dict[str, float | None]  # per element, 2 decimals (as published)
    weighted: dict[str, float | None]  # NRR x 1/9, 3 decimals
    ikm: float | None  # 2 decimals
    grade: str | None
    mutu: str | None


def index_of(tally: Tally) -> Index:
    """NRR per element, weighted NRR, IKM, grade and mutu of a group."""
    nrr: dict[str, float | None] = {}
    weighted: dict[str, float | None] = {}
    for code in CODES:
        value = tally.nrr(code)
        nrr[code] = float(round2(value)) if value is not None else None
        weighted[code] = float(_round3(value * WEIGHT)) if value is not None else None
    exact = tally.ikm()
    if exact is None:
        return Index(tally.responses, nrr, weighted, None, None, None)
    ikm = round2(exact)
    letter, mutu = grade(ikm)
    return Index(tally.responses, nrr, weighted, float(ikm), letter, mutu)


def _round3(value: Fraction) -> Decimal:
    scaled = value * 1000
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    if 2 * rest >= scaled.denominator:
        whole += 1
    return Decimal(whole).scaleb(-3)


def tally_of(answers: Sequence[Mapping[str, int | None]]) -> Tally:
    """The tally of individual responses (tests and small lists; reports sum in SQL)."""
    sums = dict.fromkeys(CODES, 0)
    counts = dict.fromkeys(CODES, 0)
    for response in answers:
        for code in CODES:
            value = response.get(code)
            if value is not None:
                sums[code] += value
                counts[code] += 1
    return Tally(len(answers), sums, counts)


CHI2 = Fraction(3841, 1000)
P = Fraction(1, 2)
D = Fraction(5, 100)


def krejcie_morgan(population: int) -> int:
    """The sample a population of `population` needs (95% confidence, 5% margin)."""
    if population <= 0:
        return 0
    s = CHI2 * population * P * (1 - P) / (D * D * (population - 1) + CHI2 * P * (1 - P))
    whole, rest = divmod(s.numerator, s.denominator)
    return whole + (1 if 2 * rest >= s.denominator else 0)
