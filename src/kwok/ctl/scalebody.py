"""Request bodies for `kwokctl scale`: the template rendered once, each object spliced from it.

A KwokctlResource template sees per-object values only through kwokctl's functions: `Name`,
`Index`, and `AddCIDR`/`AddIP` applied to the index. Rendered once with placeholders for those
(plain letters and digits, which no quoting or escaping changes), parsed once and encoded once as
JSON, the template becomes a list of byte pieces; an object's body is the pieces joined with its
own values. Any other use of the index (arithmetic in the template, say) would make the
placeholders lie, so the result is compared with real renders of the first, second and last
objects, and if they differ every object is rendered the plain way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import yaml

_NAME = "kwokctlscalename0z"
_INDEX = "kwokctlscaleindex0z"
_CALL = "kwokctlscalecall{}z"
_PLACEHOLDER = re.compile(rb"kwokctlscale(?:name0|index0|call\d+)z")

Value = Callable[[str, int], str]   # (object name, index) -> the text that replaces a placeholder


class ScaleError(Exception):
    pass


def parse_rendered(text: str, kind: str, label: str) -> dict[str, Any]:
    """A rendered template as an object, with the scale label on it."""
    try:
        obj = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as e:
        raise ScaleError(f"KwokctlResource {kind!r} rendered invalid YAML: {e}") from None
    if not isinstance(obj, dict) or "kind" not in obj or "apiVersion" not in obj:
        raise ScaleError(f"KwokctlResource {kind!r} rendered no object with apiVersion and kind")
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        metadata = obj["metadata"] = {}
    labels = metadata.get("labels")
    if not isinstance(labels, dict):
        labels = metadata["labels"] = {}
    labels["kwok.x-k8s.io/kwokctl-scale"] = label
    return obj


class _Symbolic:
    """kwokctl's per-object functions, returning placeholders and recording what they stand for."""

    def __init__(self, functions: dict[str, Callable[..., Any]]) -> None:
        self.functions = functions
        self.values: dict[bytes, Value] = {
            _NAME.encode(): lambda name, index: name,
            _INDEX.encode(): lambda name, index: str(index),
        }

    def deferred(self, fname: str) -> Callable[..., Any]:
        real = self.functions[fname]

        def call(*args: Any) -> Any:
            if not any(a in (_NAME, _INDEX) for a in args):
                return real(*args)
            token = _CALL.format(len(self.values))

            def value(name: str, index: int) -> str:
                return str(real(*(name if a == _NAME else index if a == _INDEX else a for a in args)))

            self.values[token.encode()] = value
            return token

        return call


@dataclass
class BodyMaker:
    """Makes the JSON body of the object named `name` with index `index`."""

    pieces: list[bytes] | None          # literal, placeholder, literal, ... (None: render each)
    values: dict[bytes, Value]
    render: Callable[[str, int], dict[str, Any]]

    @classmethod
    def build(cls, template: Any, parameters: dict[str, Any], namespace: str, label: str,
              render: Callable[[str, int], dict[str, Any]], todo: Sequence[tuple[str, int]]) -> BodyMaker:
        maker = cls(None, {}, render)
        try:
            maker.pieces, maker.values = _pieces(template, parameters, namespace, label)
        except Exception:  # noqa: BLE001 - any failure of the shortcut means: render each object
            return maker
        checks = {todo[0], todo[min(1, len(todo) - 1)], todo[-1]}
        if any(orjson.loads(maker.body(n, i)) != render(n, i) for n, i in checks):
            maker.pieces = None
        return maker

    def body(self, name: str, index: int) -> bytes:
        if self.pieces is None:
            return orjson.dumps(self.render(name, index))
        out = []
        for i, piece in enumerate(self.pieces):
            # Placeholders sit at odd positions, inside JSON strings: escape what replaces them.
            out.append(orjson.dumps(self.values[piece](name, index))[1:-1] if i % 2 else piece)
        return b"".join(out)


def _pieces(template: Any, parameters: dict[str, Any], namespace: str,
            label: str) -> tuple[list[bytes], dict[bytes, Value]]:
    from kwok.engine.ipam import add_cidr, add_ip

    symbolic = _Symbolic({"AddCIDR": add_cidr, "AddIP": add_ip})
    funcs: dict[str, Callable[..., Any]] = {
        "Name": lambda: _NAME,
        "Namespace": lambda: namespace,
        "Index": lambda: _INDEX,
        "AddCIDR": symbolic.deferred("AddCIDR"),
        "AddIP": symbolic.deferred("AddIP"),
    }
    obj = parse_rendered(template.render(parameters, funcs), "", label)
    encoded = orjson.dumps(obj)
    pieces: list[bytes] = []
    last = 0
    for match in _PLACEHOLDER.finditer(encoded):
        pieces += [encoded[last:match.start()], match.group()]
        last = match.end()
    pieces.append(encoded[last:])
    return pieces, symbolic.values
