"""Watch and Informer: resume, re-list on 410, back off on errors, survive broken handlers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from kwok.client import ApiError, Backoff, Client, ClientConfig, Informer
from tests.client.conftest import run, serve
from tests.client.fakeapi import FakeAPI


def node(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}}


async def until(predicate: Any, timeout: float = 5) -> None:
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


def test_watch_yields_events_and_a_410_raises(sock: Path) -> None:
    async def scenario() -> None:
        api = FakeAPI()
        await api.put("nodes", node("a"))
        await api.put("nodes", node("a", x="1"), "MODIFIED")
        async with serve(api, unix=sock) as url, Client(ClientConfig(server=url)) as client:
            nodes = client.resource("v1", "nodes")
            seen = []
            async for kind, obj in nodes.watch(resource_version="100"):
                seen.append((kind, obj["metadata"]["labels"]))
                if len(seen) == 2:
                    break
            assert seen == [("ADDED", {}), ("MODIFIED", {"x": "1"})]
            api.compact()
            with pytest.raises(ApiError) as err:
                async for _ in nodes.watch(resource_version="100"):
                    pass
            assert err.value.is_gone and "too old resource version" in err.value.message

    run(scenario())


def test_informer_lists_pages_then_resumes_watches_without_relisting(sock: Path) -> None:
    async def scenario() -> None:
        api = FakeAPI(watch_limit=1)  # every watch ends after one event: the informer must resume
        for i in range(5):
            await api.put("nodes", node(f"n{i}"))
        async with serve(api, unix=sock) as url, Client(ClientConfig(server=url)) as client:
            inf = Informer(client.resource("v1", "nodes"), page_size=2)
            events: list[tuple[str, str]] = []
            inf.add_handler(lambda t, o, old: events.append((t, o["metadata"]["name"])))
            task = asyncio.create_task(inf.run())
            await inf.wait_synced()
            assert sorted(inf.store) == [f"n{i}" for i in range(5)]
            await api.put("nodes", node("n1", role="x"), "MODIFIED")
            await api.put("nodes", node("n9"))
            await api.put("nodes", node("n0"), "DELETED")
            await until(lambda: len(events) == 8)
            task.cancel()
        assert events[5:] == [("MODIFIED", "n1"), ("ADDED", "n9"), ("DELETED", "n0")]
        assert inf.store["n1"]["metadata"]["labels"] == {"role": "x"} and "n0" not in inf.store
        assert api.lists == 3  # three pages of one list, never a second list
        assert api.watches >= 3

    run(scenario())


def test_informer_relists_after_410_and_reports_what_changed_meanwhile(sock: Path) -> None:
    async def scenario() -> None:
        api = FakeAPI(watch_limit=1)
        await api.put("nodes", node("keep"))
        await api.put("nodes", node("gone"))
        async with serve(api, unix=sock) as url, Client(ClientConfig(server=url)) as client:
            inf = Informer(client.resource("v1", "nodes"))
            events: list[tuple[str, str, Any]] = []

            async def handler(t: str, o: dict[str, Any], old: dict[str, Any] | None) -> None:
                events.append((t, o["metadata"]["name"], old and old["metadata"]["labels"]))

            inf.add_handler(handler)
            task = asyncio.create_task(inf.run())
            await inf.wait_synced()
            # While the informer is not watching, change things and compact history away.
            api.objects.pop(("nodes", "", "gone"))
            api.rv += 1
            api.objects[("nodes", "", "keep")] = {"metadata": {"name": "keep", "labels": {"v": "2"},
                                                               "resourceVersion": str(api.rv)}}
            await api.put("nodes", node("new"))
            api.compact()
            await until(lambda: len(events) == 5)
            task.cancel()
        assert sorted(events[2:]) == [("ADDED", "new", None), ("DELETED", "gone", {}), ("MODIFIED", "keep", {})]
        assert inf.store["keep"]["metadata"]["labels"] == {"v": "2"}

    run(scenario())


def test_informer_backs_off_on_errors_and_a_broken_handler_does_not_stop_it(sock: Path) -> None:
    async def scenario() -> None:
        api = FakeAPI()
        api.fail = [(500, {}), (500, {}), (503, {})]
        await api.put("nodes", node("a"))
        async with serve(api, unix=sock) as url, Client(ClientConfig(server=url)) as client:
            inf = Informer(client.resource("v1", "nodes"), backoff=Backoff(initial=0.05, jitter=0.0))
            good: list[str] = []

            def broken(t: str, o: dict[str, Any], old: Any) -> None:
                raise RuntimeError("handler bug")

            inf.add_handler(broken)
            inf.add_handler(lambda t, o, old: good.append(o["metadata"]["name"]))
            task = asyncio.create_task(inf.run())
            await asyncio.wait_for(inf.wait_synced(), 5)
            await api.put("nodes", node("b"))
            await until(lambda: good == ["a", "b"])
            task.cancel()
        list_calls = [p for m, p, _ in api.requests if m == "GET" and "watch" not in p]
        assert len(list_calls) == 4 and api.lists == 1  # three failed attempts, then success

    run(scenario())


def test_backoff_grows_exponentially_to_a_cap_with_jitter() -> None:
    b = Backoff(initial=1, factor=2, cap=5, jitter=0.5, rand=lambda: 1.0)
    assert [b.next_delay() for _ in range(5)] == [1.5, 3.0, 6.0, 7.5, 7.5]
    b.reset()
    assert b.next_delay() == 1.5


def test_store_transform_shrinks_the_mirror_while_handlers_see_whole_objects(sock: Path) -> None:
    async def scenario() -> None:
        api = FakeAPI()
        await api.put("nodes", node("a", big="x" * 100))
        async with serve(api, unix=sock) as url, Client(ClientConfig(server=url)) as client:
            inf = Informer(client.resource("v1", "nodes"),
                           store_transform=lambda o: {"metadata": {"name": o["metadata"]["name"],
                                                                   "resourceVersion": o["metadata"]["resourceVersion"]}})
            seen: list[Any] = []
            inf.add_handler(lambda t, o, old: seen.append((t, o["metadata"].get("labels"), old)))
            task = asyncio.create_task(inf.run())
            await inf.wait_synced()
            await api.put("nodes", node("a", big="y"), "MODIFIED")
            await until(lambda: len(seen) == 2)
            task.cancel()
        assert seen[0][:2] == ("ADDED", {"big": "x" * 100})
        assert seen[1][1] == {"big": "y"} and "labels" not in seen[1][2]["metadata"]
        assert "labels" not in inf.store["a"]["metadata"]

    run(scenario())
