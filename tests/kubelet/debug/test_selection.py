"""Which Logs/Exec/PortForward entry a pod's container (or port) gets: KWOK's selection rule."""

from __future__ import annotations

from typing import Any

import pytest

from kwok.kubelet.debug.selection import EXEC, LOGS, PORT_FORWARD, TargetNotFound, select


def logs(name: str, entries: list[dict[str, Any]], namespace: str = "default") -> dict[str, Any]:
    return {"kind": "Logs", "metadata": {"name": name, "namespace": namespace}, "spec": {"logs": entries}}


def cluster_logs(name: str, entries: list[dict[str, Any]], selector: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"logs": entries}
    if selector is not None:
        spec["selector"] = selector
    return {"kind": "ClusterLogs", "metadata": {"name": name}, "spec": spec}


def test_namespaced_object_named_like_the_pod_wins_over_cluster_objects() -> None:
    own = logs("web", [{"logsFile": "/own.log"}])
    everyone = cluster_logs("all", [{"logsFile": "/all.log"}])
    assert select(LOGS, [own], [everyone], "default", "web", "app")["logsFile"] == "/own.log"
    assert select(LOGS, [own], [everyone], "other", "web", "app")["logsFile"] == "/all.log"


def test_namespaced_object_without_the_container_is_an_error_not_a_fallthrough() -> None:
    own = logs("web", [{"containers": ["sidecar"], "logsFile": "/sidecar.log"}])
    everyone = cluster_logs("all", [{"logsFile": "/all.log"}])
    with pytest.raises(TargetNotFound, match='log target not found for container "app" in pod "default/web"'):
        select(LOGS, [own], [everyone], "default", "web", "app")


def test_entry_naming_the_container_beats_the_default_entry_listed_before_it() -> None:
    obj = cluster_logs("all", [{"logsFile": "/default.log"}, {"containers": ["app"], "logsFile": "/app.log"}])
    assert select(LOGS, [], [obj], "default", "web", "app")["logsFile"] == "/app.log"
    assert select(LOGS, [], [obj], "default", "web", "other")["logsFile"] == "/default.log"


def test_first_matching_cluster_object_with_an_entry_is_used() -> None:
    elsewhere = cluster_logs("a", [{"logsFile": "/a.log"}], {"matchNamespaces": ["kube-system"]})
    only_db = cluster_logs("b", [{"containers": ["db"], "logsFile": "/b.log"}])
    by_name = cluster_logs("c", [{"logsFile": "/c.log"}], {"matchNames": ["web"], "matchNamespaces": []})
    assert select(LOGS, [], [elsewhere, only_db, by_name], "default", "web", "app")["logsFile"] == "/c.log"
    with pytest.raises(TargetNotFound, match='no logs found for container "app" in pod "default/api"'):
        select(LOGS, [], [elsewhere, only_db, by_name], "default", "api", "app")


def test_exec_and_port_forward_use_their_own_lists_and_wording() -> None:
    execs = [{"kind": "ClusterExec", "metadata": {"name": "x"}, "spec": {"execs": [{"local": {"workDir": "/"}}]}}]
    assert select(EXEC, [], execs, "ns", "p", "c")["local"] == {"workDir": "/"}
    forwards = [{"kind": "ClusterPortForward", "metadata": {"name": "f"},
                 "spec": {"forwards": [{"ports": [80], "target": {"port": 8080}}]}}]
    assert select(PORT_FORWARD, [], forwards, "ns", "p", 80)["target"] == {"port": 8080}
    with pytest.raises(TargetNotFound, match='no forward found for port 81 in pod "ns/p"'):
        select(PORT_FORWARD, [], forwards, "ns", "p", 81)
