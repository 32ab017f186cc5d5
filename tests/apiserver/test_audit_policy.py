"""The audit policy: which rule decides a request's level, as kube-apiserver's policy checker."""

from __future__ import annotations

from typing import Any

import pytest

from kwok.apiserver.audit import Attributes, Policy, PolicyError


def policy(*rules: dict[str, Any], **top: Any) -> Policy:
    return Policy.parse({"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": list(rules), **top})


def pods(verb: str = "get", *, user: str = "alice", groups: tuple[str, ...] = ("dev",), namespace: str = "default",
         name: str = "web", subresource: str = "", group: str = "", resource: str = "pods") -> Attributes:
    return Attributes(user, groups, verb, f"/api/v1/namespaces/{namespace}/{resource}/{name}", True, group,
                      resource, subresource, namespace, name)


def path(p: str, verb: str = "get") -> Attributes:
    return Attributes("alice", ("dev",), verb, p, False)


def test_first_matching_rule_wins_and_no_match_is_none() -> None:
    p = policy({"level": "None", "users": ["system:kube-proxy"]},
               {"level": "RequestResponse", "verbs": ["create"]},
               {"level": "Metadata", "userGroups": ["dev"]})
    assert p.decide(pods(user="system:kube-proxy", verb="create")).level == "None"
    assert p.decide(pods(verb="create")).level == "RequestResponse"
    assert p.decide(pods(verb="list")).level == "Metadata"
    assert p.decide(pods(verb="list", groups=("ops",))).level == "None"


@pytest.mark.parametrize(("resources", "attrs", "matches"), [
    ([{"group": "", "resources": ["pods"]}], pods(), True),
    ([{"group": "", "resources": ["pods"]}], pods(subresource="status"), False),   # "pods" is not "pods/status"
    ([{"group": "", "resources": ["pods/status"]}], pods(subresource="status"), True),
    ([{"group": "", "resources": ["*/status"]}], pods(subresource="status"), True),
    ([{"group": "", "resources": ["pods/*"]}], pods(subresource="log"), True),
    ([{"group": "", "resources": ["pods/*"]}], pods(), True),      # as the real checker: the resource too
    ([{"group": "", "resources": ["*"]}], pods(subresource="exec"), True),
    ([{"group": ""}], pods(resource="secrets"), True),                             # a group alone: all of it
    ([{"group": "apps", "resources": ["pods"]}], pods(), False),
    ([{"group": "", "resources": ["pods"], "resourceNames": ["db"]}], pods(), False),
    ([{"group": "", "resources": ["pods"], "resourceNames": ["web"]}], pods(), True),
])
def test_resource_forms(resources: list[dict[str, Any]], attrs: Attributes, matches: bool) -> None:
    assert (policy({"level": "Request", "resources": resources}).decide(attrs).level == "Request") is matches


def test_namespaces_and_non_resource_urls() -> None:
    p = policy({"level": "Request", "namespaces": ["kube-system"]},
               {"level": "None", "nonResourceURLs": ["/healthz*", "/version"]},
               {"level": "Metadata"})
    assert p.decide(pods(namespace="kube-system")).level == "Request"
    assert p.decide(pods()).level == "Metadata"
    assert p.decide(pods(namespace="")).level == "Metadata"         # cluster scope is the empty namespace
    assert p.decide(path("/healthz")).level == "None"
    assert p.decide(path("/healthz/etcd")).level == "None"
    assert p.decide(path("/version")).level == "None"
    assert p.decide(path("/versions")).level == "Metadata"
    # a resource rule never matches a non-resource request, nor the reverse
    assert policy({"level": "Request", "namespaces": ["default"]}).decide(path("/api")).level == "None"
    assert policy({"level": "Request", "nonResourceURLs": ["*"]}).decide(pods()).level == "None"


def test_stages_and_managed_fields_combine_policy_and_rule() -> None:
    p = policy({"level": "Metadata", "verbs": ["watch"], "omitStages": ["ResponseStarted"],
                "omitManagedFields": False},
               {"level": "Metadata"}, omitStages=["RequestReceived"], omitManagedFields=True)
    watch = p.decide(pods(verb="watch"))
    assert watch.omit_stages == {"RequestReceived", "ResponseStarted"} and watch.omit_managed_fields is False
    other = p.decide(pods())
    assert other.omit_stages == {"RequestReceived"} and other.omit_managed_fields is True


@pytest.mark.parametrize(("doc", "message"), [
    ({"apiVersion": "v1", "kind": "ConfigMap"}, 'kind "ConfigMap" of apiVersion "v1" is not an audit policy'),
    ({"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": []}, "rules: Required value"),
    ({"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [{"level": "All"}]},
     'rules[0].level: Unsupported value: "All"'),
    ({"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [{"level": "None", "verbs": "get"}]},
     "rules[0].verbs: a list of strings is expected"),
    ({"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "omitStages": ["Done"], "rules": [{"level": "None"}]},
     'omitStages: Unsupported value: "Done"'),
    ({"apiVersion": "audit.k8s.io/v1", "kind": "Policy",
      "rules": [{"level": "None", "namespaces": ["a"], "nonResourceURLs": ["/x"]}]},
     "rules cannot apply to both regular resources and non-resource URLs"),
])
def test_bad_policies_say_what_and_where(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=None) as err:
        Policy.parse(doc, "audit.yaml")
    assert str(err.value).startswith("audit.yaml: ") and message in str(err.value)
