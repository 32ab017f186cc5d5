"""metrics.k8s.io: `kubectl top` against the API server, reading a real kwok's kubelet endpoint."""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from kwok.apiserver.metricsapi.resource import Point, decode, pod_usage, usage_between
from kwok.apiserver.metricsapi.scraper import Scraper, kubelet_base
from kwok.kubelet.usage import default_documents
from tests.kubelet.harness import FAST_STAGES, KUBECTLS, Cluster, stage_file, wait_for

EXPOSITION = """# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time
# TYPE node_cpu_usage_seconds_total counter
node_cpu_usage_seconds_total {cpu}
node_memory_working_set_bytes 3.145728e+08
container_cpu_usage_seconds_total{{container="app",namespace="default",pod="web"}} {cpu}
container_memory_working_set_bytes{{container="app",namespace="default",pod="web"}} 3.145728e+08 1700000000000
pod_memory_working_set_bytes{{namespace="default",pod="web"}} 3.145728e+08
"""


# --------------------------------------------------------------------------------- pure pieces
def test_decode_reads_node_and_container_series_with_their_timestamps() -> None:
    scrape = decode(EXPOSITION.format(cpu="2.5"), scraped_at=1_700_000_010.0)
    assert (scrape.node.cpu, scrape.node.memory, scrape.node.time) == (2.5, 314572800.0, 1_700_000_010.0)
    app = scrape.pods[("default", "web")]["app"]
    # the point's time is that of its last sample: the sample's own timestamp when it has one
    assert (app.cpu, app.memory, app.time) == (2.5, 314572800.0, 1_700_000_000.0)
    assert list(scrape.pods) == [("default", "web")]                                   # pod_* series ignored
    other_order = decode('container_cpu_usage_seconds_total{pod="p",container="c",namespace="n"} 2\n', 5.0)
    assert other_order.pods[("n", "p")]["c"].cpu == 2.0


def test_usage_is_the_cpu_rate_over_the_window_and_the_last_memory() -> None:
    usage = usage_between(Point(1.0, 10.0, 100.0), Point(3.5, 20.0, 110.0))
    assert usage is not None
    assert (usage.nanocores, usage.memory, usage.window, usage.timestamp) == (250_000_000, 20, 10.0, 110.0)
    assert usage_between(Point(1.0, 1.0, 100.0), Point(0.0, 1.0, 110.0)) is None     # no CPU seen yet
    assert usage_between(Point(5.0, 1.0, 100.0), Point(4.0, 1.0, 110.0)) is None     # counter went back
    assert pod_usage({"a": Point(1, 1, 1)}, {"a": Point(2, 1, 2), "b": Point(2, 1, 2)}) is None  # b is new


def test_scraper_takes_a_baseline_first_then_reuses_fresh_points() -> None:
    clock = [1000.0]
    fetched: list[str] = []
    cpu = iter(["1", "1.5", "2.5"])

    async def fetch(url: str) -> tuple[int, str]:
        fetched.append(url)
        if url.endswith("/metrics/resource") and "/nodes/" not in url:
            return 404, "404 page not found"
        return 200, EXPOSITION.format(cpu=next(cpu)).replace(" 1700000000000", "")

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    node = {"metadata": {"name": "n1"}, "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
                                                     "daemonEndpoints": {"kubeletEndpoint": {"Port": 10247}}}}
    scraper = Scraper(fetch, clock=lambda: clock[0], sleep=sleep, ttl=2, min_window=0.5)

    async def run() -> None:
        await scraper.refresh([node])
        usage = usage_between(scraper.prev["n1"].node, scraper.last["n1"].node)
        assert usage is not None and usage.nanocores == 1_000_000_000 and usage.window == 0.5
        await scraper.refresh([node])                    # still fresh: nothing scraped
        assert len(fetched) == 3
        clock[0] += 5
        await scraper.refresh([node])                    # one more scrape against the last point
        usage = usage_between(scraper.prev["n1"].node, scraper.last["n1"].node)
        assert usage is not None and usage.nanocores == 200_000_000 and usage.window == 5
        scraper.forget_except(set())                     # the node was deleted
        assert not scraper.last and not scraper.prev

    asyncio.run(run())
    # the kubelet path first, KWOK's per-node path when it is not served, then only the one that answered
    assert fetched == ["https://10.0.0.1:10247/metrics/resource",
                       "https://10.0.0.1:10247/metrics/nodes/n1/metrics/resource",
                       "https://10.0.0.1:10247/metrics/nodes/n1/metrics/resource",
                       "https://10.0.0.1:10247/metrics/nodes/n1/metrics/resource"]


def test_kubelet_address_prefers_the_hostname_kwok_reports() -> None:
    status = {"addresses": [{"type": "InternalIP", "address": "192.0.2.1"}, {"type": "Hostname", "address": "localhost"},
                            {"type": "InternalIP", "address": "2001:db8::1"}],
              "daemonEndpoints": {"kubeletEndpoint": {"Port": 10247}}}
    assert kubelet_base({"status": status}) == "https://localhost:10247"
    del status["addresses"][1]
    assert kubelet_base({"status": status}) == "https://192.0.2.1:10247"
    assert kubelet_base({"status": {"addresses": [{"type": "InternalIP", "address": "2001:db8::1"}]}}) == (
        "https://[2001:db8::1]:10250")
    assert kubelet_base({"status": {}}) is None


# ----------------------------------------------------------------------- against a real kwok
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("metrics-api"))
    try:
        # kwok serves /metrics/... only with a Metric configured: the test installs KWOK's defaults
        config = stage_file(*FAST_STAGES) + "---\n" + yaml.dump_all(default_documents(), Dumper=yaml.CSafeDumper)
        c.kwok("--manage-all-nodes", "--node-ip=127.0.0.1", f"--node-port={_free_port()}", config=config)
        annotated = {"metrics.k8s.io/resource-metrics-path": "/metrics/nodes/node-a/metrics/resource"}
        nodes = [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-a", "annotations": annotated,
                                                                   "labels": {"zone": "a"}}},
                 {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-b", "labels": {"zone": "b"}}}]
        usage = {"kwok.x-k8s.io/usage-cpu": "250m", "kwok.x-k8s.io/usage-memory": "300Mi"}
        pods = [{"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"name": name, "namespace": "default", "labels": {"app": name}, "annotations": usage},
                 "spec": {"nodeName": node, "containers": [{"name": "app", "image": "nginx"},
                                                           {"name": "sidecar", "image": "envoy"}]}}
                for name, node in (("web", "node-a"), ("api", "node-b"))]
        c.apply(*nodes, *pods)
        wait_for("pods Running", lambda: all((c.get("pod", p, "default") or {}).get("status", {}).get("phase")
                                             == "Running" for p in ("web", "api")), 60)
        yield c
    finally:
        c.close()


def _get(c: Cluster, path: str, accept: str = "application/json") -> tuple[int, Any]:
    request = urllib.request.Request(c.url + path, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _millicores(text: str) -> float:
    return int(text[:-1]) / 1e6 if text.endswith("n") else float(text[:-1]) if text.endswith("m") else float(text) * 1000


def test_node_and_pod_metrics_objects(cluster: Cluster) -> None:
    code, nodes = _get(cluster, "/apis/metrics.k8s.io/v1beta1/nodes")
    assert code == 200 and (nodes["kind"], nodes["apiVersion"]) == ("NodeMetricsList", "metrics.k8s.io/v1beta1")
    by_name = {n["metadata"]["name"]: n for n in nodes["items"]}
    assert sorted(by_name) == ["node-a", "node-b"]      # annotated path, and the fallback to kwok's path
    node = by_name["node-a"]
    assert node["metadata"]["labels"]["zone"] == "a" and node["window"].endswith("s")
    assert node["usage"]["memory"] == "600Mi"            # its one pod: two containers of 300Mi each
    assert 400 <= _millicores(node["usage"]["cpu"]) <= 600
    code, pod = _get(cluster, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web")
    assert code == 200 and pod["kind"] == "PodMetrics" and pod["metadata"]["labels"] == {"app": "web"}
    assert [c["name"] for c in pod["containers"]] == ["app", "sidecar"]
    assert all(c["usage"]["memory"] == "300Mi" for c in pod["containers"])
    code, selected = _get(cluster, "/apis/metrics.k8s.io/v1beta1/pods?labelSelector=app%3Dapi")
    assert code == 200 and [p["metadata"]["name"] for p in selected["items"]] == ["api"]
    code, selected = _get(cluster, "/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=zone%3Db")
    assert [n["metadata"]["name"] for n in selected["items"]] == ["node-b"]


def test_errors_are_those_of_metrics_server(cluster: Cluster) -> None:
    code, status = _get(cluster, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/missing")
    assert (code, status["reason"], status["message"]) == (404, "NotFound", 'pods "missing" not found')
    code, status = _get(cluster, "/apis/metrics.k8s.io/v1beta1/nodes/missing")
    assert (code, status["message"]) == (404, 'node "missing" not found')
    code, status = _get(cluster, "/apis/metrics.k8s.io/v1beta1/nodes?watch=true")
    assert (code, status["message"]) == (405, 'watch is not supported on resources of kind "nodes.metrics.k8s.io"')
    code, status = _get(cluster, "/apis/metrics.k8s.io/v1beta1/pods?fieldSelector=spec.nodeName%3Dx")
    assert code == 400


def test_discovery_lists_the_metrics_group(cluster: Cluster) -> None:
    _, groups = _get(cluster, "/apis")
    assert {"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"} in next(
        g for g in groups["groups"] if g["name"] == "metrics.k8s.io")["versions"]
    _, resources = _get(cluster, "/apis/metrics.k8s.io/v1beta1")
    assert resources["resources"] == [
        {"name": "nodes", "singularName": "", "namespaced": False, "kind": "NodeMetrics", "verbs": ["get", "list"]},
        {"name": "pods", "singularName": "", "namespaced": True, "kind": "PodMetrics", "verbs": ["get", "list"]}]
    aggregated = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    _, listing = _get(cluster, "/apis", aggregated)
    metrics = next(i for i in listing["items"] if i["metadata"]["name"] == "metrics.k8s.io")
    assert [r["resource"] for r in metrics["versions"][0]["resources"]] == ["nodes", "pods"]


@pytest.mark.parametrize("kubectl", KUBECTLS)
def test_kubectl_top(cluster: Cluster, kubectl: str) -> None:
    rows = [line.split() for line in cluster.kubectl("top", "nodes", binary=kubectl).splitlines()]
    assert rows[0][0] == "NAME" and sorted(r[0] for r in rows[1:]) == ["node-a", "node-b"]
    assert all(r[3] == "600Mi" for r in rows[1:])
    pods = [line.split() for line in cluster.kubectl("top", "pods", "--containers", binary=kubectl).splitlines()]
    assert pods[0] == ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    web = [r for r in pods[1:] if r[0] == "web"]
    assert [r[1] for r in web] == ["app", "sidecar"] and all(r[3] == "300Mi" for r in web)
    # a rate over a window of a few seconds, timed on this side of the HTTP request
    assert all(225 <= _millicores(r[2]) <= 275 for r in web), web
    one = cluster.kubectl("top", "pod", "api", binary=kubectl).splitlines()[1].split()
    assert one[0] == "api" and one[2] == "600Mi"
    missing = cluster.kubectl("top", "pod", "nope", binary=kubectl, check=False)
    assert 'pods "nope" not found' in missing
    everywhere = cluster.kubectl("top", "pods", "-A", binary=kubectl).splitlines()
    assert everywhere[0].split()[:2] == ["NAMESPACE", "NAME"] and len(everywhere) == 3
    assert "No resources found in kube-system namespace." in cluster.kubectl(
        "top", "pods", "-n", "kube-system", binary=kubectl, check=False)
    table = [line.split() for line in cluster.kubectl("get", "nodes.metrics.k8s.io", binary=kubectl).splitlines()]
    assert table[0] == ["NAME", "CPU", "MEMORY", "WINDOW"] and table[1][0] == "node-a" and table[1][2] == "600Mi"


@pytest.mark.parametrize("kubectl", KUBECTLS)
def test_kubectl_explain_reads_the_metrics_openapi(cluster: Cluster, kubectl: str) -> None:
    _, root = _get(cluster, "/openapi/v3")
    assert "apis/metrics.k8s.io/v1beta1" in root["paths"]
    out = cluster.kubectl("explain", "pods.containers", "--api-version=metrics.k8s.io/v1beta1", binary=kubectl)
    assert "KIND:       PodMetrics" in out and "usage\t<map[string]Quantity> -required-" in out


def test_python_client_reads_metrics_as_custom_objects(cluster: Cluster) -> None:
    from kubernetes import client

    config = client.Configuration()
    config.host = cluster.url
    with client.ApiClient(config) as api:
        metrics = client.CustomObjectsApi(api)
        nodes = metrics.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes", label_selector="zone=a")
        assert [n["metadata"]["name"] for n in nodes["items"]] == ["node-a"]
        pod = metrics.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", "default", "pods", "api")
        assert {c["name"]: c["usage"]["memory"] for c in pod["containers"]} == {"app": "300Mi", "sidecar": "300Mi"}
