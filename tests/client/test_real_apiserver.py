"""The client against the project's real `kwok apiserver` (Unix socket and TCP)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kwok.client import ApiError, Client, ClientConfig, Informer
from tests.client.conftest import run
from tests.kubelet.harness import Cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("client-real"))
    yield c
    c.close()


def pod(name: str, node: str = "") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]}}


@pytest.mark.parametrize("over", ["unix", "tcp"])
def test_every_patch_type_and_errors(cluster: Cluster, over: str) -> None:
    server = f"unix://{cluster.socket}" if over == "unix" else cluster.url

    async def scenario() -> None:
        async with Client(ClientConfig(server=server)) as client:
            pods = client.resource("v1", "pods")
            name = f"patched-{over}"
            await pods.create(pod(name))
            status = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
            await pods.patch(name, status, "strategic", namespace="default", subresource="status")
            await pods.patch(name, [{"op": "add", "path": "/metadata/labels", "value": {"x": "1"}}], "json",
                             namespace="default")
            got = await pods.get(name, namespace="default")
            assert got["metadata"]["labels"] == {"x": "1"}
            assert {"type": "Ready", "status": "True"}.items() <= got["status"]["conditions"][0].items()
            cms = client.resource("v1", "configmaps")
            cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"},
                  "data": {"k": "v"}}
            applied = await cms.patch(name, cm, "apply", namespace="default", field_manager="kwok", force=True)
            assert applied["data"] == {"k": "v"}
            with pytest.raises(ApiError) as err:
                await pods.get("missing", namespace="default")
            assert err.value.is_not_found and err.value.body["kind"] == "Status"
            with pytest.raises(ApiError) as err:
                await pods.create(pod(name))
            assert err.value.is_already_exists

    run(scenario())


def test_informer_with_a_field_selector_sees_only_scheduled_pods(cluster: Cluster) -> None:
    async def scenario() -> None:
        async with Client(ClientConfig(server=f"unix://{cluster.socket}")) as client:
            pods = client.resource("v1", "pods")
            await pods.create(pod("bound-1", "node-a"))
            inf = Informer(pods, namespace="default", field_selector="spec.nodeName!=")
            seen: list[tuple[str, str]] = []
            inf.add_handler(lambda t, o, old: seen.append((t, o["metadata"]["name"])))
            task = asyncio.create_task(inf.run())
            await inf.wait_synced()
            await pods.create(pod("unbound"))
            await pods.create(pod("bound-2", "node-a"))
            await pods.delete("bound-1", namespace="default", grace_period_seconds=0)
            for _ in range(100):
                if ("DELETED", "bound-1") in seen and ("ADDED", "bound-2") in seen:
                    break
                await asyncio.sleep(0.05)
            task.cancel()
        assert ("ADDED", "bound-1") in seen and ("ADDED", "bound-2") in seen and ("DELETED", "bound-1") in seen
        assert all(name != "unbound" for _, name in seen)

    run(scenario())


def test_the_apiserver_path_is_what_kubeconfig_gives(cluster: Cluster, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(f"""
apiVersion: v1
kind: Config
current-context: c
clusters: [{{name: c, cluster: {{server: "unix://{cluster.socket}"}}}}]
users: [{{name: u, user: {{}}}}]
contexts: [{{name: c, context: {{cluster: c, user: u}}}}]
""")
    cfg = ClientConfig.load(kubeconfig=str(kubeconfig))

    async def scenario() -> dict[str, Any]:
        async with Client(cfg) as client:
            result: dict[str, Any] = await client.request("GET", "/version")
            return result

    assert run(scenario())["gitVersion"].startswith("v1.36")
