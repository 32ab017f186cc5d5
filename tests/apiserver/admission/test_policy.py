"""ValidatingAdmissionPolicy on its own: the plugin against an in-memory Lookup (no HTTP)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kwok.api import errors
from kwok.apiserver.admission.policy import ValidatingAdmissionPolicy
from kwok.apiserver.registry import AdmissionRequest
from tests.apiserver.semantics.helpers import MemoryLookup, admission_request

Obj = dict[str, Any]
GROUP = "admissionregistration.k8s.io"
DEPLOYMENTS = {"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
               "resources": ["deployments"]}


def policy(name: str = "demo-policy.example.com", **spec: Any) -> tuple[str, str, Obj]:
    body: Obj = {"failurePolicy": "Fail", "matchConstraints": {"resourceRules": [DEPLOYMENTS]},
                 "validations": [{"expression": "object.spec.replicas <= 5"}]}
    body.update(spec)
    return GROUP, "validatingadmissionpolicies", {"metadata": {"name": name}, "spec": body}


def binding(name: str = "demo-binding-test.example.com", policy_name: str = "demo-policy.example.com",
            **spec: Any) -> tuple[str, str, Obj]:
    body: Obj = {"policyName": policy_name, "validationActions": ["Deny"]}
    body.update(spec)
    return GROUP, "validatingadmissionpolicybindings", {"metadata": {"name": name}, "spec": body}


def namespace(name: str, **labels: str) -> tuple[str, str, Obj]:
    return "", "namespaces", {"metadata": {"name": name, "labels": labels}}


def deployment(replicas: int, name: str = "nginx", **labels: str) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": replicas}}


def admit(lookup: MemoryLookup, req: AdmissionRequest) -> errors.ApiError | None:
    plugin = ValidatingAdmissionPolicy()
    try:
        asyncio.run(plugin.validate(req, lookup))
    except errors.ApiError as err:
        return err
    return None


def create(obj: Obj, ns: str = "default") -> AdmissionRequest:
    return admission_request("CREATE", "apps", "deployments", obj, namespace=ns)


def test_the_docs_example_denies_too_many_replicas_in_a_test_namespace() -> None:
    lookup = MemoryLookup(policy(), binding(matchResources={"namespaceSelector": {"matchLabels":
                                                                                  {"environment": "test"}}}),
                          namespace("default"), namespace("test", environment="test"))
    assert admit(lookup, create(deployment(6), "default")) is None
    assert admit(lookup, create(deployment(5), "test")) is None
    err = admit(lookup, create(deployment(6), "test"))
    assert err is not None and err.code == 422 and err.reason == "Invalid"
    message = ("ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com' "
               "denied request: failed expression: object.spec.replicas <= 5")
    assert err.message == f'deployments.apps "nginx" is forbidden: {message}'
    assert err.status["details"]["causes"] == [{"message": message}]


def test_message_message_expression_variables_and_reason() -> None:
    lookup = MemoryLookup(policy(
        variables=[{"name": "limit", "expression": "3"}],
        validations=[{"expression": "object.spec.replicas <= variables.limit", "reason": "Forbidden",
                      "message": "static", "messageExpression":
                      "'replicas ' + string(object.spec.replicas) + ' exceed ' + string(variables.limit)"}]),
        binding())
    err = admit(lookup, create(deployment(4)))
    assert err is not None and err.code == 403 and err.reason == "Forbidden"
    assert err.message.endswith("denied request: replicas 4 exceed 3")


def test_warn_and_audit_actions_do_not_refuse() -> None:
    lookup = MemoryLookup(policy(), binding(validationActions=["Warn", "Audit"]))
    req = create(deployment(9))
    assert admit(lookup, req) is None
    assert req.ctx.extra["warnings"] == [
        "Validation failed for ValidatingAdmissionPolicy 'demo-policy.example.com' with binding "
        "'demo-binding-test.example.com': failed expression: object.spec.replicas <= 5"]


@pytest.mark.parametrize(("failure_policy", "refused"), [("Fail", True), ("Ignore", False)])
def test_an_evaluation_error_follows_the_failure_policy(failure_policy: str, refused: bool) -> None:
    lookup = MemoryLookup(policy(failurePolicy=failure_policy,
                                 validations=[{"expression": "object.spec.paused == false"}]), binding())
    err = admit(lookup, create(deployment(1)))
    assert (err is not None) == refused
    if err is not None:
        assert err.message.endswith("denied request: expression 'object.spec.paused == false' resulted in "
                                    "error: no such key: paused")


def test_params_from_a_configmap_and_a_missing_param() -> None:
    limits = ("", "configmaps", {"metadata": {"name": "limits", "namespace": "default"}, "data": {"max": "2"}})
    spec = {"paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
            "validations": [{"expression": "object.spec.replicas <= int(params.data.max)"}]}
    lookup = MemoryLookup(policy(**spec), binding(paramRef={"name": "limits", "parameterNotFoundAction": "Deny"}),
                          limits)
    assert admit(lookup, create(deployment(2))) is None
    assert admit(lookup, create(deployment(3))) is not None
    missing = admit(lookup, create(deployment(1), "other"))
    assert missing is not None
    assert missing.message.endswith("no params found for policy binding with `Deny` parameterNotFoundAction")
    allowing = MemoryLookup(policy(**spec), binding(paramRef={"name": "limits", "parameterNotFoundAction": "Allow"}))
    assert admit(allowing, create(deployment(9))) is None


def test_old_object_request_and_namespace_object() -> None:
    lookup = MemoryLookup(policy(validations=[
        {"expression": "request.operation != 'UPDATE' || object.spec.replicas >= oldObject.spec.replicas",
         "message": "no scaling down"},
        {"expression": "namespaceObject.metadata.name != 'frozen'", "message": "frozen"}]),
        binding(), namespace("default"), namespace("frozen"))
    scale_down = admission_request("UPDATE", "apps", "deployments", deployment(1), old=deployment(3))
    err = admit(lookup, scale_down)
    assert err is not None and err.message.endswith("denied request: no scaling down")
    frozen = admit(lookup, create(deployment(1), "frozen"))
    assert frozen is not None and frozen.message.endswith("denied request: frozen")
    assert admit(lookup, create(deployment(1))) is None


def test_match_conditions_and_excluded_resources_skip_the_policy() -> None:
    lookup = MemoryLookup(policy(matchConditions=[{"name": "labelled", "expression":
                                                   "'enforce' in object.metadata.labels"}]), binding())
    assert admit(lookup, create(deployment(9))) is None
    assert admit(lookup, create(deployment(9, enforce="yes"))) is not None
    excluded = MemoryLookup(policy(matchConstraints={
        "resourceRules": [DEPLOYMENTS],
        "excludeResourceRules": [{**DEPLOYMENTS, "resourceNames": ["legacy"]}]}), binding())
    assert admit(excluded, create(deployment(9, "legacy"))) is None
    assert admit(excluded, create(deployment(9, "modern"))) is not None


def test_a_binding_without_its_policy_or_a_policy_without_binding_does_nothing() -> None:
    assert admit(MemoryLookup(policy()), create(deployment(9))) is None
    assert admit(MemoryLookup(binding(policy_name="absent")), create(deployment(9))) is None


def test_a_policy_that_does_not_compile_refuses_under_fail() -> None:
    lookup = MemoryLookup(policy(validations=[{"expression": "object.spec.replicas <="}]), binding())
    err = admit(lookup, create(deployment(1)))
    assert err is not None and "compilation" in err.message
