"""Request bodies in (JSON, YAML, protobuf) and the checks every object body gets against its URL."""

from __future__ import annotations

from typing import Any

import orjson
import yaml
from aiohttp import web

from kwok.api import errors

Obj = dict[str, Any]
MAX_BODY = 3 * 1024 * 1024        # the real server's limit for a request body
JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
OBJECT_TYPES = [JSON, YAML, PROTOBUF]


RAW_BODY = web.RequestKey("raw_body", bytes)   # the body read_body returned (for the audit log)


async def read_body(request: web.Request) -> bytes:
    """The raw body, refusing more than MAX_BODY bytes without reading them all."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise errors.request_entity_too_large(f"limit is {MAX_BODY}")
    chunks: list[bytes] = []
    size = 0
    while True:
        # read() hands back what has arrived, not n bytes: loop to the end of the body
        chunk = await request.content.read(MAX_BODY + 1 - size)
        if not chunk:
            body = request[RAW_BODY] = b"".join(chunks)
            return body
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY:
            raise errors.request_entity_too_large(f"limit is {MAX_BODY}")


def media_type(request: web.Request) -> str:
    """The Content-Type without parameters; a missing one means JSON (the Python client sends none)."""
    raw = request.headers.get("Content-Type", "")
    return raw.split(";", 1)[0].strip().lower() or JSON


def decode_object(data: bytes, content_type: str) -> Obj:
    """A JSON/YAML/protobuf body as a dict; anything else is 415, malformed input 400."""
    if content_type == JSON:
        obj = _json(data)
    elif content_type in (YAML, "application/x-yaml", "text/yaml"):
        obj = decode_yaml(data)
    elif content_type == PROTOBUF:
        obj = _protobuf(data)
    else:
        raise errors.unsupported_media_type(OBJECT_TYPES)
    if not isinstance(obj, dict):
        raise errors.bad_request(f"couldn't get version/kind; json parse error: json: cannot unmarshal "
                                 f"{_go_type(obj)} into Go value of type struct {{ APIVersion string "
                                 f'"json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }}')
    return obj


def _json(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise errors.bad_request(f"couldn't get version/kind; json parse error: {exc}") from None


def decode_yaml(data: bytes) -> Any:
    try:
        return yaml.load(data, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        raise errors.bad_request(f"error converting YAML to JSON: {exc}".replace("\n", " ")) from None


def _protobuf(data: bytes) -> Obj:
    try:
        from kwok.api.protobuf import decode
    except ImportError:
        raise errors.unsupported_media_type([JSON, YAML]) from None
    try:
        return decode(data)
    except errors.ApiError:
        raise
    except Exception as exc:  # noqa: BLE001 - any malformed protobuf is the client's error
        raise errors.bad_request(f"unable to decode protobuf body: {exc}") from None


def _go_type(value: Any) -> str:
    return {list: "array", str: "string", int: "number", float: "number", bool: "bool"}.get(type(value), "value")


def check_type(obj: Obj, group: str, version: str, kind: str) -> None:
    """apiVersion/kind of the body against the URL, with the real server's messages."""
    expected_gv = f"{group}/{version}" if group else version
    api_version = obj.get("apiVersion")
    if api_version and api_version != expected_gv:
        raise errors.bad_request(f"the API version in the data ({api_version}) does not match the expected "
                                 f"API version ({expected_gv})")
    body_kind = obj.get("kind")
    if body_kind and body_kind != kind:
        raise errors.bad_request(f'no kind "{body_kind}" is registered for version "{expected_gv}" in scheme '
                                 '"k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30"')
    obj["apiVersion"] = expected_gv
    obj["kind"] = kind
    meta = obj.get("metadata")
    if meta is None:
        obj["metadata"] = {}
    elif not isinstance(meta, dict):
        raise errors.bad_request('json: cannot unmarshal into Go struct field of type v1.ObjectMeta')


def check_namespace(obj: Obj, url_namespace: str | None, namespaced: bool) -> None:
    """A namespace in the body must agree with the URL (the real 400), and is taken from it."""
    meta = obj["metadata"]
    if not namespaced:
        return
    body_ns = meta.get("namespace")
    if body_ns and url_namespace and body_ns != url_namespace:
        raise errors.bad_request("the namespace of the provided object does not match the namespace sent on the "
                                 "request")
