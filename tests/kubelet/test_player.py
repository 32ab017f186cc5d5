"""The stage pipeline against a small fake API server: no-op patches, retries, bad templates."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from kwok.client import Client, ClientConfig
from kwok.engine.lifecycle import StageSet
from kwok.engine.templatefuncs import environment_funcs
from kwok.kubelet.actions import ActionRunner
from kwok.kubelet.mapper import RESTMapper
from kwok.kubelet.metrics import Metrics
from kwok.kubelet.player import PACK_BACKLOG, StagePlayer
from tests.client.conftest import run, serve
from tests.client.fakeapi import FakeAPI


def stage(template: str, name: str = "mark") -> dict[str, Any]:
    return {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Stage",
        "metadata": {"name": name},
        "spec": {"resourceRef": {"apiGroup": "v1", "kind": "ConfigMap"}, "selector": {},
                 "next": {"patches": [{"type": "merge", "root": "data", "template": template}]}},
    }


@pytest.fixture
def sock(tmp_path: Path) -> Path:
    return tmp_path / "api.sock"


async def play(api: FakeAPI, sock: Path, template: str, settle: float = 0.3, feed_back: bool = True) -> list[str]:
    """Create one ConfigMap, let a player run over it, return the PATCH requests made.

    With `feed_back`, every new version of the object is handed to the player again, as its
    watch would."""
    obj = await api.put("configmaps", {"metadata": {"name": "cm", "namespace": "ns"}, "data": {"a": "1"}})
    async with serve(api, unix=sock) as url, Client(ClientConfig(server=url)) as client:
        lifecycle = StageSet.load([stage(template)]).for_resource("v1", "ConfigMap")
        player = StagePlayer(resource=client.resource("v1", "configmaps"), api_group="v1", kind="ConfigMap",
                             lifecycle=lifecycle, parallelism=1, runner=ActionRunner(client, RESTMapper(client)),
                             metrics=Metrics(), funcs=lambda o, now: environment_funcs(now, now, "v0"))
        task = asyncio.create_task(player.run())
        player.preprocess(obj)
        seen = obj["metadata"]["resourceVersion"]
        for _ in range(10):
            await asyncio.sleep(settle / 10)
            current = api.objects[("configmaps", "ns", "cm")]
            if feed_back and current["metadata"]["resourceVersion"] != seen:
                seen = current["metadata"]["resourceVersion"]
                player.preprocess(current)
        task.cancel()
    return [p for m, p, _ in api.requests if m == "PATCH"]


def test_a_patch_that_changes_nothing_is_not_sent(sock: Path) -> None:
    api = FakeAPI()
    patches = run(play(api, sock, "state: done"))
    assert patches == ["/api/v1/namespaces/ns/configmaps/cm"]  # once; later plays are no-ops
    assert api.objects[("configmaps", "ns", "cm")]["data"] == {"a": "1", "state": "done"}


def test_retryable_errors_are_retried_and_others_are_not(sock: Path, tmp_path: Path) -> None:
    api = FakeAPI()
    api.fail = [(503, {}), (429, {})]  # 429 without Retry-After: the player's backoff, not the client's
    patches = run(play(api, sock, "state: done", settle=4.0, feed_back=False), timeout=30)
    assert len(patches) == 3 and api.objects[("configmaps", "ns", "cm")]["data"]["state"] == "done"

    other = FakeAPI()
    other.fail = [(422, {})]
    patches = run(play(other, tmp_path / "b.sock", "state: done", settle=2.0, feed_back=False))
    assert len(patches) == 1 and "state" not in other.objects[("configmaps", "ns", "cm")]["data"]


def test_a_failing_template_is_logged_once(sock: Path, caplog: pytest.LogCaptureFixture) -> None:
    api = FakeAPI()
    with caplog.at_level(logging.WARNING, logger="kwok.kubelet.player"):
        patches = run(play(api, sock, "state: {{ fail \"boom\" }}"))
    assert patches == []
    assert len([r for r in caplog.records if "boom" in r.getMessage()]) == 1


def delayed_stage(delay_ms: int) -> dict[str, Any]:
    doc = stage("state: done", name=f"after-{delay_ms}")
    doc["spec"]["delay"] = {"durationMilliseconds": delay_ms}
    return doc


def test_only_jobs_that_wait_are_kept_packed() -> None:
    """Packing costs CPU at both ends, so a job due now keeps its object as it is - unless the
    queue is backed up; a job that waits is packed (once: a form packed already is reused)."""

    async def scenario() -> None:
        async with Client(ClientConfig(server="unix:///nonexistent")) as client:
            def player(delay_ms: int) -> StagePlayer:
                lifecycle = StageSet.load([delayed_stage(delay_ms)]).for_resource("v1", "ConfigMap")
                return StagePlayer(resource=client.resource("v1", "configmaps"), api_group="v1", kind="ConfigMap",
                                   lifecycle=lifecycle, parallelism=1, runner=ActionRunner(client, RESTMapper(client)),
                                   metrics=Metrics(), funcs=lambda o, now: {},
                                   pack=lambda o: {"packed": o}, unpack=lambda o: o["packed"])

            def cm(i: int) -> dict[str, Any]:
                return {"metadata": {"name": f"cm{i}", "namespace": "ns", "resourceVersion": "1"}, "data": {}}

            now, later = player(0), player(60_000)
            now.preprocess(cm(0))
            later.preprocess(cm(0))
            later.preprocess(cm(1), packed={"packed": "as the mirror keeps it"})
            pending = [p.queue.pending(f"ns/cm{i}") for p, i in ((now, 0), (later, 0), (later, 1))]
            assert [job.obj if job else None for job in pending] == [
                cm(0), {"packed": cm(0)}, {"packed": "as the mirror keeps it"}]
            for i in range(1, PACK_BACKLOG + 1):  # a backlog of jobs due now
                now.preprocess(cm(i))
            job = now.queue.pending(f"ns/cm{PACK_BACKLOG}")
            assert job is not None and job.obj == {"packed": cm(PACK_BACKLOG)}
            now.queue.clear()
            later.queue.clear()

    run(scenario())
