"""Kubernetes protobuf bodies (`application/vnd.kubernetes.protobuf`) to and from JSON-shaped dicts.

A body is the 4 bytes `k8s\\x00` followed by a `runtime.Unknown` message: 1 typeMeta {1 apiVersion,
2 kind}, 2 raw (the object), 3 contentEncoding, 4 contentType. The object is encoded per the
`generated.proto` of its group-version (proto2 as gogo-protobuf writes it); the field layout comes
from the shipped schema (kwok.api.schema), so no generated `_pb2` module is needed.

Decoding yields the JSON the real API server would produce for the same object:

- Go non-pointer fields are always on the wire, so a zero scalar ("", 0, false) of an optional
  field is dropped, as `omitempty` drops it; a required field (no `+optional`) keeps its zero,
  and so does a Go pointer field (`replicas: 0`), which is on the wire only when set. Protos do not
  say which fields are pointers: the schema lists the ones whose zero matters (FieldInfo.keep_zero).
- Messages that are on the wire are kept even when empty (`"status": {}`), as Go never omits a
  struct; an empty Time is `null` (the zero time), except where Go's `omitzero` drops it
  (ObjectMeta.creationTimestamp since Kubernetes 1.34).
- int64 stays an int; bytes become base64; Time is RFC 3339 `Z`, MicroTime has 6 fraction digits;
  Duration is Go's duration string; IntOrString is an int or a string; Quantity its string;
  RawExtension and FieldsV1 hold JSON, which is parsed.

`encode` does the reverse, field by field in number order, as gogo-protobuf writes them.
"""

from __future__ import annotations

import base64
import re
import struct
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from kwok.api.schema import FieldInfo, MessageInfo, Schema, get_schema

MAGIC = b"k8s\x00"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


class ProtobufError(ValueError):
    """A protobuf body that cannot be decoded (or an object that cannot be encoded)."""


# ------------------------------------------------------------------------------------------------
# Decoding
# ------------------------------------------------------------------------------------------------
def decode(body: bytes, api_version: str = "", kind: str = "") -> dict[str, Any]:
    """Decode a `k8s\\x00`-prefixed protobuf body into the object's JSON-shaped dict.

    `api_version` and `kind` are the type to assume when the envelope names none (as the API
    server assumes the endpoint's kind); the result then carries no apiVersion and kind either.
    """
    sent_version, sent_kind, raw = unwrap(body)
    api_version, kind = sent_version or api_version, sent_kind or kind
    if not api_version or not kind:
        raise ProtobufError("the protobuf envelope names no apiVersion and kind")
    schema = get_schema()
    group, _, version = api_version.rpartition("/")
    name = schema.message_for_kind(group, version, kind)
    if name is None:
        raise ProtobufError(f"no protobuf type is known for kind {kind!r} of {api_version!r}")
    obj: dict[str, Any] = {"kind": sent_kind, "apiVersion": sent_version} if sent_kind else {}
    obj.update(decode_message(raw, name, schema))
    return obj


def unwrap(body: bytes) -> tuple[str, str, bytes]:
    """Split the envelope: (apiVersion, kind, raw object bytes); the type may be empty."""
    if not body.startswith(MAGIC):
        raise ProtobufError("not a Kubernetes protobuf body: it does not start with 'k8s\\x00'")
    fields = _scan(body, len(MAGIC), len(body), "runtime.Unknown")
    type_meta = fields.get(1, [b""])[-1]
    encoding = _text(fields.get(3, [b""])[-1], "contentEncoding")
    if encoding:
        raise ProtobufError(f"content encoding {encoding!r} is not supported")
    if not isinstance(type_meta, bytes):
        raise ProtobufError("runtime.Unknown.typeMeta has the wrong wire type")
    meta = _scan(type_meta, 0, len(type_meta), "runtime.TypeMeta")
    api_version = _text(meta.get(1, [b""])[-1], "apiVersion")
    kind = _text(meta.get(2, [b""])[-1], "kind")
    raw = fields.get(2, [b""])[-1]
    if not isinstance(raw, bytes):
        raise ProtobufError("runtime.Unknown.raw has the wrong wire type")
    return api_version, kind, raw


def decode_message(data: bytes, name: str, schema: Schema | None = None) -> dict[str, Any]:
    """Decode one message (no envelope) of the named proto type."""
    schema = schema or get_schema()
    message = schema.message(name)
    if message is None:
        raise ProtobufError(f"unknown protobuf message {name}")
    return _Decoder(schema).message(data, message)


def _scan(data: bytes, pos: int, end: int, what: str) -> dict[int, list[int | bytes]]:
    """All fields of a message by number: ints for varint/fixed wire types, bytes for the rest."""
    fields: dict[int, list[int | bytes]] = {}
    while pos < end:
        tag, pos = _varint(data, pos, end, what)
        value, pos = _value(data, pos, end, tag & 7, what)
        fields.setdefault(tag >> 3, []).append(value)
    return fields


def _varint(data: bytes, pos: int, end: int, what: str) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise ProtobufError(f"truncated protobuf data in {what}")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError(f"malformed varint in {what}")


def _value(data: bytes, pos: int, end: int, wire_type: int, what: str) -> tuple[int | bytes, int]:
    if wire_type == _VARINT:
        return _varint(data, pos, end, what)
    if wire_type == _LENGTH:
        size, pos = _varint(data, pos, end, what)
        if pos + size > end:
            raise ProtobufError(f"truncated protobuf data in {what}: a field claims {size} bytes, "
                                f"{end - pos} remain")
        return data[pos:pos + size], pos + size
    width = {_FIXED64: 8, _FIXED32: 4}.get(wire_type)
    if width is None:
        raise ProtobufError(f"unsupported protobuf wire type {wire_type} in {what}")
    if pos + width > end:
        raise ProtobufError(f"truncated protobuf data in {what}")
    return int.from_bytes(data[pos:pos + width], "little"), pos + width


def _text(value: int | bytes, what: str) -> str:
    if not isinstance(value, bytes):
        raise ProtobufError(f"{what} has the wrong wire type")
    try:
        return value.decode()
    except UnicodeDecodeError:
        raise ProtobufError(f"{what} is not valid UTF-8") from None


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


class _Decoder:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def message(self, data: bytes, message: MessageInfo) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for number, raws in _scan(data, 0, len(data), message.name).items():
            f = message.by_number.get(number)
            if f is None:
                continue  # unknown field: a newer client; the real server drops it too
            if f.is_map:
                values[f.name] = self._map(raws, f)
            elif f.repeated:
                values[f.name] = [item for raw in raws for item in self._items(raw, f)]
            else:
                value = self.scalar(raws[-1], f.type, f.ref, f"{message.name}.{f.name}")
                if f.optional and not f.keep_zero and f.type in _OMITEMPTY_KINDS and value in _OMITTED_ZEROS:
                    continue
                if value is None and f.omit_zero:
                    continue
                values[f.name] = value
        # Emit in declaration order, which is the Go struct order the real server's JSON has;
        # an embedded struct's fields take the place of the embedding field.
        out: dict[str, Any] = {}
        for f in message.by_number.values():
            if f.name in values:
                if f.inline:
                    out.update(values[f.name])
                else:
                    out[f.name] = values[f.name]
        return out

    def _items(self, raw: int | bytes, f: FieldInfo) -> list[Any]:
        if f.type in _PACKABLE and isinstance(raw, bytes):   # packed repeated scalars
            out, pos = [], 0
            while pos < len(raw):
                value, pos = _varint(raw, pos, len(raw), f.name)
                out.append(self.scalar(value, f.type, None, f.name))
            return out
        return [self.scalar(raw, f.type, f.ref, f.name)]

    def _map(self, raws: list[int | bytes], f: FieldInfo) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for raw in raws:
            if not isinstance(raw, bytes):
                raise ProtobufError(f"map entry of {f.name} has the wrong wire type")
            entry = _scan(raw, 0, len(raw), f.name)
            key = _text(entry.get(1, [b""])[-1], f"{f.name} key")
            kind = f.map_value or "string"
            value = entry.get(2, [_EMPTY.get(kind, b"")])[-1]
            out[key] = self.scalar(value, kind, f.ref, f"{f.name}[{key}]")
        return out

    def scalar(self, raw: int | bytes, kind: str, ref: str | None, what: str) -> Any:
        """Convert one wire value of a type kind to its JSON value."""
        if isinstance(raw, int):
            return _number(raw, kind, what)
        convert = _LENGTH_KINDS.get(kind)
        if convert is not None:
            return convert(raw, what)
        if kind == "message" and ref is not None:
            message = self.schema.message(ref)
            if message is None:
                raise ProtobufError(f"unknown protobuf message {ref}")
            return self.message(raw, message)
        raise ProtobufError(f"{what}: a {kind} cannot be length-delimited")


_OMITTED_ZEROS = ("", 0)   # `False == 0`, so this also covers false
_OMITEMPTY_KINDS = frozenset({"string", "bytes", "int32", "int64", "bool", "double"})
_PACKABLE = frozenset({"int32", "int64", "bool"})
_EMPTY = {"int32": 0, "int64": 0, "bool": 0, "double": 0}


def _number(raw: int, kind: str, what: str) -> Any:
    if kind == "int32":
        return _signed(raw, 32)
    if kind == "int64":
        return _signed(raw, 64)
    if kind == "bool":
        return raw != 0
    if kind == "double":
        return struct.unpack("<d", raw.to_bytes(8, "little"))[0]
    raise ProtobufError(f"{what}: a {kind} cannot be a number on the wire")


def _timestamp(raw: bytes, what: str) -> datetime | None:
    if not raw:
        return None  # Go's zero time.Time
    fields = _scan(raw, 0, len(raw), what)
    seconds = _signed(_int(fields, 1, what), 64)
    nanos = _signed(_int(fields, 2, what), 32)
    try:
        return _EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)
    except OverflowError:
        raise ProtobufError(f"{what}: time out of range ({seconds} s)") from None


def _int(fields: dict[int, list[int | bytes]], number: int, what: str) -> int:
    value = fields.get(number, [0])[-1]
    if not isinstance(value, int):
        raise ProtobufError(f"{what}: field {number} has the wrong wire type")
    return value


def _time(raw: bytes, what: str) -> str | None:
    t = _timestamp(raw, what)
    return None if t is None else t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _microtime(raw: bytes, what: str) -> str | None:
    t = _timestamp(raw, what)
    return None if t is None else t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _duration(raw: bytes, what: str) -> str:
    return go_duration(_signed(_int(_scan(raw, 0, len(raw), what), 1, what), 64))


def _quantity(raw: bytes, what: str) -> str:
    fields = _scan(raw, 0, len(raw), what)
    return _text(fields.get(1, [b""])[-1], what) or "0"  # the zero Quantity prints as "0"


def _intstr(raw: bytes, what: str) -> int | str:
    fields = _scan(raw, 0, len(raw), what)
    if _int(fields, 1, what) == 1:
        return _text(fields.get(3, [b""])[-1], what)
    return _signed(_int(fields, 2, what), 32)


def _raw_json(raw: bytes, what: str) -> Any:
    fields = _scan(raw, 0, len(raw), what)
    data = fields.get(1, [b""])[-1]
    if not isinstance(data, bytes):
        raise ProtobufError(f"{what}: raw has the wrong wire type")
    if not data:
        return None
    if data.startswith(MAGIC):
        return decode(data)  # an embedded object in protobuf (e.g. a WatchEvent's object)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise ProtobufError(f"{what}: embedded object is not JSON: {err}") from None


def _fields_v1(raw: bytes, what: str) -> Any:
    value = _raw_json(raw, what)
    return {} if value is None else value


def _string_list(raw: bytes, what: str) -> list[str]:
    return [_text(item, what) for item in _scan(raw, 0, len(raw), what).get(1, [])]


def _string(raw: bytes, what: str) -> str:
    return _text(raw, what)


def _bytes(raw: bytes, what: str) -> str:
    return base64.b64encode(raw).decode()


_LENGTH_KINDS = {
    "string": _string, "bytes": _bytes, "time": _time, "microtime": _microtime, "duration": _duration,
    "quantity": _quantity, "intstr": _intstr, "rawextension": _raw_json, "fieldsv1": _fields_v1,
    "stringlist": _string_list,
}


_DURATION_UNITS = (("h", 3600 * 10**9), ("m", 60 * 10**9))


def go_duration(ns: int) -> str:
    """Format nanoseconds as Go's time.Duration.String() does ("1h2m3.5s", "1.5ms", "0s")."""
    if ns == 0:
        return "0s"
    sign, ns = ("-", -ns) if ns < 0 else ("", ns)
    if ns < 10**9:
        for unit, size in (("ms", 10**6), ("µs", 10**3), ("ns", 1)):
            if ns >= size:
                return sign + _decimal(ns, size) + unit
    out = ""
    for unit, size in _DURATION_UNITS:
        if ns >= size or out:
            out += f"{ns // size}{unit}"
            ns %= size
    return sign + out + _decimal(ns, 10**9) + "s"


def _decimal(value: int, unit: int) -> str:
    whole, frac = divmod(value, unit)
    digits = str(frac).rjust(len(str(unit)) - 1, "0").rstrip("0") if frac else ""
    return f"{whole}.{digits}" if digits else str(whole)


# ------------------------------------------------------------------------------------------------
# Encoding
# ------------------------------------------------------------------------------------------------
def encode(obj: dict[str, Any], api_version: str = "", kind: str = "") -> bytes:
    """Encode an object as a `k8s\\x00`-prefixed protobuf body.

    The type comes from the object's apiVersion and kind, or else from the arguments (for types
    without TypeMeta such as WatchEvent; the envelope then names no type, as Go writes it).
    """
    sent_version, sent_kind = obj.get("apiVersion") or "", obj.get("kind") or ""
    if not isinstance(sent_version, str) or not isinstance(sent_kind, str):
        raise ProtobufError("apiVersion and kind must be strings")
    api_version, kind = sent_version or api_version, sent_kind or kind
    if not api_version or not kind:
        raise ProtobufError("an object needs apiVersion and kind to be encoded")
    schema = get_schema()
    group, _, version = api_version.rpartition("/")
    name = schema.message_for_kind(group, version, kind)
    if name is None:
        raise ProtobufError(f"no protobuf type is known for kind {kind!r} of {api_version!r}")
    type_meta = _length(1, sent_version.encode()) + _length(2, sent_kind.encode())
    envelope = _length(1, type_meta) + _length(2, encode_message(obj, name, schema))
    return MAGIC + envelope + _length(3, b"") + _length(4, b"")


def encode_message(obj: dict[str, Any], name: str, schema: Schema | None = None) -> bytes:
    schema = schema or get_schema()
    message = schema.message(name)
    if message is None:
        raise ProtobufError(f"unknown protobuf message {name}")
    return _Encoder(schema).message(obj, message)


class _Encoder:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def message(self, obj: dict[str, Any], message: MessageInfo) -> bytes:
        out = bytearray()
        for number in sorted(message.by_number):
            f = message.by_number[number]
            value = obj if f.inline else obj.get(f.name)
            if value is None:
                continue
            if f.is_map:
                for key in sorted(value):
                    entry = _length(1, key.encode()) + self.field(2, value[key], f.map_value or "", f.ref)
                    out += _length(number, entry)
            elif f.repeated:
                for item in value:
                    out += self.field(number, item, f.type, f.ref)
            else:
                out += self.field(number, value, f.type, f.ref)
        return bytes(out)

    def field(self, number: int, value: Any, kind: str, ref: str | None) -> bytes:
        if kind in ("int32", "int64", "bool"):
            return encode_tag(number, _VARINT) + encode_varint(int(value))
        if kind == "double":
            return encode_tag(number, _FIXED64) + struct.pack("<d", value)
        if kind == "message" and ref is not None:
            message = self.schema.message(ref)
            if message is None:
                raise ProtobufError(f"unknown protobuf message {ref}")
            return _length(number, self.message(value, message))
        return _length(number, _encode_special(value, kind))


def _encode_special(value: Any, kind: str) -> bytes:
    if value is None:
        return b""   # a null Time: Go's zero time, encoded as an empty message
    if kind == "string":
        return str(value).encode()
    if kind == "bytes":
        return base64.b64decode(value)
    if kind in ("time", "microtime"):
        return _encode_time(value)
    if kind == "duration":
        return encode_tag(1, _VARINT) + encode_varint(parse_go_duration(value))
    if kind == "quantity":
        return _length(1, str(value).encode())
    if kind == "intstr":  # gogo writes all three fields of the struct
        is_str = isinstance(value, str)
        return (encode_tag(1, _VARINT) + encode_varint(int(is_str)) + encode_tag(2, _VARINT)
                + encode_varint(0 if is_str else value) + _length(3, value.encode() if is_str else b""))
    if kind in ("rawextension", "fieldsv1"):
        return _length(1, orjson.dumps(value))
    if kind == "stringlist":
        return b"".join(_length(1, item.encode()) for item in value)
    raise ProtobufError(f"cannot encode a value of kind {kind}")


_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def _encode_time(value: str) -> bytes:
    m = _RFC3339.match(value)
    if m is None:
        raise ProtobufError(f"not an RFC 3339 time: {value!r}")
    offset = m[3].replace("Z", "+00:00")
    t = datetime.fromisoformat(m[1] + offset)
    seconds = (t - _EPOCH) // timedelta(seconds=1)
    nanos = int((m[2] or ".0")[1:].ljust(9, "0")[:9])
    # gogo writes both Timestamp fields, zero nanos included
    return encode_tag(1, _VARINT) + encode_varint(seconds) + encode_tag(2, _VARINT) + encode_varint(nanos)


_GO_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
            "h": 3600 * 10**9}


def parse_go_duration(text: str) -> int:
    """Parse a Go duration string ("1h30m", "-1.5s", "0") into nanoseconds."""
    sign, body = (-1, text[1:]) if text.startswith("-") else (1, text.lstrip("+"))
    if body == "0":
        return 0
    parts = _GO_DURATION.findall(body)
    if not body or "".join(n + u for n, u in parts) != body:
        raise ProtobufError(f"invalid duration {text!r}")
    total = 0
    for number, unit in parts:
        whole, _, frac = number.partition(".")
        total += int(whole or 0) * _UNIT_NS[unit]
        if frac:
            total += int(frac) * _UNIT_NS[unit] // 10 ** len(frac)
    return sign * total


def encode_tag(number: int, wire_type: int) -> bytes:
    return encode_varint(number << 3 | wire_type)


def _length(number: int, payload: bytes) -> bytes:
    return encode_tag(number, _LENGTH) + encode_varint(len(payload)) + payload


def encode_varint(value: int) -> bytes:
    """Protobuf base-128 varint (also used by the OpenAPI v2 protobuf encoder)."""
    value &= (1 << 64) - 1   # negative numbers take ten bytes, as two's complement
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
