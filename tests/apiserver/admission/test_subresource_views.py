"""What admission sees of subresource requests, plugin by plugin against an in-memory Lookup:
a scale write shows its Scale (of a custom resource too, through its CRD's scale paths), and a
CONNECT shows the options object decoded from the query."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from multidict import MultiDict

from kwok.api import errors
from kwok.apiserver.admission.connect import connect_options
from kwok.apiserver.admission.policy import ValidatingAdmissionPolicy
from kwok.apiserver.crd import resource_info
from kwok.apiserver.registry import AdmissionRequest, RequestContext
from tests.apiserver.semantics.helpers import MemoryLookup, admission_request

Obj = dict[str, Any]
GROUP = "admissionregistration.k8s.io"


def _policy(expression: str, rule: Obj, **binding_spec: Any) -> list[tuple[str, str, Obj]]:
    return [(GROUP, "validatingadmissionpolicies", {"metadata": {"name": "p"}, "spec": {
                "failurePolicy": "Fail", "matchConstraints": {"resourceRules": [rule]},
                "validations": [{"expression": expression}]}}),
            (GROUP, "validatingadmissionpolicybindings", {"metadata": {"name": "b"}, "spec": {
                "policyName": "p", "validationActions": ["Deny"], **binding_spec}})]


def _refusal(lookup: MemoryLookup, req: AdmissionRequest) -> errors.ApiError | None:
    try:
        asyncio.run(ValidatingAdmissionPolicy().validate(req, lookup))
    except errors.ApiError as err:
        return err
    return None


# ------------------------------------------------------------------------------------------- scale

CRD: Obj = {"metadata": {"name": "databases.example.com"}, "spec": {
    "group": "example.com", "scope": "Namespaced", "names": {"plural": "databases", "kind": "Database"},
    "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"scale": {
        "specReplicasPath": ".spec.size", "statusReplicasPath": ".status.ready"}}}]}}
SCALE_RULE = {"apiGroups": ["example.com"], "apiVersions": ["v1"], "operations": ["UPDATE"],
              "resources": ["databases/scale"]}


def _database_scale(size: int) -> AdmissionRequest:
    info = resource_info(CRD, CRD["spec"]["versions"][0])
    old = {"apiVersion": "example.com/v1", "kind": "Database", "metadata": {"name": "db", "namespace": "default"},
           "spec": {"size": 1}, "status": {"ready": 1}}
    new = {**old, "spec": {"size": size}}
    return AdmissionRequest(operation="UPDATE", info=info, namespace="default", name="db", obj=new, old=old,
                            subresource="scale", ctx=RequestContext(namespace="default"))


def test_a_policy_sees_the_scale_of_a_custom_resource_through_its_crd_paths() -> None:
    lookup = MemoryLookup(("apiextensions.k8s.io", "customresourcedefinitions", CRD),
                          *_policy("request.kind.kind == 'Scale' && object.spec.replicas <= 3 "
                                   "&& oldObject.status.replicas == 1", SCALE_RULE))
    assert _refusal(lookup, _database_scale(3)) is None
    refused = _refusal(lookup, _database_scale(4))
    assert refused is not None and refused.code == 422
    assert refused.status["details"]["kind"] == "databases" and refused.status["details"]["name"] == "db"


def test_an_object_selector_never_selects_a_scale_which_has_no_labels() -> None:
    rule = {"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["UPDATE"], "resources": ["deployments/*"]}
    lookup = MemoryLookup(*_policy("false", rule, matchResources={"objectSelector": {"matchLabels": {"app": "web"}}}))
    labelled = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}},
                "spec": {"replicas": 2}, "status": {"replicas": 1}}
    scale = dataclasses.replace(admission_request("UPDATE", "apps", "deployments", labelled, old=labelled),
                                subresource="scale")
    assert _refusal(lookup, scale) is None
    status = dataclasses.replace(scale, subresource="status")      # the Deployment itself: selected
    assert _refusal(lookup, status) is not None


# ----------------------------------------------------------------------------------------- connect

def test_exec_options_decode_as_the_parameter_codec_does() -> None:
    query = MultiDict([("command", "sh"), ("command", "-c"), ("command", "ls"), ("stdin", "true"),
                       ("stdout", "1"), ("stderr", "false"), ("tty", ""), ("container", "app")])
    assert connect_options("pods", "exec", query) == {
        "kind": "PodExecOptions", "apiVersion": "v1", "stdin": True, "stdout": True, "tty": True,
        "container": "app", "command": ["sh", "-c", "ls"]}
    # command is not omitempty: an exec without one shows it as null
    assert connect_options("pods", "exec", MultiDict(stdout="0")) == {
        "kind": "PodExecOptions", "apiVersion": "v1", "command": None}
    assert connect_options("pods", "attach", MultiDict(stdin="true", container="c")) == {
        "kind": "PodAttachOptions", "apiVersion": "v1", "stdin": True, "container": "c"}


def test_port_forward_options_take_every_port_and_refuse_bad_ones() -> None:
    query = MultiDict([("ports", "80,443"), ("ports", "8080")])
    assert connect_options("pods", "portforward", query) == {
        "kind": "PodPortForwardOptions", "apiVersion": "v1", "ports": [80, 443, 8080]}
    with pytest.raises(errors.ApiError) as bad:
        connect_options("pods", "portforward", MultiDict(ports="http"))
    assert bad.value.code == 400
    assert bad.value.message == 'cannot convert to []int32: strconv.ParseUint: parsing "http": invalid syntax'


def test_proxy_options_carry_the_path() -> None:
    assert connect_options("nodes", "proxy", MultiDict(), path="metrics") == {
        "kind": "NodeProxyOptions", "apiVersion": "v1", "path": "metrics"}


def test_a_policy_denial_of_a_connect_is_the_internal_error_of_the_real_server() -> None:
    """admission.NewForbidden cannot name an options object (it has no metadata)."""
    rule = {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CONNECT"], "resources": ["pods/exec"]}
    lookup = MemoryLookup(*_policy("!('rm' in object.command)", rule))
    req = dataclasses.replace(admission_request("CONNECT", "", "pods", None), name="shell", subresource="exec")
    req.obj = {"kind": "PodExecOptions", "apiVersion": "v1", "stdout": True, "command": ["ls"]}
    assert _refusal(lookup, req) is None
    req.obj["command"] = ["rm", "-rf", "/"]
    refused = _refusal(lookup, req)
    assert refused is not None
    denial = "ValidatingAdmissionPolicy 'p' with binding 'b' denied request: failed expression: !('rm' in object.command)"
    assert refused.code == 422 and refused.status["reason"] == "Invalid"
    assert refused.message == f"Internal error occurred: [{denial}, object does not implement the Object interfaces]"
    assert refused.status["details"]["causes"][-1] == {"message": denial}


def test_an_object_selector_never_selects_connect_options() -> None:
    """Even a selector every labelled object passes (DoesNotExist) skips an object without metadata."""
    rule = {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CONNECT"], "resources": ["pods/exec"]}
    absent = {"matchExpressions": [{"key": "locked", "operator": "DoesNotExist"}]}
    lookup = MemoryLookup(*_policy("false", rule, matchResources={"objectSelector": absent}))
    req = dataclasses.replace(admission_request("CONNECT", "", "pods", None), name="shell", subresource="exec")
    req.obj = {"kind": "PodExecOptions", "apiVersion": "v1", "stdout": True, "command": ["ls"]}
    assert _refusal(lookup, req) is None
    unselected = MemoryLookup(*_policy("false", rule))
    assert _refusal(unselected, req) is not None
