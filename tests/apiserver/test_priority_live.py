"""Priority admission against a running server: a PriorityClass written now decides the next pod."""

from __future__ import annotations

from typing import Any

from tests.apiserver.harness import ApiServer

CLASSES = "/apis/scheduling.k8s.io/v1/priorityclasses"
PODS = "/api/v1/namespaces/default/pods"


def _pod_priority(server: ApiServer, name: str) -> tuple[Any, Any]:
    code, pod, _ = server.request("POST", PODS, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                                                 "spec": {"containers": [{"name": "c", "image": "x"}]}})
    assert code == 201, pod
    return pod["spec"].get("priorityClassName"), pod["spec"]["priority"]


def test_global_default_class_follows_writes(apiserver: ApiServer) -> None:
    assert _pod_priority(apiserver, "before") == (None, 0)
    code, body, _ = apiserver.request("POST", CLASSES, {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                                                        "metadata": {"name": "base"}, "value": 7,
                                                        "globalDefault": True})
    assert code == 201, body
    assert _pod_priority(apiserver, "during") == ("base", 7)
    code, body, _ = apiserver.request("PATCH", f"{CLASSES}/base", {"globalDefault": False},
                                      content_type="application/merge-patch+json")
    assert code == 200, body
    assert _pod_priority(apiserver, "after-patch") == (None, 0)
    apiserver.request("PATCH", f"{CLASSES}/base", {"globalDefault": True},
                      content_type="application/merge-patch+json")
    assert _pod_priority(apiserver, "again") == ("base", 7)
    code, body, _ = apiserver.request("DELETE", f"{CLASSES}/base")
    assert code == 200, body
    assert _pod_priority(apiserver, "after-delete") == (None, 0)
