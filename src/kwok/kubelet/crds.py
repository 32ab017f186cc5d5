"""CustomResourceDefinitions of the 12 kwok.x-k8s.io kinds, built from the engine's CRD schemas.

Used to write deploy/kwok/crds.yaml (deploy/kwok/gen_crds.py) so that `kubectl apply` installs
them into any cluster; the schemas themselves were derived from the upstream CRDs by the engine.
"""

from __future__ import annotations

from typing import Any

from kwok.engine.crdschema import KindInfo, kinds


def crd_documents() -> list[dict[str, Any]]:
    return [_crd(info) for _, info in sorted(kinds().items(), key=lambda item: item[1].plural)]


def _crd(info: KindInfo) -> dict[str, Any]:
    version: dict[str, Any] = {
        "name": info.version,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": dict(info.schema)},
    }
    if "status" in info.subresources:
        version["subresources"] = {"status": {}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{info.plural}.{info.group}"},
        "spec": {
            "group": info.group,
            "names": {
                "kind": info.kind,
                "listKind": info.list_kind,
                "plural": info.plural,
                "singular": info.singular,
            },
            "scope": "Namespaced" if info.namespaced else "Cluster",
            "versions": [version],
        },
    }
