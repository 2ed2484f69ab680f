"""Staff accounts and their login sessions."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from kiosk.queue.models import User
from kiosk.storage.sqlite.sql import Sql


class StaffSql(Sql):
    """The users and sessions tables."""

    @staticmethod
    def _user(row: sqlite3.Row) -> User:
        return User(id=row["id"], username=row["username"], role=row["role"],
                    counters=tuple(json.loads(row["counters"])), disabled=bool(row["disabled"]),
                    password_hash=row["password_hash"], agencies=tuple(json.loads(row["agencies"])))

    async def add_user(self, username: str, password_hash: str, role: str, counters: Iterable[str],
                       at: float, agencies: Iterable[str] = ()) -> User:
        """Create a staff account (a supervisor may be limited to some agencies' reports)."""
        row = await self._one(
            "INSERT INTO users (username, password_hash, role, counters, created_at, agencies) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
            (username, password_hash, role, json.dumps(list(counters)), at, json.dumps(list(agencies))))
        assert row is not None
        return self._user(row)

    async def user_by_name(self, username: str) -> User | None:
        """The account with this username (case-insensitive)."""
        row = await self._one("SELECT * FROM users WHERE username = ?", (username,))
        return self._user(row) if row else None

    async def users(self) -> list[User]:
        """All accounts."""
        return [self._user(r) for r in await self._all("SELECT * FROM users ORDER BY username")]

    async def set_password(self, user_id: int, password_hash: str) -> None:
        """Replace a password hash (and end the user's sessions)."""
        await self.conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))
        await self.conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))

    async def set_disabled(self, user_id: int, disabled: bool) -> None:
        """Switch an account off (its sessions end) or on again."""
        await self.conn.execute("UPDATE users SET disabled = ? WHERE id = ?", (int(disabled), user_id))
        if disabled:
            await self.conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))

    async def add_session(self, token_hash: str, user_id: int, at: float, expires_at: float) -> None:
        """Start a login session."""
        await self.conn.execute("DELETE FROM sessions WHERE expires_at < ?", (at,))
        await self.conn.execute(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
            (token_hash, user_id, at, expires_at))

    async def session_user(self, token_hash: str, now: float) -> User | None:
        """The enabled user behind a live session."""
        row = await self._one(
            """SELECT users.* FROM sessions JOIN users ON users.id = sessions.user_id
               WHERE sessions.token_hash = ? AND sessions.expires_at > ? AND users.disabled = 0""",
            (token_hash, now))
        return self._user(row) if row else None

    async def end_session(self, token_hash: str) -> None:
        """Log a session out."""
        await self.conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))
