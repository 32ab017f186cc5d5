"""The client-go JSONPath subset used by CRD printer columns."""

from __future__ import annotations

import pytest

from kwok.api.jsonpath import JSONPathError, compile_path, find, go_float, print_value

DEPLOYMENT = {
    "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}},
    "spec": {
        "replicas": 3,
        "template": {"spec": {"containers": [
            {"name": "nginx", "image": "nginx:1", "ports": [{"containerPort": 80}]},
            {"name": "sidecar", "image": "envoy:2"},
        ]}},
    },
    "status": {"conditions": [
        {"type": "Available", "status": "True", "observed": 2},
        {"type": "Progressing", "status": "False", "observed": 5},
    ]},
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".spec.replicas", [3]),
        ("{.spec.replicas}", [3]),
        ("$.spec.replicas", [3]),
        (".metadata['name']", ["web"]),
        ('.metadata.labels["tier"]', ["front"]),
        (".spec.template.spec.containers[0].image", ["nginx:1"]),
        (".spec.template.spec.containers[-1].name", ["sidecar"]),
        (".spec.template.spec.containers[*].name", ["nginx", "sidecar"]),
        (".spec.template.spec.containers[0:1].name", ["nginx"]),
        (".status.conditions[?(@.type==\"Available\")].status", ["True"]),
        (".status.conditions[?(@.type=='Progressing')].status", ["False"]),
        (".status.conditions[?(@.type!=\"Available\")].type", ["Progressing"]),
        (".status.conditions[?(@.observed>3)].type", ["Progressing"]),
        (".status.conditions[?(@.observed<=2)].type", ["Available"]),
        ("..containerPort", [80]),
        (".metadata.labels.*", ["web", "front"]),
    ],
)
def test_paths_select_what_kubectl_selects(path: str, expected: list[object]) -> None:
    assert find(path, DEPLOYMENT) == expected


@pytest.mark.parametrize(
    "path",
    [".spec.missing", ".spec.template.spec.containers[7]", ".status.conditions[?(@.type==\"Nope\")].status",
     ".spec.template.spec.containers.name"],
)
def test_missing_keys_give_no_result_instead_of_failing(path: str) -> None:
    assert find(path, DEPLOYMENT) == []


def test_escaped_dots_reach_keys_with_dots() -> None:
    labelled = {"metadata": {"labels": {"app.kubernetes.io/name": "web"}}}
    assert find(r".metadata.labels.app\.kubernetes\.io/name", labelled) == ["web"]
    assert find(".metadata.labels.app.kubernetes.io/name", labelled) == []


def test_filter_on_existence() -> None:
    assert find(".spec.template.spec.containers[?(@.ports)].name", DEPLOYMENT) == ["nginx"]


@pytest.mark.parametrize("path", [".spec[", ".spec[abc]", ".a[?(@.x==\"y\"", ".a[1:2:0]"])
def test_malformed_paths_are_rejected(path: str) -> None:
    with pytest.raises(JSONPathError):
        compile_path(path)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"b": 1, "a": [True, None]}, '{"a":[true,null],"b":1}'),
        (True, "true"),
        (7, "7"),
        ("plain", "plain"),
        (1.5, "1.5"),
        (3.0, "3"),
        (1e6, "1e+06"),
        (123456789.0, "1.23456789e+08"),
        (100000.0, "100000"),
        (0.00001, "1e-05"),
        (0.0001, "0.0001"),
    ],
)
def test_values_print_as_go_prints_them(value: object, text: str) -> None:
    assert print_value(value) == text


def test_go_float_negative() -> None:
    assert go_float(-2.5e-7) == "-2.5e-07"
