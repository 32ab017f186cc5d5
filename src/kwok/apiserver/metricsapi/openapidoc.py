"""The OpenAPI v3 document of metrics.k8s.io/v1beta1, as metrics-server publishes it.

Its types (k8s.io/metrics) are not among the shipped protos, so their few schemas are written
here, with the doc comments of k8s.io/metrics/pkg/apis/metrics/v1beta1/types.go; the common
meta types come from kwok.api.openapi. `kubectl explain nodes.metrics.k8s.io` reads it.
"""

from __future__ import annotations

import functools
from typing import Any

from kwok.api import openapi
from kwok.apiserver.metricsapi import GROUP, VERSION

Obj = dict[str, Any]
PREFIX = "io.k8s.metrics.pkg.apis.metrics.v1beta1."
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_QUANTITY = {"$ref": openapi.REF + "io.k8s.apimachinery.pkg.api.resource.Quantity"}
_WINDOW_DOC = ("The following fields define time interval from which metrics were collected from the interval "
               "[Timestamp-Window, Timestamp].")
_USAGE_DOC = "The memory usage is the memory working set."


def _ref(name: str, description: str = "") -> Obj:
    node: Obj = {"allOf": [{"$ref": openapi.REF + name}]}
    if description:
        node["description"] = description
    return node


def _kind(description: str, kind: str, required: list[str], properties: Obj) -> Obj:
    return {"description": description, "type": "object", "required": required,
            "properties": {"apiVersion": {"type": "string", "description": openapi.API_VERSION_DOC},
                           "kind": {"type": "string", "description": openapi.KIND_DOC}, **properties},
            "x-kubernetes-group-version-kind": [{"group": GROUP, "kind": kind, "version": VERSION}]}


def _list(kind: str, noun: str) -> Obj:
    return _kind(f"{kind}List is a list of {kind}.", f"{kind}List", ["items"], {
        "items": {"type": "array", "description": f"List of {noun} metrics.",
                  "items": {"$ref": openapi.REF + PREFIX + kind, "default": {}}},
        "metadata": _ref(_META + "ListMeta", "Standard list metadata. More info: https://git.k8s.io/community/"
                                             "contributors/devel/sig-architecture/api-conventions.md#types-kinds")})


def _schemas() -> Obj:
    metadata = _ref(_META + "ObjectMeta", "Standard object's metadata. More info: https://git.k8s.io/community/"
                                         "contributors/devel/sig-architecture/api-conventions.md#metadata")
    common = {"metadata": metadata, "timestamp": _ref(_META + "Time", _WINDOW_DOC),
              "window": {"type": "string"}}
    usage = {"type": "object", "description": _USAGE_DOC, "additionalProperties": _QUANTITY}
    return {
        PREFIX + "ContainerMetrics": {
            "description": "ContainerMetrics sets resource usage metrics of a container.", "type": "object",
            "required": ["name", "usage"],
            "properties": {"name": {"type": "string", "default": "",
                                    "description": "Container name corresponding to the one from pod.spec.containers."},
                           "usage": usage}},
        PREFIX + "NodeMetrics": _kind("NodeMetrics sets resource usage metrics of a node.", "NodeMetrics",
                                      ["timestamp", "window", "usage"], {**common, "usage": usage}),
        PREFIX + "NodeMetricsList": _list("NodeMetrics", "node"),
        PREFIX + "PodMetrics": _kind("PodMetrics sets resource usage metrics of a pod.", "PodMetrics",
                                     ["timestamp", "window", "containers"], {**common, "containers": {
                                         "type": "array", "items": {"$ref": openapi.REF + PREFIX + "ContainerMetrics",
                                                                    "default": {}},
                                         "description": "Metrics for all containers are collected within the same "
                                                        "time window."}}),
        PREFIX + "PodMetricsList": _list("PodMetrics", "pod"),
    }


def _get(operation: str, kind: str, response: str, parameters: list[Obj]) -> Obj:
    return {"get": {
        "operationId": operation, "tags": ["metricsV1beta1"], "parameters": parameters,
        "responses": {"200": {"description": "OK", "content": {
            media: {"schema": {"$ref": openapi.REF + PREFIX + response}}
            for media in ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")}},
            "401": {"description": "Unauthorized"}},
        "x-kubernetes-action": "list" if response.endswith("List") else "get",
        "x-kubernetes-group-version-kind": {"group": GROUP, "kind": kind, "version": VERSION}}}


def _param(name: str, where: str, description: str) -> Obj:
    out: Obj = {"name": name, "in": where, "description": description, "schema": {"type": "string"},
                "uniqueItems": True}
    if where == "path":
        out["required"] = True
    return out


def _paths() -> Obj:
    base = f"/apis/{GROUP}/{VERSION}"
    selectors = [_param("labelSelector", "query", "A selector to restrict the list of returned objects by their labels."),
                 _param("fieldSelector", "query", "A selector to restrict the list of returned objects by their fields.")]
    name = _param("name", "path", "name of the resource")
    namespace = _param("namespace", "path", "object name and auth scope, such as for teams and projects")
    return {
        f"{base}/nodes": _get("listMetricsV1beta1NodeMetrics", "NodeMetrics", "NodeMetricsList", selectors),
        f"{base}/nodes/{{name}}": _get("readMetricsV1beta1NodeMetrics", "NodeMetrics", "NodeMetrics", [name]),
        f"{base}/namespaces/{{namespace}}/pods": _get("listMetricsV1beta1NamespacedPodMetrics", "PodMetrics",
                                                      "PodMetricsList", [namespace, *selectors]),
        f"{base}/namespaces/{{namespace}}/pods/{{name}}": _get("readMetricsV1beta1NamespacedPodMetrics", "PodMetrics",
                                                             "PodMetrics", [name, namespace]),
        f"{base}/pods": _get("listMetricsV1beta1PodMetricsForAllNamespaces", "PodMetrics", "PodMetricsList", selectors),
    }


@functools.cache
def document_bytes() -> tuple[bytes, str]:
    """The encoded document and its hash (it never changes within a process)."""
    doc = openapi.group_version_document(GROUP, VERSION)     # the common meta types of any group-version
    schemas = doc["components"]["schemas"]
    schemas.update(_schemas())
    schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"] = openapi.group_version_document("", "v1")[
        "components"]["schemas"]["io.k8s.apimachinery.pkg.api.resource.Quantity"]
    doc["components"]["schemas"] = dict(sorted(schemas.items()))
    doc["paths"] = _paths()
    return openapi.encode(doc)
