"""The hall's `[survey]` section: the satisfaction survey (SKM, PermenPAN-RB 14/2017) as citizens
see it. Admins may adjust the wording of the nine questions and their four answer labels and how
long a survey stays open; the elements themselves, their order, the 1-4 scale and the arithmetic
(kiosk/survey/ikm.py) are the regulation's and cannot be changed here.

```toml
[survey]
enabled = true
open_minutes = 0          # 0: until the end of the ticket's day; otherwise minutes after it was served
tablet_seconds = 180      # how long the counter tablet offers the survey of the ticket just served
complaints = "Meja pengaduan di lantai 1"   # the unit's own complaint channel (optional)
[survey.questions]
U1 = "Bagaimana pendapat Saudara tentang kesesuaian persyaratan pelayanan dengan jenis pelayanannya?"
[survey.answers]
U1 = ["Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"]
```
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Element:
    """One element (unsur) of the questionnaire: its U-code in questionnaire order, a stable key,
    its name in the regulation, the question and the four answers from worst (1) to best (4)."""

    code: str
    key: str
    name: str
    question: str
    answers: tuple[str, str, str, str]


# The Lampiran's questionnaire, in its order (Q8 facilities, Q9 complaints: see docs/survey.md).
ELEMENTS: tuple[Element, ...] = (
    Element("U1", "persyaratan", "Persyaratan",
            "Bagaimana pendapat Saudara tentang kesesuaian persyaratan pelayanan dengan jenis pelayanannya?",
            ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai")),
    Element("U2", "prosedur", "Sistem, mekanisme, dan prosedur",
            "Bagaimana pemahaman Saudara tentang kemudahan prosedur pelayanan di unit ini?",
            ("Tidak mudah", "Kurang mudah", "Mudah", "Sangat mudah")),
    Element("U3", "waktu", "Waktu penyelesaian",
            "Bagaimana pendapat Saudara tentang kecepatan waktu dalam memberikan pelayanan?",
            ("Tidak cepat", "Kurang cepat", "Cepat", "Sangat cepat")),
    Element("U4", "biaya", "Biaya/tarif",
            "Bagaimana pendapat Saudara tentang kewajaran biaya/tarif dalam pelayanan?",
            ("Sangat mahal", "Cukup mahal", "Murah", "Gratis")),
    Element("U5", "produk", "Produk spesifikasi jenis pelayanan",
            "Bagaimana pendapat Saudara tentang kesesuaian produk pelayanan antara yang tercantum dalam standar "
            "pelayanan dengan hasil yang diberikan?",
            ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai")),
    Element("U6", "kompetensi", "Kompetensi pelaksana",
            "Bagaimana pendapat Saudara tentang kompetensi/kemampuan petugas dalam pelayanan?",
            ("Tidak kompeten", "Kurang kompeten", "Kompeten", "Sangat kompeten")),
    Element("U7", "perilaku", "Perilaku pelaksana",
            "Bagaimana pendapat Saudara tentang perilaku petugas dalam pelayanan terkait kesopanan dan keramahan?",
            ("Tidak sopan dan ramah", "Kurang sopan dan ramah", "Sopan dan ramah", "Sangat sopan dan ramah")),
    Element("U8", "sarana", "Sarana dan prasarana",
            "Bagaimana pendapat Saudara tentang kualitas sarana dan prasarana?",
            ("Buruk", "Cukup", "Baik", "Sangat baik")),
    Element("U9", "pengaduan", "Penanganan pengaduan, saran dan masukan",
            "Bagaimana pendapat Saudara tentang penanganan pengaduan pengguna layanan?",
            ("Tidak ada", "Ada tetapi tidak berfungsi", "Berfungsi kurang maksimal", "Dikelola dengan baik")),
)
CODES = tuple(e.code for e in ELEMENTS)

# The respondent profile of the regulation's form (all optional).
GENDERS = {"L": "Laki-laki", "P": "Perempuan"}
EDUCATION = ("SD", "SMP", "SMA", "D1-D3", "D4/S1", "S2", "S3")
OCCUPATIONS = ("PNS", "TNI", "POLRI", "Swasta", "Wirausaha", "Pelajar/Mahasiswa", "Lainnya")


@dataclass(frozen=True)
class SurveySettings:
    """The checked `[survey]` section."""

    enabled: bool = True
    open_minutes: int = 0  # 0: until the end of the ticket's day
    tablet_seconds: int = 180
    complaints: str = ""
    elements: tuple[Element, ...] = field(default=ELEMENTS)

    def element(self, code: str) -> Element | None:
        """An element by its U-code."""
        return next((e for e in self.elements if e.code == code), None)
