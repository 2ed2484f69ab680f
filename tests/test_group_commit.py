"""The store's group commit: transactions share a COMMIT, yet each stands or falls alone."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from contextlib import closing

import pytest

from kiosk.queue.errors import Unavailable
from kiosk.storage.sqlite.store import SqliteStore as Store

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
async def store(tmp_path):
    s = Store(tmp_path / "g.sqlite3")
    await s.open()
    yield s
    await s.close()


async def _insert(store: Store, value: str, fail: bool = False) -> None:
    async with store.transaction() as q:
        await q.set_setting(f"k{value}", value, 0.0, None)
        if fail:
            raise RuntimeError("this one changes its mind")


async def test_a_failing_transaction_in_a_batch_undoes_only_itself(store):
    results = await asyncio.gather(*(_insert(store, str(i), fail=i == 7) for i in range(20)),
                                   return_exceptions=True)
    assert [i for i, r in enumerate(results) if isinstance(r, Exception)] == [7]
    for i in range(20):
        assert (await store.reads.setting(f"k{i}")) == (None if i == 7 else str(i))


async def test_returning_means_committed(store, tmp_path):
    await asyncio.gather(*(_insert(store, str(i)) for i in range(50)))
    # A second connection (another process would see the same) finds every one of them.
    import sqlite3
    with sqlite3.connect(tmp_path / "g.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM settings WHERE key LIKE 'k%'").fetchone()[0] == 50


async def test_a_full_disk_fails_every_caller_of_the_batch_and_keeps_nothing(store):
    await _insert(store, "before")
    async with store._writer.execute("PRAGMA page_count") as cur:
        pages = (await cur.fetchone())[0]
    await store._writer.execute(f"PRAGMA max_page_count = {pages}")
    big = "x" * 20000  # needs new pages: SQLite answers "database or disk is full"

    async def write(i: int) -> None:
        async with store.transaction() as q:
            await q.set_setting(f"big{i}", big, 0.0, None)

    results = await asyncio.gather(*(write(i) for i in range(5)), return_exceptions=True)
    assert all(isinstance(r, Unavailable) for r in results), results
    await store._writer.execute("PRAGMA max_page_count = 1000000")
    for i in range(5):
        assert await store.reads.setting(f"big{i}") is None
    await _insert(store, "after")
    assert await store.reads.setting("kafter") == "after"


async def test_a_caller_cancelled_while_queued_does_not_strand_the_batch(store):
    first = asyncio.create_task(_insert(store, "a"))
    queued = asyncio.create_task(_insert(store, "b"))
    await asyncio.sleep(0)
    queued.cancel()
    await asyncio.wait_for(first, 5)
    assert await store.reads.setting("ka") == "a"


async def test_checkpoints_run_beside_the_writer(tmp_path, monkeypatch):
    # The writer leaves small WALs alone (its own checkpoints are only a safety net); the store's
    # checkpointer copies committed pages into the database file itself within moments.
    monkeypatch.setattr("kiosk.storage.sqlite.store.CHECKPOINT_S", 0.1)
    store = Store(tmp_path / "c.sqlite3")
    await store.open()
    try:
        await asyncio.gather(*(_insert(store, str(i)) for i in range(300)))
        rows = 0
        async with asyncio.timeout(5):
            while rows < 300:
                await asyncio.sleep(0.1)
                # The database file alone, without its WAL: only checkpointed pages are in it.
                shutil.copyfile(tmp_path / "c.sqlite3", tmp_path / "alone.sqlite3")
                try:
                    with closing(sqlite3.connect(tmp_path / "alone.sqlite3")) as conn:
                        rows = conn.execute("SELECT COUNT(*) FROM settings WHERE key LIKE 'k%'").fetchone()[0]
                except sqlite3.DatabaseError:  # copied while being written: look again
                    rows = 0
        assert (tmp_path / "c.sqlite3-wal").exists(), "the WAL stays (SQLite starts it over)"
    finally:
        await store.close()
