"""Staff accounts: argon2 password hashes, bearer session tokens, login throttling."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kiosk.hall.config import HallConfig
from kiosk.queue.clock import Clock
from kiosk.queue.errors import BadRequest, Forbidden, NotFound, TooManyRequests, Unauthorized, Unprocessable
from kiosk.queue.models import ROLES, User
from kiosk.storage.base import Store
from kiosk.support.ratelimit import RateLimiter

SESSION_SECONDS = 12 * 3600
MIN_PASSWORD = 8
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("giliran-dummy-password")


def hash_password(password: str) -> str:
    """An argon2id hash of a password."""
    return _hasher.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    """Whether a password fits its stored hash."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


USERNAME = re.compile(r"^[a-z0-9._-]{1,64}$")


def normalise_username(username: str) -> str:
    """A user name as it is compared: NFKC (full-width letters become plain ones) and lower case."""
    return unicodedata.normalize("NFKC", username).strip().lower()


def check_new_user(username: str, role: str, counters: Iterable[str], password: str, config: HallConfig,
                   agencies: Iterable[str] = ()) -> None:
    """Refuse a bad new account with an Indonesian message."""
    if not USERNAME.match(normalise_username(username)):
        # Plain letters only: a look-alike from another script ("\u0430dmin") cannot pose as "admin".
        raise Unprocessable("Nama pengguna hanya boleh huruf a-z, angka, titik, '-' atau '_' (paling banyak 64).",
                            code="invalid_username")
    if role not in ROLES:
        raise Unprocessable(f"Peran harus salah satu dari: {', '.join(ROLES)}.", code="invalid_role")
    counters = list(counters)
    for counter_id in counters:
        if config.counter(counter_id) is None:
            raise Unprocessable(f"Loket '{counter_id}' tidak ada di berkas aula.", code="unknown_counter")
    if len(password) < MIN_PASSWORD:
        raise Unprocessable(f"Kata sandi minimal {MIN_PASSWORD} karakter.", code="weak_password")
    if role == "officer" and not counters:
        raise Unprocessable("Petugas loket perlu minimal satu loket (misalnya --counters 1,2).",
                            code="counters_needed")
    check_agencies(role, agencies, config)


def check_agencies(role: str, agencies: Iterable[str], config: HallConfig) -> None:
    """Only a supervisor may be limited to some agencies, and only to agencies of the hall."""
    agencies = list(agencies)
    if agencies and role != "supervisor":
        raise Unprocessable("Pembatasan instansi hanya untuk supervisor.", code="agencies_not_allowed")
    for code in agencies:
        if config.agency(code) is None:
            raise Unprocessable(f"Instansi '{code}' tidak ada di berkas aula.", code="unknown_agency")


class StaffAuth:
    """Logs staff in and finds the user behind a bearer token."""

    def __init__(self, store: Store, config: HallConfig, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._failures = RateLimiter(*self._failure_rate(config), clock.now, store.buckets, "login")

    @staticmethod
    def _failure_rate(config: HallConfig) -> tuple[float, int]:
        limits = config.limits
        return limits.login_failures * 60.0 / limits.login_window_s, limits.login_failures

    def configure(self, config: HallConfig) -> None:
        """Follow changed login limits."""
        self._failures.configure(*self._failure_rate(config))

    async def add_user(self, username: str, password: str, role: str, counters: Iterable[str],
                       config: HallConfig, agencies: Iterable[str] = ()) -> User:
        """Create an account with a hashed password (a supervisor may be limited to some agencies)."""
        counters = list(counters)
        agencies = list(dict.fromkeys(agencies))
        check_new_user(username, role, counters, password, config, agencies)
        username = unicodedata.normalize("NFKC", username).strip()
        password_hash = await asyncio.to_thread(hash_password, password)
        async with self.store.transaction() as q:
            if await q.user_by_name(username):
                raise Unprocessable(f"Pengguna '{username}' sudah ada.", code="user_exists")
            return await q.add_user(username, password_hash, role, counters, self.clock.now(), agencies)

    async def reset_password(self, username: str, password: str, actor: str) -> User:
        """Admin: give an account a new password (its sessions end)."""
        if len(password) < MIN_PASSWORD:
            raise Unprocessable(f"Kata sandi minimal {MIN_PASSWORD} karakter.", code="weak_password")
        user = await self._existing(username)
        password_hash = await asyncio.to_thread(hash_password, password)
        async with self.store.transaction() as q:
            await q.set_password(user.id, password_hash)
            await q.audit(at=self.clock.now(), username=actor, action="reset_password", detail=user.username)
        return user

    async def set_disabled(self, username: str, disabled: bool, actor: str) -> User:
        """Admin: switch an account off or on."""
        user = await self._existing(username)
        if disabled and user.username.lower() == actor.lower():
            raise Unprocessable("Anda tidak bisa menonaktifkan akun sendiri.", code="self_disable")
        async with self.store.transaction() as q:
            await q.set_disabled(user.id, disabled)
            await q.audit(at=self.clock.now(), username=actor, action="disable" if disabled else "enable",
                          detail=user.username)
        return user

    async def _existing(self, username: str) -> User:
        user = await self.store.reads.user_by_name(normalise_username(username))
        if user is None:
            raise NotFound(f"Pengguna '{username}' tidak ada.", code="unknown_user")
        return user

    async def login(self, username: str, password: str, client: str) -> tuple[str, User]:
        """A new session token for right credentials; 401 or 429 otherwise."""
        if not isinstance(username, str) or not isinstance(password, str) or not username:
            raise BadRequest("Isi nama pengguna dan kata sandi.")
        # Failures count per (user, address) and per address: someone guessing from one place is
        # slowed there, and cannot lock the real user out of their account from another place.
        keys = (f"user:{normalise_username(username)}@{client}", f"addr:{client}")
        waits = [await self._failures.wait(k) for k in keys]
        if max(waits) > 0:
            raise TooManyRequests("Terlalu banyak percobaan masuk yang gagal. Coba lagi nanti.", max(waits),
                                  code="too_many_attempts")
        user = await self.store.reads.user_by_name(normalise_username(username))
        stored = user.password_hash if user else _DUMMY_HASH
        ok = await asyncio.to_thread(password_matches, stored, password)
        if not ok or user is None or user.disabled:
            for key in keys:
                try:
                    await self._failures.check(key, "")
                except TooManyRequests:
                    pass
            raise Unauthorized("Nama pengguna atau kata sandi salah.", code="invalid_credentials")
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        async with self.store.transaction() as q:
            await q.add_session(token_digest(token), user.id, now, now + SESSION_SECONDS)
            await q.audit(at=now, username=user.username, action="login", detail=client)
        return token, user

    async def user_for(self, token: str | None) -> User:
        """The user behind a bearer token; 401 when there is none."""
        if not token:
            raise Unauthorized("Silakan masuk (login) terlebih dahulu.")
        user = await self.store.reads.session_user(token_digest(token), self.clock.now())
        if user is None:
            raise Unauthorized("Sesi tidak berlaku atau sudah habis; silakan masuk lagi.")
        return user

    async def logout(self, token: str) -> None:
        """End a session."""
        async with self.store.transaction() as q:
            await q.end_session(token_digest(token))


def require_role(user: User, roles: Iterable[str]) -> None:
    """403 unless the user has one of the roles."""
    if user.role not in tuple(roles):
        raise Forbidden("Peran Anda tidak diizinkan melakukan ini.")


def require_counter(user: User, counter_id: str) -> None:
    """403 unless the user may work that counter."""
    if not user.may_work(counter_id):
        raise Forbidden(f"Anda tidak ditugaskan di loket {counter_id}.", code="forbidden_counter")
