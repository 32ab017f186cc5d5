"""The store: revisions, preconditions, history, compaction, watch ordering, SQLite durability."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from kwok.apiserver.storage import Event, Expired, PreconditionFailed, Store
from kwok.apiserver.storage.base import Done
from kwok.apiserver.storage.sqlite import SqliteBackend

R = "/configmaps"


def cm(name: str, ns: str = "default", **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data}


class Recorder:
    def __init__(self) -> None:
        self.start_rv = 0
        self.events: list[Event] = []

    def deliver(self, event: Event) -> None:
        self.events.append(event)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_revisions_preconditions_and_sorted_lists() -> None:
    async def scenario() -> None:
        store = Store()
        a = await store.create(R, cm("b"), {})
        b = await store.create(R, cm("a", "z"), {})
        c = await store.create(R, cm("a"), {})
        assert (a.rv, b.rv, c.rv) == (1, 2, 3)
        with pytest.raises(FileExistsError):
            await store.create(R, cm("a"), {})
        with pytest.raises(PreconditionFailed):
            await store.update(R, cm("a", x="1"), {}, expected_rv=1)
        updated = await store.update(R, cm("a", x="1"), {}, expected_rv=3)
        assert updated.rv == 4 and b'"resourceVersion":"4"' in updated.data
        rv, entries = store.list_entries(R)
        assert rv == 4 and [(e.namespace, e.name) for e in entries] == [("default", "a"), ("default", "b"), ("z", "a")]
        assert [e.name for e in store.list_entries(R, "z")[1]] == ["a"]
        deleted = await store.delete(R, "default", "b", None)
        assert deleted.rv == 5 and store.get(R, "default", "b") is None

    run(scenario())


def test_list_at_an_older_revision_undoes_newer_events() -> None:
    async def scenario() -> None:
        store = Store()
        await store.create(R, cm("a", v="1"), {})
        await store.create(R, cm("b"), {})
        await store.update(R, cm("a", v="2"), {}, None)
        await store.delete(R, "default", "b", None)
        await store.create(R, cm("c"), {})
        past = store.list_at(R, None, 2)
        assert [(e.name, e.rv) for e in past] == [("a", 1), ("b", 2)]
        assert b'"v":"1"' in past[0].data

    run(scenario())


def test_a_snapshot_leaves_out_writes_not_yet_durable_and_stays_fixed() -> None:
    async def scenario() -> None:
        backend = SlowBackend()
        backend.release.set()
        store = Store(backend)
        await store.create(R, cm("a", v="1"), {})
        await store.create(R, cm("b"), {})
        rv = store.rv
        backend.release.clear()
        # both writes are in the index but not yet durable
        pending = [asyncio.create_task(store.update(R, cm("a", v="2"), {}, None)),
                   asyncio.create_task(store.create(R, cm("c"), {}))]
        await asyncio.sleep(0.01)
        assert [e.name for e in store.list_entries(R)[1]] == ["a", "b", "c"]
        snapshot = store.list_at(R, None, rv)
        assert [(e.name, e.rv) for e in snapshot] == [("a", 1), ("b", 2)]
        backend.release.set()
        await asyncio.gather(*pending)
        await store.delete(R, "default", "b", None)
        assert [(e.name, e.rv) for e in store.list_at(R, None, rv)] == [("a", 1), ("b", 2)]
        assert [e.name for e in store.list_at(R, "default", store.rv)] == ["a", "c"]

    run(scenario())


def test_watch_replays_then_streams_and_compaction_expires() -> None:
    async def scenario() -> None:
        store = Store(window=3)
        for i in range(5):
            await store.create(R, cm(f"o{i}"), {})
        recorder = Recorder()
        replay = store.watch(R, 3, recorder)
        assert [e.rv for e in replay] == [4, 5]
        await store.update(R, cm("o0", x="1"), {}, None)
        assert [(e.type, e.rv) for e in recorder.events] == [("MODIFIED", 6)]
        with pytest.raises(Expired) as err:
            store.watch(R, 1, Recorder())
        assert str(err.value) == "too old resource version: 1 (4)"

    run(scenario())


def test_deleted_event_carries_final_state_with_new_revision() -> None:
    async def scenario() -> None:
        store = Store()
        await store.create(R, cm("a"), {})
        recorder = Recorder()
        store.watch(R, store.rv, recorder)
        final = cm("a", last="yes")
        await store.delete(R, "default", "a", None, final=final)
        (event,) = recorder.events
        assert event.type == "DELETED" and event.rv == 2
        assert b'"last":"yes"' in event.entry.data and b'"resourceVersion":"2"' in event.entry.data
        assert event.frame("DELETED").startswith(b'{"type":"DELETED","object":{')

    run(scenario())


class SlowBackend:
    """Durability that waits for the test to release it."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.tasks: set[asyncio.Future[None]] = set()

    def load(self) -> tuple[int, list[tuple[str, int, bytes]]]:
        return 0, []

    def submit(self, rv: int, puts: list[tuple[str, int, bytes]], deletes: list[str], done: Done) -> None:
        async def later() -> None:
            await self.release.wait()
            done(None)

        self.tasks.add(asyncio.ensure_future(later()))

    async def close(self) -> None:
        return None


async def _create_held(name: str) -> tuple[SlowBackend, Store, Recorder, asyncio.Task[object]]:
    """A store whose backend holds every write until released, a watcher on it, and the create of
    `name` under way (in the index, not yet durable)."""
    backend = SlowBackend()
    store = Store(backend)
    recorder = Recorder()
    store.watch(R, 0, recorder)
    pending: asyncio.Task[object] = asyncio.create_task(store.create(R, cm(name), {}))
    await asyncio.sleep(0.01)
    return backend, store, recorder, pending


def test_watchers_see_a_write_only_once_it_is_durable() -> None:
    async def scenario() -> None:
        backend, store, recorder, pending = await _create_held("a")
        assert store.get(R, "default", "a") is not None and recorder.events == []
        backend.release.set()
        await pending
        assert [e.type for e in recorder.events] == ["ADDED"]

    run(scenario())


def test_sqlite_groups_commits_and_reloads(tmp_path: Path) -> None:
    async def scenario() -> int:
        backend = SqliteBackend(tmp_path / "db.sqlite")
        store = Store(backend)
        store.load(lambda resource: lambda obj: {})
        await asyncio.gather(*(store.create(R, cm(f"o{i}"), {}) for i in range(300)))
        await store.delete(R, "default", "o0", None)
        await store.close()
        return backend.commits

    commits = run(scenario())
    assert commits < 300     # concurrent writes shared transactions
    store = Store(SqliteBackend(tmp_path / "db.sqlite"))
    assert store.load(lambda resource: lambda obj: {"metadata.name": obj["metadata"]["name"]}) == 299
    assert store.rv == 301
    entry = store.get(R, "default", "o5")
    assert entry is not None and entry.fields == {"metadata.name": "o5"}


def test_sqlite_reload_after_deletes_recreates_and_sweeps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deletions are tombstones swept later: a deleted object stays deleted across a restart, one
    deleted and created again in the same group comes back, and the revision of a deletion that
    was the last write is not reused after the restart."""
    import kwok.apiserver.storage.sqlite as sqlite_backend

    monkeypatch.setattr(sqlite_backend, "_SWEEP_AFTER", 3)
    monkeypatch.setattr(sqlite_backend, "_ROWS_PER_STATEMENT", 7)   # groups span several statements
    path = tmp_path / "db.sqlite"

    async def scenario() -> None:
        store = Store(SqliteBackend(path))
        store.load(lambda resource: lambda obj: {})
        await asyncio.gather(*(store.create(R, cm(f"o{i}"), {}) for i in range(40)))
        await asyncio.gather(*(store.delete(R, "default", f"o{i}", None) for i in range(10)))
        # delete and create again, concurrently, so both can land in one group
        await asyncio.gather(store.delete(R, "default", "o10", None), store.create(R, cm("o10-new"), {}))
        await store.delete(R, "default", "o11", None)
        await store.create(R, cm("o11", again="yes"), {})
        await store.delete(R, "default", "o39", None)     # the last write is a deletion
        await store.close()

    run(scenario())
    store = Store(SqliteBackend(path))
    assert store.load(lambda resource: lambda obj: {}) == 40 - 10 - 1 + 1 - 1
    assert store.rv == 40 + 10 + 2 + 2 + 1
    assert store.get(R, "default", "o3") is None and store.get(R, "default", "o39") is None
    again = store.get(R, "default", "o11")
    assert again is not None and b'"again":"yes"' in again.data
    import sqlite3
    db = sqlite3.connect(path)
    left = db.execute("SELECT count(*) FROM objects WHERE data = X'' AND key != ''").fetchone()[0]
    assert left == 0     # loading swept what the writer had not


class Broken(Recorder):
    def deliver(self, event: Event) -> None:
        raise RuntimeError("cannot render")


def test_a_write_whose_client_went_away_is_still_announced() -> None:
    async def scenario() -> None:
        backend, store, recorder, pending = await _create_held("a")
        pending.cancel()            # the handler's task is cancelled when its client disconnects
        await asyncio.sleep(0)
        backend.release.set()
        await asyncio.sleep(0.01)
        assert [e.type for e in recorder.events] == ["ADDED"] and store.published_rv == store.rv

    run(scenario())


def test_a_failing_watcher_is_dropped_without_failing_the_write() -> None:
    async def scenario() -> None:
        store = Store()
        good, broken = Recorder(), Broken()
        store.watch(R, 0, broken)
        store.watch(R, 0, good)
        await store.create(R, cm("a"), {})
        await store.create(R, cm("b"), {})
        assert [e.entry.name for e in good.events] == ["a", "b"]
        assert store.watcher_count() == 1

    run(scenario())


class FailingBackend(SlowBackend):
    def submit(self, rv: int, puts: list[tuple[str, int, bytes]], deletes: list[str], done: Done) -> None:
        done(OSError("disk full"))


def test_a_write_that_cannot_be_made_durable_is_undone() -> None:
    async def scenario() -> None:
        store = Store()
        await store.create(R, cm("a", v="1"), {})
        store.backend = FailingBackend()
        recorder = Recorder()
        store.watch(R, store.rv, recorder)
        with pytest.raises(OSError):
            await store.update(R, cm("a", v="2"), {}, None)
        with pytest.raises(OSError):
            await store.create(R, cm("b"), {})
        with pytest.raises(OSError):
            await store.delete(R, "default", "a", None)
        entry = store.get(R, "default", "a")
        assert entry is not None and b'"v":"1"' in entry.data
        assert store.get(R, "default", "b") is None
        assert recorder.events == [] and store.failure == "OSError: disk full"

    run(scenario())
