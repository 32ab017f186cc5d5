"""Pure parts of the subresources: Scale views, budget decisions, tokens, kubelet addressing."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace
from typing import Any

import pytest

from kwok.api.errors import ApiError
from kwok.apiserver.crd import CustomResourceStrategy, resource_info
from kwok.apiserver.subresources import (
    budget_refusal,
    choose_container,
    kubelet_base,
    make_token,
    matching_budgets,
    to_scale,
)

from .helpers import create, strategy


def served(group: str, plural: str, strat: Any = None) -> Any:
    s = strat or strategy(group, plural)
    return SimpleNamespace(info=s.info, strategy=s)


def test_scale_of_a_deployment() -> None:
    obj, _ = create("apps", "deployments", {"metadata": {"name": "web", "resourceVersion": "7"}, "spec": {
        "replicas": 3, "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["a", "b"]}]},
        "template": {"metadata": {"labels": {"app": "web", "tier": "a"}},
                     "spec": {"containers": [{"name": "c", "image": "x"}]}}}})
    obj["status"] = {"replicas": 2}
    scale = to_scale(obj, served("apps", "deployments"))
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 3}
    assert scale["status"] == {"replicas": 2, "selector": "app=web,tier in (a,b)"}
    assert scale["metadata"]["name"] == "web" and scale["metadata"]["resourceVersion"] == "7"


def test_scale_of_a_custom_resource_follows_its_paths() -> None:
    crd = {"spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "dbs", "kind": "DB"}}}
    version = {"name": "v1", "subresources": {"scale": {"specReplicasPath": ".spec.size",
                                                        "statusReplicasPath": ".status.ready",
                                                        "labelSelectorPath": ".status.selector"}}}
    strat = CustomResourceStrategy(resource_info(crd, version), version)
    obj = {"metadata": {"name": "d"}, "spec": {"size": 4}, "status": {"ready": 1, "selector": "app=db"}}
    scale = to_scale(obj, SimpleNamespace(info=strat.info, strategy=strat))
    assert scale["spec"] == {"replicas": 4} and scale["status"] == {"replicas": 1, "selector": "app=db"}


def pdb(allowed: int, **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "keep", "generation": 1},
            "spec": {"selector": {"matchLabels": {"app": "db"}}},
            "status": {"disruptionsAllowed": allowed, "desiredHealthy": 2, "currentHealthy": 2, **status}}


def test_budget_blocks_when_no_disruption_is_allowed() -> None:
    err = budget_refusal(pdb(0))
    assert isinstance(err, ApiError) and err.code == 429
    assert err.message == "Cannot evict pod as it would violate the pod's disruption budget."
    assert err.status["details"]["causes"] == [{"reason": "DisruptionBudget", "message":
                                                "The disruption budget keep needs 2 healthy pods and has 2 currently"}]
    assert budget_refusal(pdb(1)) is None


def test_only_matching_budgets_count() -> None:
    pod = {"metadata": {"name": "p", "labels": {"app": "db"}}}
    other = pdb(0)
    other["spec"]["selector"] = {"matchLabels": {"app": "web"}}
    assert matching_budgets(pod, [pdb(0), other]) == [pdb(0)]


def test_token_is_jwt_shaped_with_service_account_claims() -> None:
    account = {"metadata": {"name": "robot", "namespace": "ci", "uid": "u-1"}}
    token = make_token(account, ["api"], 1000, 4600)
    header, claims, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert decoded["sub"] == "system:serviceaccount:ci:robot" and decoded["exp"] == 4600
    assert decoded["kubernetes.io"]["serviceaccount"] == {"name": "robot", "uid": "u-1"}
    assert signature and header


def test_container_choice_for_logs_and_exec() -> None:
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}, {"name": "b"}],
                                                "initContainers": [{"name": "init"}]}}
    assert choose_container(pod, "b") == "b" and choose_container(pod, "init") == "init"
    with pytest.raises(ApiError) as caught:
        choose_container(pod, None)
    assert caught.value.message == "a container name must be specified for pod p, choose one of: [a b] or one of " \
                                   "the init containers: [init]"
    with pytest.raises(ApiError) as caught:
        choose_container(pod, "zzz")
    assert caught.value.message == "container zzz is not valid for pod p"


def test_kubelet_address_comes_from_node_status() -> None:
    node = {"status": {"addresses": [{"type": "Hostname", "address": "node-1"},
                                     {"type": "InternalIP", "address": "10.0.0.7"}],
                       "daemonEndpoints": {"kubeletEndpoint": {"Port": 10247}}}}
    # kube-apiserver's default --kubelet-preferred-address-types: Hostname, InternalDNS, InternalIP, ...
    assert kubelet_base(node) == "https://node-1:10247"
    node["status"]["addresses"] = [{"type": "ExternalIP", "address": "203.0.113.9"},
                                   {"type": "InternalIP", "address": "10.0.0.7"},
                                   {"type": "InternalIP", "address": "10.0.0.8"},
                                   {"type": "Hostname", "address": ""}]      # an empty one is skipped
    assert kubelet_base(node) == "https://10.0.0.7:10247"       # the first of its type
    assert kubelet_base({"status": {"addresses": [{"type": "InternalIP", "address": "::1"}]}}) == "https://[::1]:10250"


def test_kubelet_errors_are_relayed_as_the_real_server_relays_them() -> None:
    from kwok.apiserver.subresources import kubelet_error

    bad = kubelet_error(400, "no logs found for container app", "pods/log", "web")
    assert (bad.status["code"], bad.status["reason"], bad.status["message"]) == (
        400, "BadRequest", "no logs found for container app")
    boom = kubelet_error(500, "disk on fire", "pods/log", "web")
    assert boom.status["reason"] == "InternalError"
    assert boom.status["message"] == "Internal error occurred: disk on fire"
    missing = kubelet_error(404, "404 page not found", "pods/log", "web")
    assert missing.status["message"] == "the server could not find the requested resource (get pods/log web)"
    assert missing.status["details"]["causes"] == [{"message": "404 page not found"}]
