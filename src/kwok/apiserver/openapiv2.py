"""/openapi/v2: one Swagger 2.0 document of every served group-version, in JSON or gnostic protobuf.

It is derived from the OpenAPI v3 documents (kwok.api.openapi: the shipped schema and the CRDs),
so both versions describe the same types: `components.schemas` become `definitions`, references
move to `#/definitions/`, a v3 request body becomes a `body` parameter plus `consumes`, response
content becomes `produces` plus a response `schema`. kube-openapi writes IntOrString and Quantity
as strings in v2 (v3 has `oneOf`), and the CRD schemas lose what v2 cannot say (`nullable`,
`oneOf`/`anyOf`/`not`), as apiextensions-apiserver's v2 conversion does.

kubectl asks for protobuf only (`explain --output=plaintext-openapiv2`, and client-side validation
against servers without v3); browsers and scripts get JSON. The document is built when first asked
for and again only after a CRD came or went; each encoding is kept with its ETag.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from aiohttp import web

from kwok.api.openapi import KUBERNETES_VERSION
from kwok.apiserver.gnostic import MEDIA_TYPE as PROTOBUF
from kwok.apiserver.gnostic import encode_document

Obj = dict[str, Any]
V3_REF, V2_REF = "#/components/schemas/", "#/definitions/"
JSON = "application/json"
# What kube-openapi answers protobuf with: Go's mime parser (client-go reads every Content-Type
# with it) refuses the `@` of the type kubectl asks for. Requests may use either spelling.
PROTOBUF_REPLY = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
_DROPPED = frozenset({"nullable", "oneOf", "anyOf", "not"})
_SECURITY = {"BearerToken": {"description": "Bearer Token authentication", "in": "header",
                             "name": "authorization", "type": "apiKey"}}


def swagger(documents: Iterable[Obj]) -> Obj:
    """The Swagger 2.0 document of these OpenAPI v3 group-version documents."""
    paths: Obj = {}
    definitions: Obj = {}
    for doc in documents:
        for path, item in (doc.get("paths") or {}).items():
            paths[path] = _path_item(item)
        for name, node in ((doc.get("components") or {}).get("schemas") or {}).items():
            if name not in definitions:
                definitions[name] = _schema(node)
    return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
            "paths": dict(sorted(paths.items())), "definitions": dict(sorted(definitions.items())),
            "securityDefinitions": _SECURITY, "security": [{"BearerToken": []}]}


def _schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    if "oneOf" in node and "type" not in node:      # IntOrString, Quantity: strings in v2
        node = {**node, "type": "string"}
    out: Obj = {}
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key == "$ref":
            out[key] = str(value).replace(V3_REF, V2_REF)
        elif key == "allOf" and len(value) == 1 and "$ref" in value[0]:
            out["$ref"] = str(value[0]["$ref"]).replace(V3_REF, V2_REF)   # v2 allows siblings of $ref
        elif key in ("properties", "definitions", "patternProperties"):
            out[key] = {name: _schema(v) for name, v in value.items()}
        elif key in ("default", "enum", "example") or key.startswith("x-"):
            out[key] = value
        else:
            out[key] = _schema(value)
    return out


def _path_item(item: Obj) -> Obj:
    out: Obj = {}
    for key, value in item.items():
        if key == "parameters":
            out[key] = [_parameter(p) for p in value]
        elif key in ("get", "put", "post", "delete", "patch", "head", "options"):
            out[key] = _operation(value)
        else:
            out[key] = value
    return out


def _parameter(param: Obj) -> Obj:
    out = {k: v for k, v in param.items() if k != "schema"}
    out.update({k: v for k, v in (param.get("schema") or {}).items() if k in ("type", "format", "items")})
    return dict(sorted(out.items()))


def _operation(op: Obj) -> Obj:
    out: Obj = {}
    parameters = [_parameter(p) for p in op.get("parameters") or ()]
    body = op.get("requestBody")
    if body is not None:
        content = body.get("content") or {}
        out["consumes"] = list(content)
        first: Obj = next(iter(content.values()), {})
        schema = first.get("schema")
        parameters.append({"in": "body", "name": "body", "required": bool(body.get("required")),
                           "schema": _schema(schema or {})})
    else:
        out["consumes"] = ["*/*"]
    produces: list[str] = []
    responses: Obj = {}
    for code, response in (op.get("responses") or {}).items():
        entry: Obj = {"description": response.get("description", "")}
        for media, body_schema in (response.get("content") or {}).items():
            if media not in produces:
                produces.append(media)
            entry.setdefault("schema", _schema(body_schema.get("schema") or {}))
        responses[code] = entry
    out["produces"] = produces
    for key, value in op.items():
        if key not in ("parameters", "requestBody", "responses"):
            out[key] = value
    out["parameters"] = parameters
    out["responses"] = responses
    out["schemes"] = ["https"]
    return dict(sorted(out.items()))


# --- serving --------------------------------------------------------------------------------------
class OpenAPIV2:
    """The encoded document, rebuilt when `generation()` changes (a CRD was added or removed)."""

    def __init__(self, documents: Callable[[], Iterable[Obj]], generation: Callable[[], int]) -> None:
        self.documents = documents
        self.generation = generation
        self._built = -1
        self._document: Obj = {}
        self._encoded: dict[str, tuple[bytes, str]] = {}

    def encoded(self, media_type: str) -> tuple[bytes, str]:
        """(body, ETag) of the document in JSON or protobuf."""
        if self._built != self.generation():
            self._document = swagger(self.documents())
            self._encoded.clear()
            self._built = self.generation()
        found = self._encoded.get(media_type)
        if found is None:
            data = encode_document(self._document) if media_type == PROTOBUF else orjson.dumps(self._document)
            found = self._encoded[media_type] = (data, '"' + hashlib.sha512(data).hexdigest().upper() + '"')
        return found

    def respond(self, request: web.Request) -> web.StreamResponse:
        media_type = negotiate(request.headers.get("Accept", ""))
        if media_type is None:
            return web.Response(status=406)          # kube-openapi: no body
        data, etag = self.encoded(media_type)
        reply_type = PROTOBUF_REPLY if media_type == PROTOBUF else media_type
        headers = {"Content-Type": reply_type, "Etag": etag, "Cache-Control": "no-cache, private", "Vary": "Accept"}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        return web.Response(body=data, headers=headers)


def negotiate(accept: str) -> str | None:
    """JSON or protobuf, in the client's order of preference; None when neither is acceptable."""
    if not accept.strip():
        return JSON
    ranked = []
    for position, clause in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in clause.split(";"))
        quality = next((_quality(p[2:]) for p in params if p.startswith("q=")), 1.0)
        ranked.append((-quality, position, media.lower()))
    for quality, _, media in sorted(ranked):
        if quality == 0:
            break
        if media in (PROTOBUF, PROTOBUF_REPLY):
            return PROTOBUF
        if media in (JSON, "application/*", "*/*"):
            return JSON
    return None


def _quality(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0
