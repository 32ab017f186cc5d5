"""Loading KWOK configuration documents: schema checks, defaults, clear errors."""

from __future__ import annotations

import pathlib

import pytest

from kwok.engine.config import ConfigError, load_documents
from kwok.engine.crdschema import kinds
from tests.conftest import SHARED_DIR

HERE = pathlib.Path(__file__).parent


def test_the_twelve_kinds_come_from_the_upstream_crds() -> None:
    assert sorted(kinds()) == sorted(
        [
            "Stage",
            "ResourceUsage",
            "ClusterResourceUsage",
            "Metric",
            "Logs",
            "ClusterLogs",
            "Exec",
            "ClusterExec",
            "Attach",
            "ClusterAttach",
            "PortForward",
            "ClusterPortForward",
        ]
    )
    assert kinds()["Logs"].namespaced and not kinds()["ClusterLogs"].namespaced
    assert kinds()["Stage"].plural == "stages" and kinds()["Stage"].subresources == ("status",)


def test_shipped_crd_data_matches_upstream() -> None:
    import importlib.util

    upstream = pathlib.Path(SHARED_DIR + "/upstream/kwok/kustomize/crd/bases")
    if not upstream.exists():
        pytest.skip("upstream CRDs not present")
    spec = importlib.util.spec_from_file_location("gen_crds", HERE / "gen_crds.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.TARGET.read_text() == gen.render(gen.derive(str(upstream))), "run tests/engine/gen_crds.py"


def test_multi_document_with_defaults_and_unknown_kinds() -> None:
    docs = load_documents(
        """
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: s}
spec:
  resourceRef: {kind: Pod}
  selector: {}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: sc}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Metric
metadata: {name: m}
spec:
  path: /metrics/nodes/{nodeName}/metrics/resource
  metrics:
  - {name: up, kind: gauge, value: "1"}
---
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options: {nodeIP: 10.1.1.1}
""",
        "kwok.yaml",
    )
    stage, metric, config = docs.objects
    assert stage["spec"]["resourceRef"] == {"apiGroup": "v1", "kind": "Pod"}  # CRD default
    assert stage["spec"]["weight"] == 0
    assert metric["spec"]["metrics"][0]["dimension"] == "node"
    assert config["options"]["cidr"] == "10.0.0.0/24" and config["options"]["nodeIP"] == "10.1.1.1"
    assert config["options"]["podPlayStageParallelism"] == 4
    assert docs.warnings == ["kwok.yaml: document 2: unsupported kind 'StorageClass', skipped"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "kind: Stage\nmetadata: {name: x}\nspec: {resourceRef: {}}",
            'f.yaml: document 1 (Stage "x"): spec.resourceRef.kind: Required value',
        ),
        (
            "kind: Stage\nmetadata: {name: x}\nspec: {resourceRef: {kind: Pod}, weight: heavy}",
            'f.yaml: document 1 (Stage "x"): spec.weight: Invalid value: "heavy": spec.weight in body must be of type integer: "string"',
        ),
        (
            "---\n---\nkind: Metric\nmetadata: {name: m}\nspec: {path: /m, metrics: [{name: a, kind: summary}]}",
            'f.yaml: document 2 (Metric "m"): spec.metrics[0].kind: Unsupported value: "summary": supported values: "counter", "gauge", "histogram"',
        ),
        (
            "kind: Stage\nmetadata: {name: x}\nspec:\n  resourceRef: {kind: Pod}\n  steps:\n  - patch: {template: '{{ .a'}\n",
            'f.yaml: document 1 (Stage "x"): spec.steps[0].patch.template: template: x:1: unclosed action',
        ),
        (
            "kind: KwokConfiguration\noptions: {nodePort: high}",
            "f.yaml: document 1 (KwokConfiguration (unnamed)): options.nodePort",
        ),
        (
            "kind: KwokctlResource\nmetadata: {name: node}\ntemplate: '{{ Nope }}'",
            'function "Nope" not defined',
        ),
        ("a: [", "f.yaml: invalid YAML"),
        (
            "kind: Metric\nmetadata: {name: m}\nspec: {path: /m, metrics: [{name: a, kind: gauge, value: 'pod.Usage('}]}",
            "spec.metrics[0].value: invalid CEL expression",
        ),
        (
            "kind: ClusterResourceUsage\nmetadata: {name: u}\nspec: {usages: [{usage: {cpu: {value: lots}}}]}",
            "spec.usages[0].usage.cpu.value: Invalid value: 'lots'",
        ),
    ],
)
def test_errors_name_file_document_and_field(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_documents(text, "f.yaml")
    assert message in str(err.value)


def test_scale_templates_may_use_scale_functions() -> None:
    docs = load_documents(
        "kind: KwokctlResource\nmetadata: {name: node}\ntemplate: '{{ Name }} {{ AddCIDR \"10.0.0.0/24\" Index }}'"
    )
    assert docs.objects[0]["metadata"]["name"] == "node"
