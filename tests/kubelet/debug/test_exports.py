"""The public surface of the kubelet endpoint packages, which the controller's server mounts."""

from __future__ import annotations

import kwok.kubelet.debug as debug
import kwok.kubelet.usage as usage


def test_exported_members() -> None:
    assert sorted(debug.__all__) == ["ConfigObjects", "ObjectSource", "add_routes"]
    assert sorted(usage.__all__) == [
        "ControllerSource", "MetricsEndpoint", "UsageSource", "add_routes", "default_documents",
        "mount_kubelet_endpoints",
    ]
    for module in (debug, usage):
        for name in module.__all__:
            assert getattr(module, name) is not None


def test_shipped_defaults_are_valid_kwok_configuration() -> None:
    import yaml

    from kwok.engine.config import load_documents

    documents = usage.default_documents()
    assert [(d["kind"], d["metadata"]["name"]) for d in documents] == [
        ("Metric", "metrics-resource"), ("ClusterResourceUsage", "usage-from-annotation")]
    loaded = load_documents(yaml.dump_all(documents, Dumper=yaml.CSafeDumper), "defaults")
    assert len(loaded.objects) == 2 and not loaded.warnings
