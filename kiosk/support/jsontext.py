"""JSON as every answer, stream and stored event of Giliran writes it."""

from __future__ import annotations

import json

# One encoder for all: Indonesian text stays readable (no \u escapes); building a JSONEncoder per
# call is a measurable part of a ticket's cost.
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def dumps(obj: object) -> str:
    """`obj` as compact JSON text, non-ASCII characters kept as they are."""
    return _ENCODER.encode(obj)
