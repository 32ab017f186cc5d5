"""The default durable backend: SQLite in WAL mode, one file in the data directory.

Writes are queued by the event loop and committed by one writer thread in groups (every write
waiting when the thread wakes goes into one transaction), so a burst of N writes costs one fsync
rather than N, and the event loop never blocks on the disk. A write's future resolves only after
its group commit returns, which is what makes an acknowledged write durable.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY, rv INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
_Write = tuple[int, list[tuple[str, int, bytes]], list[str], asyncio.Future[None]]
_MAX_GROUP = 1000


class SqliteBackend:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.commits = 0            # group commits done (for metrics and tests)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # durable on power loss, not only on a crash
        db.executescript(_SCHEMA)
        return db

    def load(self) -> tuple[int, list[tuple[str, int, bytes]]]:
        db = self._connect()
        try:
            row = db.execute("SELECT value FROM meta WHERE name='rv'").fetchone()
            rows = db.execute("SELECT key, rv, data FROM objects").fetchall()
        finally:
            db.close()
        last = max([row[0] if row else 0] + [r[1] for r in rows])
        return last, [(k, rv, bytes(d)) for k, rv, d in rows]

    async def commit(self, rv: int, puts: list[tuple[str, int, bytes]], deletes: list[str]) -> None:
        if self._thread is None:
            self._start()
        assert self._loop is not None
        future: asyncio.Future[None] = self._loop.create_future()
        self._queue.put((rv, puts, deletes, future))
        await future

    def _start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="sqlite-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        db = self._connect()
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                group = [first]
                while len(group) < _MAX_GROUP:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        self._write(db, group)
                        return
                    group.append(nxt)
                self._write(db, group)
        finally:
            db.close()

    def _write(self, db: sqlite3.Connection, group: list[_Write]) -> None:
        error: BaseException | None = None
        try:
            db.execute("BEGIN IMMEDIATE")
            # in revision order, each run of puts or deletes as one statement: a put after a delete
            # of the same key (or the reverse) must stay after it
            for is_put, rows in _runs(group):
                if is_put:
                    db.executemany("INSERT OR REPLACE INTO objects (key, rv, data) VALUES (?, ?, ?)", rows)
                else:
                    db.executemany("DELETE FROM objects WHERE key = ?", rows)
            db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('rv', ?)", (group[-1][0],))
            db.execute("COMMIT")
            self.commits += 1
        except sqlite3.Error as exc:
            error = exc
            if db.in_transaction:
                db.execute("ROLLBACK")
        assert self._loop is not None
        self._loop.call_soon_threadsafe(_resolve, [w[3] for w in group], error)

    async def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
            self._thread = None


def _runs(group: list[_Write]) -> list[tuple[bool, list[tuple[object, ...]]]]:
    """The group's puts and deletes as (is put, rows) runs, in order."""
    runs: list[tuple[bool, list[tuple[object, ...]]]] = []
    for _rv, puts, deletes, _f in group:
        for is_put, rows in ((True, puts), (False, [(k,) for k in deletes])):
            if not rows:
                continue
            if runs and runs[-1][0] is is_put:
                runs[-1][1].extend(rows)
            else:
                runs.append((is_put, list(rows)))
    return runs


def _resolve(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
