"""Status errors: the bodies kubectl and the Python client read, field for field."""

from __future__ import annotations

import orjson
import pytest

from kwok.api import errors
from kwok.api.errors import ApiError


def test_not_found_names_the_qualified_resource() -> None:
    err = errors.not_found("deployments", "web", group="apps")
    assert err.code == 404
    assert err.status == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'deployments.apps "web" not found', "reason": "NotFound",
        "details": {"name": "web", "group": "apps", "kind": "deployments"}, "code": 404,
    }
    assert str(errors.not_found("pods", "x")) == 'pods "x" not found'


def test_status_key_order_matches_the_real_server() -> None:
    body = orjson.dumps(errors.not_found("configmaps", "nope").status)
    assert body == (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                    b'"message":"configmaps \\"nope\\" not found","reason":"NotFound",'
                    b'"details":{"name":"nope","kind":"configmaps"},"code":404}')


def test_unknown_path_has_empty_details() -> None:
    status = errors.not_found_path().status
    assert status["message"] == "the server could not find the requested resource"
    assert status["details"] == {} and status["code"] == 404


def test_conflicts_and_already_exists() -> None:
    assert errors.already_exists("configmaps", "cfg2").status["message"] == 'configmaps "cfg2" already exists'
    assert errors.already_exists("configmaps", "cfg2").status["reason"] == "AlreadyExists"
    c = errors.conflict("configmaps", "cfg2")
    assert (c.code, c.reason) == (409, "Conflict")
    assert c.message == ('Operation cannot be fulfilled on configmaps "cfg2": the object has been modified; '
                         "please apply your changes to the latest version and try again")
    pre = errors.conflict_message("pods", "p", "Precondition failed: UID in precondition: a, UID in object meta: b")
    assert pre.message == ('Operation cannot be fulfilled on pods "p": Precondition failed: UID in precondition: '
                           "a, UID in object meta: b")
    gen = errors.generate_name_conflict("pods", "web-abcde")
    assert gen.status["details"]["retryAfterSeconds"] == 1


def test_invalid_with_one_cause_uses_the_single_form() -> None:
    err = errors.invalid("ConfigMap", "", [errors.field_required("metadata.name",
                                                                  "name or generateName is required")])
    assert err.code == 422
    assert err.message == 'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required'
    assert err.status["details"] == {
        "kind": "ConfigMap",
        "causes": [{"reason": "FieldValueRequired", "message": "Required value: name or generateName is required",
                    "field": "metadata.name"}],
    }


def test_invalid_with_several_causes_is_bracketed_and_deduplicated() -> None:
    causes = [
        errors.field_required("spec.containers", ""),
        errors.field_invalid("spec.replicas", -1, "must be greater than or equal to 0"),
        errors.field_not_supported("spec.restartPolicy", "Sometimes", ["Always", "OnFailure", "Never"]),
        errors.field_required("spec.containers", ""),
    ]
    err = errors.invalid("Deployment", "web", causes, group="apps")
    assert err.message == (
        'Deployment.apps "web" is invalid: [spec.containers: Required value, spec.replicas: Invalid value: -1: '
        'must be greater than or equal to 0, spec.restartPolicy: Unsupported value: "Sometimes": supported '
        'values: "Always", "OnFailure", "Never"]'
    )
    assert err.status["details"]["group"] == "apps"
    assert len(err.status["details"]["causes"]) == 4


def test_invalid_accepts_cause_objects() -> None:
    class Cause:
        reason = "FieldValueInvalid"
        message = 'Invalid value: "A": must be lowercase'
        field = "metadata.name"

    err = errors.invalid("Pod", "A", [Cause()])
    assert err.message == 'Pod "A" is invalid: metadata.name: Invalid value: "A": must be lowercase'


@pytest.mark.parametrize(
    ("cause", "message"),
    [
        (errors.field_duplicate("spec.ports[1]", "TCP/80"), 'Duplicate value: "TCP/80"'),
        (errors.field_forbidden("spec", "updates to pod spec are forbidden"),
         "Forbidden: updates to pod spec are forbidden"),
        (errors.field_too_long("metadata.annotations", 262144), "Too long: may not be more than 262144 bytes"),
        (errors.field_too_many("spec.containers", 5, 1), "Too many: 5: must have at most 1 item"),
        (errors.field_not_found("spec.x", "y"), 'Not found: "y"'),
        (errors.field_invalid("spec.paused", True, ""), "Invalid value: true"),
        (errors.field_invalid("metadata.name", 'a"\n', "bad"), 'Invalid value: "a\\"\\n": bad'),
        (errors.field_internal("spec", "boom"), "Internal error: boom"),
    ],
)
def test_field_error_bodies(cause: dict[str, str], message: str) -> None:
    assert cause["message"] == message


@pytest.mark.parametrize(
    ("err", "code", "reason", "message"),
    [
        (errors.bad_request("strict decoding error: unknown field \"spec.foo\""), 400, "BadRequest",
         'strict decoding error: unknown field "spec.foo"'),
        (errors.expired(1, 1022), 410, "Expired", "too old resource version: 1 (1022)"),
        (errors.gone("gone away"), 410, "Gone", "gone away"),
        (errors.unsupported_media_type(["application/json-patch+json", "application/merge-patch+json",
                                        "application/apply-patch+yaml"]), 415, "UnsupportedMediaType",
         "the body of the request was in an unknown format - accepted media types include: "
         "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"),
        (errors.not_acceptable(["application/json", "application/yaml"]), 406, "NotAcceptable",
         "only the following media types are accepted: application/json, application/yaml"),
        (errors.method_not_allowed(), 405, "MethodNotAllowed",
         "the server does not allow this method on the requested resource"),
        (errors.method_not_supported("pods", "create", ""), 405, "MethodNotAllowed",
         'create is not supported on resources of kind "pods"'),
        (errors.request_entity_too_large("limit is 3145728"), 413, "RequestEntityTooLarge",
         "Request entity too large: limit is 3145728"),
        (errors.forbidden("pods", "", 'User "bob" cannot list resource "pods" in API group "" in the namespace '
                                      '"default"'), 403, "Forbidden",
         'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"'),
        (errors.forbidden("deployments", "web", "no", group="apps"), 403, "Forbidden",
         'deployments.apps "web" is forbidden: no'),
        (errors.unauthorized(), 401, "Unauthorized", "Unauthorized"),
        (errors.internal_error("boom"), 500, "InternalError", "Internal error occurred: boom"),
        (errors.service_unavailable("etcd is down"), 503, "ServiceUnavailable", "etcd is down"),
        (errors.timeout("request did not complete within requested timeout - context deadline exceeded"),
         504, "Timeout", "Timeout: request did not complete within requested timeout - context deadline exceeded"),
        (errors.server_timeout("pods", "create", 2), 500, "ServerTimeout",
         "The create operation against pods could not be completed at this time, please try again."),
    ],
)
def test_error_codes_reasons_and_messages(err: ApiError, code: int, reason: str, message: str) -> None:
    assert (err.code, err.reason, err.message) == (code, reason, message)
    assert err.status["code"] == code and err.status["status"] == "Failure"


def test_too_many_requests_carries_retry_after() -> None:
    err = errors.too_many_requests("Cannot evict pod as it would violate the pod's disruption budget.", 5)
    assert err.code == 429 and err.status["details"] == {"retryAfterSeconds": 5}
    assert "details" not in errors.too_many_requests("slow down").status


def test_internal_error_details_carry_the_cause() -> None:
    assert errors.internal_error("boom").status["details"] == {"causes": [{"message": "boom"}]}


def test_status_success() -> None:
    assert errors.status_success({"name": "cfg2", "kind": "configmaps", "uid": "u1"}) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": {"name": "cfg2", "kind": "configmaps", "uid": "u1"},
    }
    assert "details" not in errors.status_success()


def test_api_error_is_an_exception_with_its_message() -> None:
    with pytest.raises(ApiError, match='^pods "x" not found$'):
        raise errors.not_found("pods", "x")
