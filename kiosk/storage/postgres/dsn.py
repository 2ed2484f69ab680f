"""Where a hall's data is in PostgreSQL: the server's URL, the hall, and the hall's schema."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from kiosk.hall.config import DEFAULT_HALL_ID, HALL_ID

SCHEMES = ("postgresql://", "postgres://")
SCHEMA_PREFIX = "hall_"


def is_postgres(db: object) -> bool:
    """Whether a --db value names a PostgreSQL database."""
    return isinstance(db, str) and db.startswith(SCHEMES)


def schema_of(hall: str) -> str:
    """The schema holding a hall's tables ('mpp-purwakarta' -> hall_mpp_purwakarta)."""
    return SCHEMA_PREFIX + hall.replace("-", "_")


def lock_key(*parts: str) -> int:
    """A 64-bit advisory lock key for a name (stable across processes and versions)."""
    digest = hashlib.sha256("/".join(("giliran", *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True)
class Location:
    """A hall's data in a PostgreSQL database."""

    dsn: str  # for asyncpg (without Giliran's own parameters)
    hall: str
    pool: int = 10  # the most connections of this process's pool (`?pool=N` in the URL)

    @property
    def schema(self) -> str:
        """The hall's schema."""
        return schema_of(self.hall)

    @property
    def shown(self) -> str:
        """The URL for log lines: no password."""
        parts = urlsplit(self.dsn)
        host = parts.hostname or ""
        netloc = f"{parts.username + '@' if parts.username else ''}{host}{':' + str(parts.port) if parts.port else ''}"
        return f"{urlunsplit((parts.scheme, netloc, parts.path, '', ''))} (hall {self.hall})"

    @property
    def channel(self) -> str:
        """The LISTEN/NOTIFY channel of the hall's processes."""
        return f"giliran_{self.schema}"


def hall_in_url(db: str) -> str | None:
    """The hall a URL names with `?hall=ID`, if any."""
    return dict(parse_qsl(urlsplit(db).query)).get("hall") or None


def locate(db: str, hall: str | None = None) -> Location:
    """Split a URL into the server's and the hall: `?hall=` in the URL, else `hall`, else the default
    hall. Raises ValueError for a bad hall id or two different ones."""
    parts = urlsplit(db)
    query = parse_qsl(parts.query, keep_blank_values=True)
    named = [v for k, v in query if k == "hall"]
    if named and hall and named[-1] != hall:
        raise ValueError(f"the database URL names hall '{named[-1]}' but the hall is '{hall}'")
    chosen = (named[-1] if named else None) or hall or DEFAULT_HALL_ID
    if not HALL_ID.match(chosen):
        raise ValueError(f"hall id '{chosen}' must be lower-case letters, digits and '-' (at most 40)")
    pools = [v for k, v in query if k == "pool"]
    if pools and not (pools[-1].isdigit() and 1 <= int(pools[-1]) <= 100):
        raise ValueError(f"pool={pools[-1]}: the pool size must be a number from 1 to 100")
    rest = urlencode([(k, v) for k, v in query if k not in ("hall", "pool")])
    return Location(dsn=urlunsplit((parts.scheme, parts.netloc, parts.path, rest, parts.fragment)), hall=chosen,
                    pool=int(pools[-1]) if pools else 10)
