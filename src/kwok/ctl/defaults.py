"""The kwok documents a new cluster gets unless the user brings their own (as KWOK's kwokctl does).

- Stages: KWOK's `node-fast` and `pod-fast` sets (kwokctl embeds them), so nodes become Ready and
  pods Running without any configuration.
- Metrics: the Metric `metrics-resource` (the kubelet's /metrics/resource of every fake node, at
  /metrics/nodes/{nodeName}/metrics/resource on kwok's port) and the ClusterResourceUsage
  `usage-from-annotation`, which KWOK's kwokctl installs with its metrics-server. Our API server
  serves metrics.k8s.io itself from those endpoints, so every cluster gets them and `kubectl top`
  works; `--disable metrics-server` leaves them out.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import yaml

from kwok.ctl.config import ClusterConfig

METRICS_SERVER = "metrics-server"
_USAGE_KINDS = ("Metric", "ResourceUsage", "ClusterResourceUsage")


def add_default_documents(cfg: ClusterConfig) -> None:
    kinds = {d.get("kind") for d in cfg.documents}
    crds = set(cfg.options["enableCRDs"])
    if "Stage" not in kinds and "Stage" not in crds:
        cfg.documents.extend(_default_stages(cfg.options))
    if _wants_metrics(cfg.options) and not (kinds | crds) & set(_USAGE_KINDS):
        cfg.documents.extend(default_metrics_documents())


def _default_stages(opts: dict[str, Any]) -> list[dict[str, Any]]:
    from kwok.engine.stagesets import default_stages

    lease = int(opts["nodeLeaseDurationSeconds"]) > 0
    return list(default_stages(["node-fast", "pod-fast"], lease=lease,
                               status_update_ms=int(opts["nodeStatusUpdateFrequencyMilliseconds"])))


def _wants_metrics(opts: dict[str, Any]) -> bool:
    return METRICS_SERVER not in opts["disable"]


def default_metrics_documents() -> list[dict[str, Any]]:
    """The Metric and ClusterResourceUsage that kwok ships (kwok/kubelet/usage/defaults)."""
    # Read as package data: importing kwok.kubelet.usage would load aiohttp into kwokctl.
    spec = importlib.util.find_spec("kwok.kubelet.usage")
    assert spec is not None and spec.origin is not None
    folder = Path(spec.origin).parent / "defaults"
    docs = []
    for name in ("metrics-resource.yaml", "usage-from-annotation.yaml"):
        doc = yaml.load((folder / name).read_text(), Loader=yaml.CSafeLoader)
        docs.append(doc)
    return docs
