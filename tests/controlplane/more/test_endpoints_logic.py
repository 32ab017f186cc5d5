"""What Endpoints and EndpointSlices a Service gets from its pods (pure logic)."""

from __future__ import annotations

from typing import Any

from kwok.controlplane.controllers import endpoints_logic as logic

from .objects import make_pod

HTTP = [{"name": "http", "containerPort": 8080}]


def service(target: Any = "http", publish: bool = False) -> dict[str, Any]:
    return {"metadata": {"name": "web", "namespace": "default", "uid": "svc"},
            "spec": {"selector": {"app": "web"}, "publishNotReadyAddresses": publish,
                     "ports": [{"name": "web", "port": 80, "targetPort": target, "protocol": "TCP"}]}}


def web(name: str, ip: str | None, **kw: Any) -> dict[str, Any]:
    return make_pod(name, {"app": "web"}, ip=ip, ports=kw.pop("ports", HTTP), **kw)


def test_ready_pods_are_addresses_the_others_not_ready_and_finished_or_ipless_pods_nothing() -> None:
    pods = [web("a", "10.0.0.1"), web("b", "10.0.0.2", ready=False), web("c", "10.0.0.3", phase="Succeeded"),
            web("d", None, ready=False), web("e", "10.0.0.5", deleting=True),
            make_pod("other", {"app": "db"}, ip="10.0.0.9", ports=HTTP)]
    subsets = logic.endpoints_subsets(service(), pods)
    assert len(subsets) == 1
    assert [a["ip"] for a in subsets[0]["addresses"]] == ["10.0.0.1"]
    assert [a["ip"] for a in subsets[0]["notReadyAddresses"]] == ["10.0.0.2"]
    assert subsets[0]["addresses"][0]["targetRef"] == {"kind": "Pod", "namespace": "default", "name": "a",
                                                       "uid": "uid-a"}
    assert subsets[0]["ports"] == [{"name": "web", "port": 8080, "protocol": "TCP"}]


def test_publish_not_ready_addresses_lists_every_pod_as_ready() -> None:
    subsets = logic.endpoints_subsets(service(publish=True), [web("a", "10.0.0.1"), web("b", "10.0.0.2", ready=False)])
    assert sorted(a["ip"] for a in subsets[0]["addresses"]) == ["10.0.0.1", "10.0.0.2"]
    assert "notReadyAddresses" not in subsets[0]


def test_named_target_port_resolves_per_pod_and_splits_subsets() -> None:
    other_port = [{"name": "http", "containerPort": 9090}]
    subsets = logic.endpoints_subsets(service(), [web("a", "10.0.0.1"), web("b", "10.0.0.2", ports=other_port)])
    by_port = {s["ports"][0]["port"]: [a["ip"] for a in s["addresses"]] for s in subsets}
    assert by_port == {8080: ["10.0.0.1"], 9090: ["10.0.0.2"]}
    numeric = logic.endpoints_subsets(service(target=7000), [web("a", "10.0.0.1")])
    assert numeric[0]["ports"][0]["port"] == 7000


def test_slices_keep_terminating_pods_with_their_conditions() -> None:
    pods = [web("a", "10.0.0.1"), web("b", "10.0.0.2", ready=False), web("e", "10.0.0.5", deleting=True)]
    [(ports, endpoints)] = logic.slice_groups(service(), pods)
    assert ports == [{"name": "web", "port": 8080, "protocol": "TCP"}]
    conditions = {e["addresses"][0]: e["conditions"] for e in endpoints}
    assert conditions == {"10.0.0.1": {"ready": True, "serving": True, "terminating": False},
                          "10.0.0.2": {"ready": False, "serving": False, "terminating": False},
                          "10.0.0.5": {"ready": False, "serving": True, "terminating": True}}


def test_slices_hold_at_most_100_endpoints_and_a_service_without_pods_gets_an_empty_one() -> None:
    pods = [web(f"p{i:03}", f"10.0.{i // 250}.{i % 250 + 1}") for i in range(250)]
    groups = logic.slice_groups(service(), pods)
    assert sorted(len(endpoints) for _, endpoints in groups) == [50, 100, 100]
    assert len({e["addresses"][0] for _, endpoints in groups for e in endpoints}) == 250
    assert logic.slice_groups(service(), []) == [([], [])]


def test_endpoints_addresses_are_sorted_by_ip() -> None:
    subsets = logic.endpoints_subsets(service(), [web("a", "10.0.0.2"), web("z", "10.0.0.1")])
    assert [a["ip"] for a in subsets[0]["addresses"]] == ["10.0.0.1", "10.0.0.2"]


def test_pod_hostname_published_when_its_subdomain_is_the_service() -> None:
    pod = web("web-0", "10.0.0.1")
    pod["spec"].update(hostname="web-0", subdomain="web")
    assert logic.endpoints_subsets(service(), [pod])[0]["addresses"][0].get("hostname") == "web-0"
    [(_, endpoints)] = logic.slice_groups(service(), [pod])
    assert endpoints[0].get("hostname") == "web-0"
    other = web("web-1", "10.0.0.2")
    other["spec"].update(hostname="web-1", subdomain="elsewhere")
    assert "hostname" not in logic.endpoints_subsets(service(), [other])[0]["addresses"][0]


def test_ports_shared_by_the_same_addresses_form_one_subset() -> None:
    svc = service()
    svc["spec"]["ports"].append({"name": "metrics", "port": 9100, "targetPort": "metrics", "protocol": "TCP"})
    both = HTTP + [{"name": "metrics", "containerPort": 9100}]
    subsets = logic.endpoints_subsets(svc, [web("a", "10.0.0.1", ports=both), web("b", "10.0.0.2")])
    shape = sorted(([p["name"] for p in s["ports"]], [a["ip"] for a in s["addresses"]]) for s in subsets)
    assert shape == [(["metrics"], ["10.0.0.1"]), (["web"], ["10.0.0.1", "10.0.0.2"])]
    together = logic.endpoints_subsets(svc, [web("a", "10.0.0.1", ports=both), web("b", "10.0.0.2", ports=both)])
    assert [[p["name"] for p in s["ports"]] for s in together] == [["metrics", "web"]]


def test_headless_label() -> None:
    svc = service()
    svc["metadata"]["labels"] = {"tier": "db", logic.HEADLESS_LABEL: ""}
    svc["spec"]["clusterIP"] = "10.96.0.10"
    assert logic.labels_for(svc) == {"tier": "db"}
    svc["spec"]["clusterIP"] = "None"
    assert logic.labels_for(svc) == {"tier": "db", logic.HEADLESS_LABEL: ""}


def test_endpoints_hold_at_most_1000_addresses_ready_first() -> None:
    pods = [web(f"r{i:04}", f"10.1.{i // 250}.{i % 250 + 1}") for i in range(900)]
    pods += [web(f"n{i:04}", f"10.2.{i // 250}.{i % 250 + 1}", ready=False) for i in range(300)]
    subsets = logic.endpoints_subsets(service(), pods)
    assert logic.truncate(subsets)
    assert len(subsets[0]["addresses"]) == 900 and len(subsets[0]["notReadyAddresses"]) == 100
    many = logic.endpoints_subsets(service(), [web(f"r{i:04}", f"10.1.{i // 250}.{i % 250 + 1}") for i in range(1200)]
                                   + [web("slow", "10.9.0.1", ready=False)])
    assert logic.truncate(many)
    assert len(many[0]["addresses"]) == 1000 and "notReadyAddresses" not in many[0]
    few = logic.endpoints_subsets(service(), pods[:10])
    assert not logic.truncate(few) and len(few[0]["addresses"]) == 10
