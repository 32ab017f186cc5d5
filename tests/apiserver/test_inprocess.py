"""The application in-process (aiohttp's test server): what needs a tuned clock or window."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from kwok.apiserver import watch
from kwok.apiserver.app import Server, build_app
from kwok.apiserver.catalog import Catalog
from kwok.apiserver.registry import AdmissionPlugin
from kwok.apiserver.storage import Store

CM = "/api/v1/namespaces/default/configmaps"


async def _client() -> TestClient[Any, Any]:
    server = Server(Store(), Catalog.builtin())
    client = TestClient(TestServer(build_app(server)))
    await client.start_server()
    return client


def test_periodic_bookmarks_carry_the_latest_revision(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "BOOKMARK_INTERVAL", 0.2)

    async def scenario() -> list[dict[str, Any]]:
        client = await _client()
        try:
            resp = await client.get(f"{CM}?watch=true&allowWatchBookmarks=true&timeoutSeconds=1")
            await client.post(CM, json={"metadata": {"name": "a"}})
            return [json.loads(line) for line in (await resp.read()).splitlines()]
        finally:
            await client.close()

    events = asyncio.run(scenario())
    types = [e["type"] for e in events]
    assert types[0] == "ADDED" and "BOOKMARK" in types
    bookmark = events[types.index("BOOKMARK")]["object"]
    assert bookmark == {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}}


def test_no_bookmarks_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "BOOKMARK_INTERVAL", 0.1)

    async def scenario() -> bytes:
        client = await _client()
        try:
            resp = await client.get(f"{CM}?watch=true&timeoutSeconds=1")
            return await resp.read()
        finally:
            await client.close()

    assert b"BOOKMARK" not in asyncio.run(scenario())


def test_list_exact_resource_version_shows_the_past() -> None:
    async def scenario() -> tuple[Any, Any]:
        client = await _client()
        try:
            first = await (await client.post(CM, json={"metadata": {"name": "a"}, "data": {"v": "1"}})).json()
            await client.patch(f"{CM}/a", data=b'{"data":{"v":"2"}}',
                               headers={"Content-Type": "application/merge-patch+json"})
            await client.post(CM, json={"metadata": {"name": "b"}})
            rv = first["metadata"]["resourceVersion"]
            past = await (await client.get(f"{CM}?resourceVersion={rv}&resourceVersionMatch=Exact")).json()
            bad = await client.get(f"{CM}?resourceVersionMatch=Exact")
            return past, (bad.status, await bad.json())
        finally:
            await client.close()

    past, (code, status) = asyncio.run(scenario())
    assert [(i["metadata"]["name"], i["data"]) for i in past["items"]] == [("a", {"v": "1"})]
    assert past["metadata"]["resourceVersion"] == "1"
    assert code == 400 and "resourceVersionMatch" in status["message"]


class SlowAdmission(AdmissionPlugin):
    """Lets concurrent writes interleave, as a plugin doing real I/O would."""

    async def admit(self, req: Any, lookup: Any) -> None:
        await asyncio.sleep(0.01)


def test_concurrent_patches_without_resource_version_all_apply() -> None:
    async def scenario() -> tuple[list[int], dict[str, str]]:
        server = Server(Store(), Catalog.builtin(), [SlowAdmission()])
        client = TestClient(TestServer(build_app(server)))
        await client.start_server()
        try:
            await client.post(CM, json={"metadata": {"name": "hot"}})

            async def patch(i: int) -> int:
                resp = await client.patch(f"{CM}/hot", data=json.dumps({"data": {f"k{i}": "v"}}).encode(),
                                          headers={"Content-Type": "application/merge-patch+json"})
                return resp.status

            codes = await asyncio.gather(*(patch(i) for i in range(4)))
            final = await (await client.get(f"{CM}/hot")).json()
            return list(codes), final["data"]
        finally:
            await client.close()

    codes, data = asyncio.run(scenario())
    assert codes == [200] * 4
    assert data == {f"k{i}": "v" for i in range(4)}
