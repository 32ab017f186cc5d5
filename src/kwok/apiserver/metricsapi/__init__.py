"""metrics.k8s.io/v1beta1: the resource metrics API that `kubectl top` and autoscalers read.

A real cluster serves it from metrics-server through the aggregation layer; here the API server
serves it itself, with metrics-server's behaviour: NodeMetrics (`nodes`, cluster scope) and
PodMetrics (`pods`, namespaced), verbs get and list, label selectors and the metadata field
selectors, Tables, and the same NotFound errors while a node or pod has no metrics yet. The
numbers come from each node's kubelet endpoint over HTTP (see scraper.py), never from kwok's code.
"""

from __future__ import annotations

from kwok.api.schema import ResourceInfo

__all__ = ["GROUP", "RESOURCES", "VERSION"]
GROUP, VERSION = "metrics.k8s.io", "v1beta1"
_VERBS = ("get", "list")
# what discovery lists (the handlers, in api.py, are imported when the group is first asked for)
RESOURCES = (
    ResourceInfo(GROUP, VERSION, "NodeMetrics", "nodes", "", False, "NodeMetricsList", _VERBS),
    ResourceInfo(GROUP, VERSION, "PodMetrics", "pods", "", True, "PodMetricsList", _VERBS),
)
