"""Bad requests get the real Status and code; the server keeps serving and stores nothing."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.apiserver.harness import ApiServer

CM = "/api/v1/namespaces/default/configmaps"


@pytest.fixture
def existing(apiserver: ApiServer) -> dict:
    code, body, _ = apiserver.request("POST", CM, {"metadata": {"name": f"keep-{uuid.uuid4().hex[:6]}"},
                                                   "data": {"a": "1"}})
    assert code == 201
    return body


BAD_CREATES = [
    (b'{"metadata": {', "application/json", 400, "BadRequest"),
    (b"metadata: [unclosed", "application/yaml", 400, "BadRequest"),
    (b"k8s\x00\x0a\xff\xff", "application/vnd.kubernetes.protobuf", 400, "BadRequest"),
    (b'["not", "an", "object"]', "application/json", 400, "BadRequest"),
    (b'{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"x"}}', "application/json", 400, "BadRequest"),
    (b'{"metadata":{"name":"x","namespace":"other"}}', "application/json", 400, "BadRequest"),
    (b'{"metadata":{"name":"Not_Valid"}}', "application/json", 422, "Invalid"),
    (b'{"metadata":{}}', "application/json", 422, "Invalid"),
    (b'{"metadata":{"name":"x"}}', "text/plain", 415, "UnsupportedMediaType"),
]


@pytest.mark.parametrize(("body", "content_type", "code", "reason"), BAD_CREATES)
def test_bad_create_is_refused(apiserver: ApiServer, body: bytes, content_type: str, code: int, reason: str) -> None:
    before = apiserver.request("GET", CM)[1]["metadata"]["resourceVersion"]
    got, status, _ = apiserver.request("POST", CM, body, content_type)
    assert (got, status["kind"], status["reason"], status["code"]) == (code, "Status", reason, code)
    assert apiserver.request("GET", CM)[1]["metadata"]["resourceVersion"] == before


def test_messages_match_the_real_server(apiserver: ApiServer) -> None:
    _, status, _ = apiserver.request("POST", CM, {"apiVersion": "apps/v1", "kind": "ConfigMap",
                                                  "metadata": {"name": "x"}})
    assert status["message"] == ("the API version in the data (apps/v1) does not match the expected API "
                                 "version (v1)")
    _, status, _ = apiserver.request("POST", CM, {"metadata": {"name": "x", "namespace": "other"}})
    assert status["message"] == ("the namespace of the provided object does not match the namespace sent on "
                                 "the request")
    _, status, _ = apiserver.request("POST", CM, {"metadata": {}})
    assert status["message"] == 'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required'
    _, status, _ = apiserver.request("POST", "/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict",
                                     {"metadata": {"name": "s"}, "spec": {"foo": 1}})
    assert (status["code"], status["message"]) == (400, 'strict decoding error: unknown field "spec.foo"')


def test_oversized_body_is_413(apiserver: ApiServer) -> None:
    big = b'{"metadata":{"name":"big"},"data":{"a":"' + b"x" * (3 * 1024 * 1024) + b'"}}'
    code, status, _ = apiserver.request("POST", CM, big)
    assert code == 413 and status["reason"] == "RequestEntityTooLarge"


def test_stale_update_conflicts_and_keeps_object(apiserver: ApiServer, existing: dict) -> None:
    path = f"{CM}/{existing['metadata']['name']}"
    fresh = dict(existing, data={"a": "2"})
    assert apiserver.request("PUT", path, fresh)[0] == 200
    stale = dict(existing, data={"a": "3"})
    code, status, _ = apiserver.request("PUT", path, stale)
    assert code == 409 and status["reason"] == "Conflict"
    assert status["message"] == (f'Operation cannot be fulfilled on configmaps "{existing["metadata"]["name"]}": '
                                 "the object has been modified; please apply your changes to the latest version "
                                 "and try again")
    assert apiserver.request("GET", path)[1]["data"] == {"a": "2"}


def test_duplicate_create_already_exists(apiserver: ApiServer, existing: dict) -> None:
    name = existing["metadata"]["name"]
    code, status, _ = apiserver.request("POST", CM, {"metadata": {"name": name}})
    assert code == 409 and status["reason"] == "AlreadyExists"
    assert status["message"] == f'configmaps "{name}" already exists'


@pytest.mark.parametrize(("patch", "content_type", "code"), [
    (b"{not json", "application/merge-patch+json", 400),
    (b'{"op":"add"}', "application/json-patch+json", 400),
    (b'[{"op":"test","path":"/data/a","value":"nope"}]', "application/json-patch+json", 422),
    (b'{"data":{"a":"1"}}', "application/xml", 415),
])
def test_invalid_patches(apiserver: ApiServer, existing: dict, patch: bytes, content_type: str, code: int) -> None:
    path = f"{CM}/{existing['metadata']['name']}"
    got, status, _ = apiserver.request("PATCH", path, patch, content_type)
    assert got == code and status["code"] == code
    assert apiserver.request("GET", path)[1]["metadata"]["resourceVersion"] == existing["metadata"]["resourceVersion"]


def test_apply_requires_field_manager(apiserver: ApiServer, existing: dict) -> None:
    path = f"{CM}/{existing['metadata']['name']}"
    code, status, _ = apiserver.request("PATCH", path, b'{"data":{"a":"2"}}', "application/apply-patch+yaml")
    assert code == 400 and "fieldManager" in status["message"]


def test_bad_selectors_are_400(apiserver: ApiServer) -> None:
    code, status, _ = apiserver.request("GET", f"{CM}?labelSelector=a%20b%20c")
    assert code == 400 and status["reason"] == "BadRequest"
    code, status, _ = apiserver.request("GET", f"{CM}?continue=garbage")
    assert code == 400


def test_unknown_paths_and_methods(apiserver: ApiServer) -> None:
    code, status, _ = apiserver.request("GET", "/api/v1/nothings")
    assert code == 404 and status["message"] == "the server could not find the requested resource"
    code, status, _ = apiserver.request("PUT", CM, {"metadata": {"name": "x"}})
    assert code == 405 and status["reason"] == "MethodNotAllowed"
    assert apiserver.request("GET", "/healthz")[1] == "ok"


def test_unknown_fields_warn_by_default(apiserver: ApiServer, kubectl_bin: str) -> None:
    name = f"warned-{uuid.uuid4().hex[:6]}"
    manifest = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "foo": 1})
    result = apiserver.kubectl(kubectl_bin, "create", "-f", "-", "--validate=warn", stdin=manifest)
    assert 'Warning: unknown field "foo"' in result.stderr
    stored = apiserver.request("GET", f"{CM}/{name}")[1]
    assert stored["metadata"]["name"] == name and "foo" not in stored   # dropped, as the real decoder does
    strict = apiserver.kubectl(kubectl_bin, "create", "-f", "-", stdin=manifest.replace("warned", "strict"),
                               check=False)
    assert strict.returncode == 1 and 'strict decoding error: unknown field "foo"' in strict.stderr
