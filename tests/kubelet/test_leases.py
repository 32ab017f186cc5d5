"""Node leases against the real API server: what is sent, when, and who holds what."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from collections.abc import Iterator, Mapping
from typing import Any

import orjson
import pytest

from kwok.client import ApiError, Client, ClientConfig, Credentials, HTTPTransport, Response
from kwok.kubelet.leases import NAMESPACE, LeaseController, micro_time
from tests.client.conftest import run
from tests.kubelet.harness import Cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("leases"))
    yield c
    c.close()


class Recording:
    """The real transport, noting each request (time, method, path, body)."""

    def __init__(self, inner: HTTPTransport) -> None:
        self.inner = inner
        self.sent: list[tuple[float, str, str, bytes | None]] = []

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        self.sent.append((time.monotonic(), method, url, body))
        return await self.inner.request(method, url, headers, body, timeout)

    async def stream(self, url: str, headers: Mapping[str, str], timeout: float | None) -> Any:
        return await self.inner.stream(url, headers, timeout)

    async def set_credentials(self, creds: Credentials) -> None:
        await self.inner.set_credentials(creds)

    async def close(self) -> None:
        await self.inner.close()

    def lease_writes(self, name: str) -> list[tuple[float, str, bytes | None]]:
        return [(t, m, b) for t, m, url, b in self.sent if "/leases" in url and (m == "POST" or url.endswith(name))]


async def setup(client: Client, node_name: str) -> dict[str, Any]:
    try:
        await client.resource("v1", "namespaces").create({"metadata": {"name": NAMESPACE}})
    except ApiError as err:
        if not err.is_already_exists:
            raise
    return await client.resource("v1", "nodes").create({"metadata": {"name": node_name}})


async def wait(what: str, check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def test_a_lease_is_created_then_renewed_by_put_alone(cluster: Cluster) -> None:
    async def scenario() -> None:
        config = ClientConfig(server=f"unix://{cluster.socket}")
        recording = Recording(HTTPTransport(config))
        async with Client(config, transport=recording) as client:
            node = await setup(client, "renewed")
            acquired: list[str] = []
            leases = LeaseController(client, "kwok-a", 2, 1, acquired.append, lambda _: None, rng=random.Random(1))
            leases.watch_node(node)
            task = asyncio.create_task(leases.run())
            try:
                await wait("two renewals", lambda: len(recording.lease_writes("renewed")) >= 3)
            finally:
                task.cancel()
            lease = await client.resource("coordination.k8s.io/v1", "leases").get("renewed", namespace=NAMESPACE)
        assert acquired == ["renewed"] and leases.holds("renewed")
        assert lease["spec"]["holderIdentity"] == "kwok-a" and lease["spec"]["leaseDurationSeconds"] == 2
        assert lease["metadata"]["ownerReferences"][0] == {
            "apiVersion": "v1", "kind": "Node", "name": "renewed", "uid": node["metadata"]["uid"]}
        (created, post, _), (first, put1, body1), (second, put2, body2) = recording.lease_writes("renewed")[:3]
        assert (post, put1, put2) == ("POST", "PUT", "PUT")  # never a GET in between
        for body in (body1, body2):
            sent = orjson.loads(body or b"{}")
            assert sent["metadata"]["resourceVersion"] and "managedFields" not in sent["metadata"]
        # The node was there at start: its lease is first renewed after half to all of duration/4
        # (0.5 s; spread, as a restart takes thousands at once), then every 0.5 s.
        assert 0.25 <= first - created and 0.5 <= second - first

    run(scenario())


def test_a_live_lease_of_another_holder_is_left_alone_until_it_expires(cluster: Cluster) -> None:
    async def scenario() -> None:
        async with Client(ClientConfig(server=f"unix://{cluster.socket}")) as client:
            node = await setup(client, "contested")
            res = client.resource("coordination.k8s.io/v1", "leases")
            now = dt.datetime.now(dt.UTC)
            await res.create({
                "metadata": {"name": "contested", "namespace": NAMESPACE},
                "spec": {"holderIdentity": "kwok-other", "leaseDurationSeconds": 1,
                         "acquireTime": micro_time(now), "renewTime": micro_time(now)},
            })
            acquired: list[float] = []
            leases = LeaseController(client, "kwok-b", 1, 2, lambda _: acquired.append(time.monotonic()),
                                     lambda _: None)
            leases.watch_node(node)
            started = time.monotonic()
            task = asyncio.create_task(leases.run())
            try:
                await wait("the takeover", lambda: acquired)
            finally:
                task.cancel()
            lease = await res.get("contested", namespace=NAMESPACE)
        assert acquired[0] - started >= 0.5  # not before the other holder's lease ran out
        assert lease["spec"]["holderIdentity"] == "kwok-b" and lease["spec"]["leaseTransitions"] == 1
        assert lease["spec"]["acquireTime"] == lease["spec"]["renewTime"]

    run(scenario())

