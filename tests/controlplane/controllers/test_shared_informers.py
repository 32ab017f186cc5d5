"""`kwok control-plane`: the scheduler and the controllers watch each resource once, together."""

from __future__ import annotations

import asyncio
from typing import Any

from kwok.client import Client, ClientConfig
from kwok.controlplane.controllers.manager import ControllerManager
from kwok.controlplane.informers import SharedInformers
from kwok.controlplane.scheduler.runner import Scheduler


def _client() -> Client:
    return Client(ClientConfig.load(master="http://127.0.0.1:9"))  # never contacted


def test_scheduler_and_controllers_share_one_informer_per_resource() -> None:
    async def build() -> tuple[SharedInformers, Scheduler, ControllerManager]:
        client = _client()
        shared = SharedInformers(client)
        manager = ControllerManager(client, informers=shared)
        scheduler = Scheduler(client, informers=shared)
        await client.close()
        return shared, scheduler, manager

    shared, scheduler, manager = asyncio.run(build())
    pods = shared.informer("v1", "pods")
    assert scheduler.informers["pods"] is pods is manager.ctx.informer("v1", "pods")
    assert scheduler.informers["nodes"] is manager.ctx.informer("v1", "nodes")
    resources = [(i.resource.group_version, i.resource.plural) for i in shared._informers.values()]
    assert len(resources) == len(set(resources))


def test_a_late_handler_is_handed_the_objects_already_cached() -> None:
    async def run() -> list[tuple[str, str]]:
        client = _client()
        informer = SharedInformers(client).informer("v1", "pods")
        informer.store = {"ns/a": {"metadata": {"name": "a", "namespace": "ns"}},
                          "ns/b": {"metadata": {"name": "b", "namespace": "ns"}}}
        seen: list[tuple[str, str]] = []

        def on_event(kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
            seen.append((kind, obj["metadata"]["name"]))

        informer.add_handler(on_event)
        await informer._dispatch("DELETED", informer.store.pop("ns/a"), None)  # then the watch goes on
        await client.close()
        return seen

    assert asyncio.run(run()) == [("ADDED", "a"), ("ADDED", "b"), ("DELETED", "a")]


def test_each_informer_runs_once_however_many_components_start_it() -> None:
    async def run() -> int:
        client = _client()
        shared = SharedInformers(client)
        informer = shared.informer("v1", "pods")
        runs = 0

        async def fake_run() -> None:
            nonlocal runs
            runs += 1
            await asyncio.sleep(10)

        informer.run = fake_run  # type: ignore[method-assign]
        shared.start()
        shared.start()
        await asyncio.sleep(0)
        await shared.stop()
        await client.close()
        return runs

    assert asyncio.run(run()) == 1
