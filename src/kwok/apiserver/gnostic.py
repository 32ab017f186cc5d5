"""A Swagger 2.0 document in protobuf, as gnostic's `openapi.v2.Document` message.

kubectl fetches /openapi/v2 only in this encoding (`explain --output=plaintext-openapiv2`, and
client-side validation when a server has no OpenAPI v3). Field numbers are those of gnostic's
OpenAPIv2.proto. Values of vendor extensions, `default` and `enum` travel as `Any{yaml}`, the
YAML of the JSON value, which is how kube-openapi converts its JSON document. Proto3 leaves out
empty strings, false and zero, and maps are written sorted by key, as Go's JSON encoder orders them.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import Any

from kwok.api.protobuf import encode_tag as _tag
from kwok.api.protobuf import encode_varint as _varint

Obj = dict[str, Any]
_VARINT, _FIXED64, _LENGTH = 0, 1, 2
MEDIA_TYPE = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"


def encode_document(doc: Obj) -> bytes:
    return _message(
        _string(1, doc.get("swagger", "")),
        _message_field(2, _info(doc.get("info") or {})),
        _strings(5, doc.get("schemes")), _strings(6, doc.get("consumes")), _strings(7, doc.get("produces")),
        _message_field(8, _length(2, *(_named(name, _path_item(item)) for name, item in _sorted(doc.get("paths"))))),
        _message_field(9, _named_schemas(doc.get("definitions"))),
        *(_length(12, _security_requirement(r)) for r in doc.get("security") or ()),
        _message_field(13, _length(1, *(_named(n, _security_definition(d))
                                         for n, d in _sorted(doc.get("securityDefinitions"))))),
        _extensions(16, doc),
    )


# --- wire format ---------------------------------------------------------------------------------
def _message(*parts: bytes) -> bytes:
    return b"".join(parts)


def _message_field(number: int, payload: bytes) -> bytes:
    """A singular message field; left out when empty (proto3 cannot tell it from absent, kubectl neither)."""
    return _tag(number, _LENGTH) + _varint(len(payload)) + payload if payload else b""


def _length(number: int, *payloads: bytes) -> bytes:
    """One length-delimited field per payload (repeated fields, entries of named maps)."""
    return b"".join(_tag(number, _LENGTH) + _varint(len(p)) + p for p in payloads)


def _string(number: int, value: Any) -> bytes:
    return _length(number, str(value).encode()) if value not in (None, "") else b""


def _strings(number: int, values: Iterable[Any] | None) -> bytes:
    return b"".join(_length(number, str(v).encode()) for v in values or ())


def _bool(number: int, value: Any) -> bytes:
    return _tag(number, _VARINT) + b"\x01" if value else b""


def _int(number: int, value: Any) -> bytes:
    return _tag(number, _VARINT) + _varint(int(value)) if value else b""


def _double(number: int, value: Any) -> bytes:
    return _tag(number, _FIXED64) + struct.pack("<d", float(value)) if value else b""


def _sorted(mapping: Obj | None) -> list[tuple[str, Any]]:
    return sorted((mapping or {}).items())


def _named(name: str, value: bytes) -> bytes:
    return _string(1, name) + _length(2, value)


def _any(value: Any) -> bytes:
    """Any{yaml}: the value as YAML, as yaml.v3 marshals it (no document end marker)."""
    import yaml  # only when a document is encoded: not at the API server's start

    text = yaml.dump(value, Dumper=yaml.CSafeDumper, default_flow_style=False, sort_keys=True, width=1 << 30)
    return _string(2, text.removesuffix("...\n"))


def _extensions(number: int, node: Obj) -> bytes:
    return _length(number, *(_named(k, _any(v)) for k, v in sorted(node.items()) if k.startswith("x-")))


# --- document parts ------------------------------------------------------------------------------
def _info(info: Obj) -> bytes:
    return _message(_string(1, info.get("title")), _string(2, info.get("version")),
                    _string(3, info.get("description")), _extensions(7, info))


def _named_schemas(schemas: Obj | None) -> bytes:
    return _length(1, *(_named(name, schema(value)) for name, value in _sorted(schemas)))


def schema(node: Obj) -> bytes:
    """openapi.v2.Schema."""
    additional = node.get("additionalProperties")
    if isinstance(additional, bool):
        additional_pb = _bool(2, additional) or _tag(2, _VARINT) + b"\x00"
    else:
        additional_pb = _length(1, schema(additional)) if additional is not None else b""
    kind = node.get("type")
    items = node.get("items")
    return _message(
        _string(1, node.get("$ref")), _string(2, node.get("format")), _string(3, node.get("title")),
        _string(4, node.get("description")),
        _message_field(5, _any(node["default"])) if "default" in node else b"",
        _double(6, node.get("multipleOf")), _double(7, node.get("maximum")), _bool(8, node.get("exclusiveMaximum")),
        _double(9, node.get("minimum")), _bool(10, node.get("exclusiveMinimum")),
        _int(11, node.get("maxLength")), _int(12, node.get("minLength")), _string(13, node.get("pattern")),
        _int(14, node.get("maxItems")), _int(15, node.get("minItems")), _bool(16, node.get("uniqueItems")),
        _int(17, node.get("maxProperties")), _int(18, node.get("minProperties")),
        _strings(19, node.get("required")),
        _length(20, *(_any(v) for v in node.get("enum") or ())),
        _length(21, additional_pb) if additional is not None else b"",
        _message_field(22, _strings(1, [kind] if isinstance(kind, str) else kind)),
        _message_field(23, _length(1, *(schema(i) for i in (items if isinstance(items, list) else [items])))
                       if items is not None else b""),
        _length(24, *(schema(s) for s in node.get("allOf") or ())),
        _message_field(25, _named_schemas(node.get("properties"))) if "properties" in node else b"",
        _bool(27, node.get("readOnly")),
        _extensions(31, node),
    )


_OPERATIONS = (("get", 2), ("put", 3), ("post", 4), ("delete", 5), ("options", 6), ("head", 7), ("patch", 8))


def _path_item(item: Obj) -> bytes:
    return _message(
        _string(1, item.get("$ref")),
        *(_message_field(number, _operation(item[method])) for method, number in _OPERATIONS if method in item),
        _length(9, *(_parameter(p) for p in item.get("parameters") or ())),
        _extensions(10, item),
    )


def _operation(op: Obj) -> bytes:
    responses = _message(_length(1, *(_named(code, _response(r)) for code, r in _sorted(op.get("responses")))),
                         _extensions(2, op.get("responses") or {}))
    return _message(
        _strings(1, op.get("tags")), _string(2, op.get("summary")), _string(3, op.get("description")),
        _string(5, op.get("operationId")), _strings(6, op.get("produces")), _strings(7, op.get("consumes")),
        _length(8, *(_parameter(p) for p in op.get("parameters") or ())),
        _message_field(9, responses), _strings(10, op.get("schemes")), _bool(11, op.get("deprecated")),
        _extensions(13, op),
    )


def _response(response: Obj) -> bytes:
    if "$ref" in response:
        return _length(2, _string(1, response["$ref"]))          # ResponseValue.json_reference
    body = _message(_string(1, response.get("description")),
                    _message_field(2, _length(1, schema(response["schema"]))) if "schema" in response else b"",
                    _extensions(5, response))
    return _length(1, body)                                       # ResponseValue.response


# Non-body parameters: (oneof number in NonBodyParameter, field numbers from `type` on, which shift by one
# where the sub-schema has allowEmptyValue) for header, formData, query and path parameters.
_NON_BODY = {"header": (1, 5), "formData": (2, 6), "query": (3, 6), "path": (4, 5)}


def _parameter(param: Obj) -> bytes:
    if "$ref" in param:
        return _length(2, _string(1, param["$ref"]))               # ParametersItem.json_reference
    where = param.get("in", "")
    if where == "body":
        body = _message(_string(1, param.get("description")), _string(2, param.get("name")), _string(3, where),
                        _bool(4, param.get("required")),
                        _message_field(5, schema(param["schema"])) if "schema" in param else b"",
                        _extensions(6, param))
        return _length(1, _length(1, body))                       # ParametersItem.parameter.body_parameter
    oneof, first = _NON_BODY.get(where, (3, 6))
    n: Callable[[int], int] = lambda offset: first + offset        # noqa: E731 - numbering relative to `type`
    allow_empty = _bool(5, param.get("allowEmptyValue")) if first == 6 else b""
    sub = _message(
        _bool(1, param.get("required")), _string(2, where), _string(3, param.get("description")),
        _string(4, param.get("name")), allow_empty, _string(n(0), param.get("type")), _string(n(1), param.get("format")),
        _bool(n(14), param.get("uniqueItems")),
        _extensions(n(17), param),
    )
    return _length(1, _length(2, _length(oneof, sub)))            # parameter.non_body_parameter.<where>


def _security_requirement(requirement: Obj) -> bytes:
    return _length(1, *(_named(name, _strings(1, scopes)) for name, scopes in _sorted(requirement)))


def _security_definition(definition: Obj) -> bytes:
    if definition.get("type") == "apiKey":                       # SecurityDefinitionsItem.api_key_security
        return _length(2, _message(_string(1, "apiKey"), _string(2, definition.get("name")),
                                   _string(3, definition.get("in")), _string(4, definition.get("description")),
                                   _extensions(5, definition)))
    return _length(1, _message(_string(1, definition.get("type")), _string(2, definition.get("description")),
                               _extensions(3, definition)))
