"""Server settings: read once from command-line flags and GILIRAN_* environment variables."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from kiosk.hall.config import DEMO_HALL

DEFAULT_DB = Path("var") / "giliran.sqlite3"
DEFAULT_VAR = Path("var")
DB_URL_SCHEMES = ("postgresql://", "postgres://")


def database_location(text: str | Path) -> str | Path:
    """What --db / GILIRAN_DB names: a PostgreSQL URL (kept as text), or an SQLite file (a path,
    optionally written `sqlite:PATH`)."""
    if isinstance(text, Path):
        return text
    if text.startswith(DB_URL_SCHEMES):
        return text
    return Path(text.removeprefix("sqlite://").removeprefix("sqlite:"))


# What the Bot API accepts (setWebhook): a secret token of 1-256 of these characters, and webhooks
# only over HTTPS on these ports.
TELEGRAM_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
TELEGRAM_WEBHOOK_PORTS = (443, 80, 88, 8443)


def webhook_url_problem(url: str) -> str | None:
    """Why Telegram would refuse this webhook URL (HTTPS on port 443, 80, 88 or 8443), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return f"'{url}' is not a URL"
    if parts.scheme != "https":
        return f"Telegram sends webhooks only over HTTPS; '{url}' is not https://"
    if port not in TELEGRAM_WEBHOOK_PORTS:
        return f"Telegram sends webhooks only to ports 443, 80, 88 or 8443, not {port}"
    return None


class SettingsError(Exception):
    """A setting with a wrong value; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Where the hall file and database are, and where to listen."""

    config: Path = DEMO_HALL
    db: str | Path = DEFAULT_DB  # an SQLite file, or a postgresql:// URL (see docs/postgres.md)
    hall: str | None = None  # which hall in a shared database (else the hall file's [hall] id)
    var: Path | None = None  # data files (speech, print previews); default: beside an SQLite file, else var/
    host: str = "127.0.0.1"
    port: int = 8080
    log_level: str = "INFO"
    telegram_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_mode: str = "polling"
    telegram_secret: str | None = None
    kiosk_keys: dict[str, str] = field(default_factory=dict)  # kiosk id -> the key only that kiosk sends

    def __post_init__(self) -> None:
        object.__setattr__(self, "db", database_location(self.db))

    @property
    def data_dir(self) -> Path:
        """Where the server keeps its files: GILIRAN_VAR, else the SQLite file's folder, else var/."""
        if self.var is not None:
            return self.var
        return self.db.parent if isinstance(self.db, Path) else DEFAULT_VAR

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **flags: object) -> Settings:
        """Flags win over environment variables, which win over the defaults."""
        env = os.environ if env is None else env

        def pick(name: str, default: object) -> object:
            flag = flags.get(name)
            if flag is not None:
                return flag
            return env.get(f"GILIRAN_{name.upper()}", default)

        port_text = pick("port", cls.port)
        try:
            port = int(str(port_text))
            if not 0 <= port <= 65535:
                raise ValueError
        except ValueError:
            raise SettingsError(f"GILIRAN_PORT / --port: '{port_text}' is not a port number") from None
        level = str(pick("log_level", cls.log_level)).upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError(f"GILIRAN_LOG_LEVEL: '{level}' is not DEBUG, INFO, WARNING or ERROR")
        mode = env.get("GILIRAN_TELEGRAM_MODE", cls.telegram_mode).lower()
        if mode not in ("polling", "webhook"):
            raise SettingsError(f"GILIRAN_TELEGRAM_MODE: '{mode}' is not 'polling' or 'webhook'")
        token = env.get("GILIRAN_TELEGRAM_TOKEN") or None
        secret = env.get("GILIRAN_TELEGRAM_SECRET") or None
        if token and mode == "webhook" and not secret:
            raise SettingsError("GILIRAN_TELEGRAM_SECRET is needed in webhook mode (Telegram sends it back in "
                                "X-Telegram-Bot-Api-Secret-Token)")
        if secret is not None and not TELEGRAM_SECRET.match(secret):
            raise SettingsError("GILIRAN_TELEGRAM_SECRET must be 1-256 characters of A-Z, a-z, 0-9, '_' and '-' "
                                "(what Telegram accepts as a webhook secret token)")
        hall = pick("hall", None)
        var = pick("var", None)
        return cls(config=Path(str(pick("config", cls.config))), db=database_location(str(pick("db", cls.db))),
                   hall=str(hall) if hall else None, var=Path(str(var)) if var else None,
                   kiosk_keys=_kiosk_keys(env.get("GILIRAN_KIOSK_KEYS", "")),
                   host=str(pick("host", cls.host)), port=port, log_level=level, telegram_token=token,
                   telegram_api_url=env.get("GILIRAN_TELEGRAM_API_URL", cls.telegram_api_url).rstrip("/"),
                   telegram_mode=mode, telegram_secret=secret)


def _kiosk_keys(text: str) -> dict[str, str]:
    """GILIRAN_KIOSK_KEYS="K1:long-random-key,K2:another": a kiosk that sends its key in X-Kiosk-Key
    (the kiosk page reads it from `#key=` in its address) is the only one that prints as that kiosk."""
    keys: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        kiosk, sep, key = item.partition(":")
        if not sep or not kiosk.strip() or len(key.strip()) < 16:
            raise SettingsError("GILIRAN_KIOSK_KEYS: write KIOSK:KEY pairs separated by commas, each key at least "
                                "16 characters (e.g. K1:" + "x" * 16 + ")")
        keys[kiosk.strip()] = key.strip()
    return keys
