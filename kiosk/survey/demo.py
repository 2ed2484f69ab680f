"""Survey responses for the demo history (`giliran demo-history`): about a third of the citizens
served answer, with plausible answers per element, so the IKM page of a demo hall has figures.
Drawn from a generator of their own (seeded by the day), so the tickets of a seed never change."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date
from typing import Any

from kiosk.hall.config import HallConfig
from kiosk.hall.survey import CODES
from kiosk.storage.base import Queries

ANSWER_SHARE = 0.35
BASE = {"U1": 3.2, "U2": 3.1, "U3": 2.8, "U4": 3.7, "U5": 3.2, "U6": 3.3, "U7": 3.4, "U8": 3.0, "U9": 2.9}
COMMENTS = ("Petugas ramah dan cepat.", "Ruang tunggu panas, mohon tambah kipas angin.",
            "Mohon tambah kursi untuk lansia.", "Informasi persyaratan di website kurang jelas.",
            "Antrean lebih tertib dengan nomor di HP.", "Toilet perlu lebih sering dibersihkan.")


async def write_demo_responses(q: Queries, config: HallConfig, day: date, visits: Iterable[dict[str, Any]],
                               seed: int) -> int:
    """Responses for some of the day's served visits (inside the day's transaction); how many."""
    rng = random.Random(f"skm:{seed}:{day.isoformat()}")
    written = 0
    for visit in visits:
        if visit["outcome"] != "done" or rng.random() > ANSWER_SHARE:
            continue
        mood = rng.gauss(0, 0.45)  # one citizen's overall satisfaction
        answers = {code: min(4, max(1, round(BASE[code] + mood + rng.gauss(0, 0.5)))) for code in CODES}
        service = config.service(visit["service"])
        profile = {"gender": rng.choice(("L", "P")), "age": rng.randint(18, 75), "education": None,
                   "occupation": None}
        await q.save_survey_response(
            ticket_id=visit["ticket_id"], day=day.isoformat(), service=visit["service"],
            agency=service.agency if service else "", counter_id=visit["counter_id"], officer=visit["username"],
            answers=answers, profile=profile, comment=rng.choice(COMMENTS) if rng.random() < 0.06 else None,
            channel=rng.choice(("web", "tablet", "tablet")), complete=True, at=visit["ended_at"] + 90)
        written += 1
    return written
