"""HorizontalPodAutoscalers read and written through autoscaling/v1 and autoscaling/v2."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from kubernetes import client, watch

from kwok.apiserver.hpaconversion import BEHAVIOR, CONDITIONS, CURRENT_METRICS, METRICS, to_v1, to_v2
from tests.apiserver.harness import ApiServer, stream_lines

V1 = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers"
V2 = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers"
TARGET = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
MEMORY = {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "500Mi"}}}
CPU_50 = {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}
PODS = {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}}


def _v2(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": name},
            "spec": {"scaleTargetRef": TARGET, "minReplicas": 2, "maxReplicas": 10, **spec}}


def _name() -> str:
    return f"hpa-{uuid.uuid4().hex[:6]}"


# --------------------------------------------------------------------------------- pure conversion
def test_v2_only_fields_travel_in_annotations_and_come_back() -> None:
    status = {"currentReplicas": 3, "desiredReplicas": 4,
              "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {
                  "averageUtilization": 70, "averageValue": "350m"}}}],
              "conditions": [{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"}]}
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 60, "selectPolicy": "Min",
                              "policies": [{"type": "Pods", "value": 1, "periodSeconds": 30}]}}
    hpa = {**_v2("x", metrics=[MEMORY, CPU_50, PODS], behavior=behavior), "status": status}
    v1 = to_v1(hpa)
    assert v1["spec"] == {"scaleTargetRef": TARGET, "minReplicas": 2, "maxReplicas": 10,
                          "targetCPUUtilizationPercentage": 50}
    assert v1["status"] == {"currentReplicas": 3, "desiredReplicas": 4, "currentCPUUtilizationPercentage": 70}
    annotations = v1["metadata"]["annotations"]
    assert json.loads(annotations[METRICS]) == [
        {"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "500Mi"}},
        {"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "10"}}]
    assert json.loads(annotations[BEHAVIOR]) == {"ScaleUp": None, "ScaleDown": {
        "StabilizationWindowSeconds": 60, "SelectPolicy": "Min", "Tolerance": None,
        "Policies": [{"Type": "Pods", "Value": 1, "PeriodSeconds": 30}]}}
    assert json.loads(annotations[CURRENT_METRICS]) == [
        {"type": "Resource", "resource": {"name": "cpu", "currentAverageUtilization": 70, "currentAverageValue": "350m"}}]
    assert json.loads(annotations[CONDITIONS]) == status["conditions"]
    back = to_v2(v1)
    assert "annotations" not in back["metadata"]
    assert back["spec"]["metrics"] == [MEMORY, PODS, CPU_50]          # the v1 CPU target comes last
    assert back["spec"]["behavior"] == behavior
    assert back["status"] == status


def test_every_metric_source_survives_the_round_trip() -> None:
    selector = {"matchLabels": {"queue": "jobs"}}
    metrics = [
        {"type": "Object", "object": {"describedObject": {"apiVersion": "v1", "kind": "Service", "name": "web"},
                                      "metric": {"name": "rps", "selector": selector},
                                      "target": {"type": "Value", "value": "100"}}},
        {"type": "External", "external": {"metric": {"name": "depth", "selector": selector},
                                          "target": {"type": "AverageValue", "averageValue": "30"}}},
        {"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app", "target": {
            "type": "Utilization", "averageUtilization": 60}}},
        PODS, MEMORY,
    ]
    current = [{"type": "External", "external": {"metric": {"name": "depth"}, "current": {"value": "7"}}},
               {"type": "Pods", "pods": {"metric": {"name": "qps"}, "current": {"averageValue": "3"}}}]
    hpa = {**_v2("x", metrics=metrics), "status": {"desiredReplicas": 2, "currentMetrics": current}}
    v1 = to_v1(hpa)
    assert "targetCPUUtilizationPercentage" not in v1["spec"]
    assert json.loads(v1["metadata"]["annotations"][METRICS])[0] == {"type": "Object", "object": {
        "target": {"apiVersion": "v1", "kind": "Service", "name": "web"}, "metricName": "rps",
        "targetValue": "100", "selector": selector}}
    back = to_v2(v1)
    assert back["spec"]["metrics"] == metrics
    assert back["status"]["currentMetrics"] == current


def test_a_v1_object_without_target_gets_the_cpu_default() -> None:
    v1 = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "x"},
          "spec": {"scaleTargetRef": TARGET, "maxReplicas": 3}}
    assert to_v2(v1)["spec"]["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]


# --------------------------------------------------------------------------------- over HTTP
def test_created_through_v2_reads_through_v1(apiserver: ApiServer) -> None:
    name = _name()
    code, created, _ = apiserver.request("POST", V2, _v2(name, metrics=[CPU_50, MEMORY],
                                                             behavior={"scaleUp": {"selectPolicy": "Min"}}))
    assert code == 201 and created["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    _, v1, _ = apiserver.request("GET", f"{V1}/{name}")
    assert v1["apiVersion"] == "autoscaling/v1" and v1["spec"]["targetCPUUtilizationPercentage"] == 50
    assert json.loads(v1["metadata"]["annotations"][METRICS])[0]["resource"]["name"] == "memory"
    assert json.loads(v1["metadata"]["annotations"][BEHAVIOR])["ScaleUp"]["SelectPolicy"] == "Min"
    # a read-modify-write through v1 keeps what only v2 can say
    v1["spec"]["targetCPUUtilizationPercentage"] = 60
    code, _, _ = apiserver.request("PUT", f"{V1}/{name}", v1)
    assert code == 200
    _, v2, _ = apiserver.request("GET", f"{V2}/{name}")
    assert v2["spec"]["metrics"] == [MEMORY, {**CPU_50, "resource": {**CPU_50["resource"], "target": {
        "type": "Utilization", "averageUtilization": 60}}}]
    assert v2["spec"]["behavior"]["scaleUp"]["selectPolicy"] == "Min" and "annotations" not in v2["metadata"]
    code, patched, _ = apiserver.request("PATCH", f"{V1}/{name}", {"spec": {"maxReplicas": 7}},
                                         "application/merge-patch+json")
    assert code == 200 and patched["apiVersion"] == "autoscaling/v1" and patched["spec"]["maxReplicas"] == 7
    _, v2, _ = apiserver.request("GET", f"{V2}/{name}")
    assert v2["spec"]["maxReplicas"] == 7 and MEMORY in v2["spec"]["metrics"]


def test_created_through_v1_reads_through_v2(apiserver: ApiServer) -> None:
    name = _name()
    body = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": name},
            "spec": {"scaleTargetRef": TARGET, "maxReplicas": 4}}
    code, created, _ = apiserver.request("POST", V1, body)
    assert code == 201
    assert created["spec"] == {"scaleTargetRef": TARGET, "minReplicas": 1, "maxReplicas": 4,
                               "targetCPUUtilizationPercentage": 80}
    assert created["status"] == {"currentReplicas": 0, "desiredReplicas": 0}
    _, v2, _ = apiserver.request("GET", f"{V2}/{name}")
    assert v2["spec"]["metrics"] == [{"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": 80}}}]
    code, status, _ = apiserver.request("POST", V1, {**body, "metadata": {"name": _name()},
                                                     "spec": {**body["spec"], "targetCPUUtilizationPercentage": 0}})
    assert code == 422 and status["details"]["causes"][0]["field"] == "spec.metrics[0].resource.target.averageUtilization"


def test_list_and_watch_answer_in_the_version_of_the_url(apiserver: ApiServer) -> None:
    name = _name()
    _, listing, _ = apiserver.request("GET", V1)
    rv = listing["metadata"]["resourceVersion"]
    apiserver.request("POST", V2, _v2(name, metrics=[CPU_50, PODS]))
    events = stream_lines(apiserver, f"{V1}?watch=true&resourceVersion={rv}&fieldSelector=metadata.name%3D{name}",
                          until=1)
    assert events[0]["object"]["apiVersion"] == "autoscaling/v1"
    assert events[0]["object"]["spec"]["targetCPUUtilizationPercentage"] == 50
    _, listing, _ = apiserver.request("GET", V1)
    item = next(i for i in listing["items"] if i["metadata"]["name"] == name)
    assert METRICS in item["metadata"]["annotations"]
    _, listing, _ = apiserver.request("GET", V2)
    assert next(i for i in listing["items"] if i["metadata"]["name"] == name)["spec"]["metrics"] == [CPU_50, PODS]


def test_tables_print_every_metric_whatever_the_stored_version(apiserver: ApiServer) -> None:
    name = _name()
    metrics = json.dumps([{"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "500Mi"}}])
    apiserver.request("POST", V1, {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
                                   "metadata": {"name": name, "annotations": {METRICS: metrics}},
                                   "spec": {"scaleTargetRef": TARGET, "maxReplicas": 4,
                                            "targetCPUUtilizationPercentage": 50}})
    accept = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}
    for path in (V1, V2):
        _, table, _ = apiserver.request("GET", f"{path}/{name}?includeObject=Object", headers=accept)
        assert table["rows"][0]["cells"][2] == "memory: <unknown>/500Mi, cpu: <unknown>/50%"
        assert table["rows"][0]["object"]["apiVersion"] == path.split("/")[2] + "/" + path.split("/")[3]


@pytest.fixture(scope="module")
def api_client(apiserver: ApiServer) -> Iterator[client.ApiClient]:
    config = client.Configuration()
    config.host = apiserver.url
    with client.ApiClient(config) as api:
        yield api


def test_python_client_reads_each_version(apiserver: ApiServer, api_client: client.ApiClient) -> None:
    v1_api, v2_api = client.AutoscalingV1Api(api_client), client.AutoscalingV2Api(api_client)
    name = _name()
    rv = v1_api.list_namespaced_horizontal_pod_autoscaler("default").metadata.resource_version
    seen: list[Any] = []

    def follow() -> None:
        stream = watch.Watch().stream(v1_api.list_namespaced_horizontal_pod_autoscaler, "default",
                                      resource_version=rv, field_selector=f"metadata.name={name}", timeout_seconds=5)
        for event in stream:
            seen.append(event["object"])
            break

    thread = threading.Thread(target=follow)
    thread.start()
    v2_api.create_namespaced_horizontal_pod_autoscaler("default", _v2(name, metrics=[CPU_50]))
    thread.join(timeout=10)
    assert seen and seen[0].spec.target_cpu_utilization_percentage == 50
    got = v1_api.read_namespaced_horizontal_pod_autoscaler(name, "default")
    assert got.spec.max_replicas == 10 and got.spec.target_cpu_utilization_percentage == 50
    again = v2_api.read_namespaced_horizontal_pod_autoscaler(name, "default")
    assert again.spec.metrics[0].resource.target.average_utilization == 50


def test_kubectl_reads_both_versions(apiserver: ApiServer, kubectl_bin: str) -> None:
    name = _name()
    apiserver.kubectl(kubectl_bin, "apply", "-f", "-", stdin=orjson.dumps(_v2(name, metrics=[CPU_50, MEMORY])).decode())
    v1 = json.loads(apiserver.kubectl(kubectl_bin, "get", "horizontalpodautoscalers.v1.autoscaling", name,
                                      "-o", "json").stdout)
    assert v1["apiVersion"] == "autoscaling/v1" and v1["spec"]["targetCPUUtilizationPercentage"] == 50
    row = apiserver.kubectl(kubectl_bin, "get", "hpa", name).stdout.splitlines()[1].split()
    assert row[:2] == [name, "Deployment/web"] and "cpu:" in row[2]
    apiserver.kubectl(kubectl_bin, "apply", "-f", "-", stdin=orjson.dumps(_v2(name, metrics=[CPU_50, MEMORY],
                                                                              maxReplicas=12)).decode())
    v2 = json.loads(apiserver.kubectl(kubectl_bin, "get", "hpa", name, "-o", "json").stdout)
    assert v2["apiVersion"] == "autoscaling/v2" and v2["spec"]["maxReplicas"] == 12


def test_kubectl_autoscale_then_describe(apiserver: ApiServer, kubectl_bin: str) -> None:
    """kubectl 1.32 autoscales through autoscaling/v1, 1.37 through v2; describe reads v2 either way."""
    name = _name()
    apiserver.kubectl(kubectl_bin, "create", "deployment", name, "--image=nginx")
    apiserver.kubectl(kubectl_bin, "autoscale", f"deployment/{name}", "--cpu-percent=50", "--max=5")
    out = apiserver.kubectl(kubectl_bin, "describe", "hpa", name).stdout
    assert "resource cpu on pods  (as a percentage of request):  <unknown> / 50%" in out
    assert "Max replicas:" in out and "Annotations:" in out and "autoscaling.alpha" not in out
