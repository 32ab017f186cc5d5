"""Pure pieces of admission: rule matching, selectors, CEL library, review checks, denial Status."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from kwok.apiserver.admission.cel import CompileError, EvalError, Expression, bind, bind_authorizer
from kwok.apiserver.admission.matching import Rule, Selectors, Target, matching_target, request_target
from kwok.apiserver.admission.review import InvalidResponse, review_version, verify_response
from kwok.apiserver.admission.webhook import _patched, denial
from kwok.apiserver.admission.webhook_config import compile_webhook
from tests.apiserver.semantics.helpers import admission_request

Obj = dict[str, Any]


def rule(resources: list[str], *, operations: tuple[str, ...] = ("*",), groups: tuple[str, ...] = ("*",),
         versions: tuple[str, ...] = ("*",), scope: str | None = None) -> Rule:
    spec: Obj = {"resources": resources, "operations": list(operations), "apiGroups": list(groups),
                 "apiVersions": list(versions)}
    if scope:
        spec["scope"] = scope
    return Rule.parse(spec)


POD = {"metadata": {"name": "p", "labels": {"app": "web"}}}


@pytest.mark.parametrize(("resources", "subresource", "matched"), [
    (["pods"], "", True), (["pods"], "status", False), (["pods/status"], "status", True),
    (["pods/*"], "status", True), (["pods/*"], "", True),   # sub "*" matches "" too, as upstream (["*/status"], "status", True),
    (["*"], "status", False), (["*/*"], "status", True), (["*/*"], "", True), (["configmaps"], "", False),
])
def test_resources_and_subresources(resources: list[str], subresource: str, matched: bool) -> None:
    req = admission_request("UPDATE", "", "pods", POD, old=POD)
    req.subresource = subresource
    assert rule(resources).matches(req, request_target(req)) is matched


def test_operations_groups_versions() -> None:
    req = admission_request("CREATE", "apps", "deployments", POD)
    target = request_target(req)
    assert rule(["deployments"], operations=("CREATE",), groups=("apps",), versions=("v1",)).matches(req, target)
    assert not rule(["deployments"], operations=("UPDATE", "DELETE")).matches(req, target)
    assert not rule(["deployments"], groups=("",)).matches(req, target)
    assert not rule(["deployments"], versions=("v1beta1",)).matches(req, target)


@pytest.mark.parametrize(("plural", "scope", "matched"), [
    ("pods", "Namespaced", True), ("pods", "Cluster", False), ("nodes", "Cluster", True),
    ("nodes", "Namespaced", False), ("namespaces", "Cluster", True), ("namespaces", "Namespaced", False),
    ("nodes", "*", True),
])
def test_scope(plural: str, scope: str, matched: bool) -> None:
    req = admission_request("CREATE", "", plural, POD)
    assert rule(["*"], scope=scope).matches(req, request_target(req)) is matched


def test_equivalent_versions_match_only_under_equivalent() -> None:
    req = admission_request("CREATE", "autoscaling", "horizontalpodautoscalers", POD)
    v1 = rule(["horizontalpodautoscalers"], versions=("v1",))
    other = Target("autoscaling", "v1", "horizontalpodautoscalers", "HorizontalPodAutoscaler")
    own = request_target(req)
    assert own.version != "v1"          # the schema's preferred HPA version is v2
    assert matching_target([v1], req, "Exact", [own, other]) is None
    assert matching_target([v1], req, "Equivalent", [own, other]) == other


def test_selectors() -> None:
    selectors = Selectors({"objectSelector": {"matchLabels": {"app": "web"}},
                           "namespaceSelector": {"matchExpressions": [{"key": "env", "operator": "In",
                                                                       "values": ["prod"]}]}})
    req = admission_request("CREATE", "", "pods", POD)
    assert selectors.object_matches(req)
    assert not selectors.object_matches(admission_request("CREATE", "", "pods", {"metadata": {"name": "q"}}))
    # an update matches when either the new or the old object has the labels
    unlabelled = admission_request("UPDATE", "", "pods", {"metadata": {"name": "p"}}, old=POD)
    assert selectors.object_matches(unlabelled)
    assert selectors.needs_namespace(req)
    assert selectors.namespace_matches(req, {"metadata": {"labels": {"env": "prod"}}})
    assert not selectors.namespace_matches(req, {"metadata": {"labels": {"env": "dev"}}})
    node = admission_request("CREATE", "", "nodes", {"metadata": {"name": "n"}})
    assert not selectors.needs_namespace(node) and selectors.namespace_matches(node, None)
    ns = admission_request("CREATE", "", "namespaces", {"metadata": {"name": "x", "labels": {"env": "prod"}}})
    assert selectors.namespace_matches(ns, None)


def test_webhook_defaults() -> None:
    hook = compile_webhook({"name": "w", "clientConfig": {"url": "https://x"}, "timeoutSeconds": 99}, "c")
    assert (hook.match_policy, hook.fail_open, hook.reinvoke, hook.review_versions) == ("Equivalent", False,
                                                                                       False, ["v1"])
    assert hook.timeout == 30            # bounded: a webhook never holds a request longer
    broken = compile_webhook({"name": "w", "matchConditions": [{"name": "c", "expression": "a +"}]}, "c")
    assert "compilation" in broken.broken


@pytest.mark.parametrize(("expression", "expected"), [
    ("object.metadata.name.lowerAscii()", "mixed"),
    ("object.metadata.name.upperAscii()", "MIXED"),
    ("'a,b,c'.split(',')", ["a", "b", "c"]),
    ("['a', 'b'].join('-')", "a-b"),
    ("'hello'.indexOf('l')", 2),
    ("'hello'.lastIndexOf('l')", 3),
    ("'  x '.trim()", "x"),
    ("'hello'.substring(1, 3)", "el"),
    ("'aaa'.replace('a', 'b')", "bbb"),
    ("[1, 2, 3].isSorted()", True),
    ("[3, 1].isSorted()", False),
    ("[1, 2, 3].sum()", 6),
    ("[4, 1, 3].min()", 1),
    ("[4, 1, 3].max()", 4),
    ("has(object.spec) && object.spec.replicas > 2", True),
    ("quantity('512Mi').isLessThan(quantity('1Gi'))", True),
    ("quantity('1500m').compareTo(quantity('1.5'))", 0),
    ("quantity('2').add(quantity('3')).asInteger()", 5),
    ("isQuantity('1Gi') && !isQuantity('one')", True),
    ("'abc123def45'.find('[0-9]+')", "123"),
    ("'abc123def45'.findAll('[0-9]+')", ["123", "45"]),
    ("oldObject == null", True),
])
def test_cel_library(expression: str, expected: Any) -> None:
    activation = bind({"object": {"metadata": {"name": "MiXed"}, "spec": {"replicas": 3}}, "oldObject": None})
    assert Expression(expression).evaluate(activation) == expected


def test_cel_authorizer_allows_as_the_server_does() -> None:
    activation = bind({"object": {}})
    activation["authorizer"] = bind_authorizer({"resource": {"group": "apps", "resource": "deployments"},
                                                "namespace": "default", "name": "web"})
    for expression in ("authorizer.group('apps').resource('deployments').namespace('x').check('create').allowed()",
                       "authorizer.requestResource.check('update').allowed()",
                       "!authorizer.serviceAccount('ns', 'sa').resource('pods').check('get').errored()",
                       "authorizer.path('/healthz').check('get').reason() == ''"):
        assert Expression(expression).truth(activation) is True


def test_cel_errors_read_like_cel_go() -> None:
    with pytest.raises(EvalError, match="^no such key: missing$"):
        Expression("object.missing").evaluate(bind({"object": {}}))
    with pytest.raises(CompileError):
        Expression("object.(")
    with pytest.raises(EvalError, match="expected bool"):
        Expression("1").truth({})


def test_review_versions_and_response_checks() -> None:
    assert review_version(["v2", "v1beta1", "v1"]) == "v1beta1"
    assert review_version(["v2"]) is None
    good = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {"uid": "u", "allowed": True}}
    assert verify_response("v1", "u", good, mutating=False)["allowed"] is True
    with pytest.raises(InvalidResponse, match='expected response.uid="u", got "other"'):
        verify_response("v1", "u", {**good, "response": {"uid": "other"}}, mutating=False)
    with pytest.raises(InvalidResponse, match="admission.k8s.io/v1, Kind=AdmissionReview"):
        verify_response("v1", "u", {**good, "apiVersion": "v1"}, mutating=False)
    with pytest.raises(InvalidResponse, match="patch but not response.patchType"):
        verify_response("v1", "u", {**good, "response": {"uid": "u", "allowed": True, "patch": "W10="}}, True)
    with pytest.raises(InvalidResponse, match="validating webhook may not return response.patch"):
        verify_response("v1", "u", {**good, "response": {"uid": "u", "allowed": True, "patch": "W10="}}, False)
    # v1beta1 answers may leave patchType out
    beta = {"response": {"uid": "u", "allowed": True, "patch": "W10="}}
    assert verify_response("v1beta1", "u", beta, mutating=True)["patch"] == "W10="


def test_denial_status_as_to_status_err() -> None:
    assert denial("w", {"code": 200, "message": "nope"}) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'admission webhook "w" denied the request: nope', "code": 400}
    assert denial("w", {"reason": "TooBig", "code": 413})["message"] == 'admission webhook "w" denied the request: TooBig'
    assert denial("w", None)["message"] == 'admission webhook "w" denied the request without explanation'


def test_json_patch_responses() -> None:
    hook = compile_webhook({"name": "w"}, "c")
    patch = base64.b64encode(json.dumps([{"op": "replace", "path": "/spec/replicas", "value": 2}]).encode()).decode()
    assert _patched(hook, {"spec": {"replicas": 1}}, patch) == {"spec": {"replicas": 2}}
    bad = base64.b64encode(json.dumps([{"op": "remove", "path": "/nope"}]).encode()).decode()
    with pytest.raises(Exception, match='admission webhook "w" returned an unusable patch'):
        _patched(hook, {}, bad)


def test_dynamic_admission_sits_where_kube_apiserver_puts_it() -> None:
    from kwok.apiserver.admission import default_plugins

    names = [p.name for p in default_plugins()]
    real = ["NamespaceLifecycle", "LimitRanger", "ServiceAccount", "Priority", "DefaultTolerationSeconds",
            "DefaultStorageClass", "MutatingAdmissionWebhook", "ValidatingAdmissionPolicy",
            "ValidatingAdmissionWebhook", "ResourceQuota"]
    assert [n for n in names if n in real] == real
