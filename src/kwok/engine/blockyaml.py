"""A fast reader for the block YAML that stage templates render, with PyYAML as the authority.

Rendering a status template takes ~150 µs; reading its YAML with PyYAML took as long again, most
of it in PyYAML's Python-level constructor. Mapping keys come out as strings, as the YAML-to-JSON
step of sigs.k8s.io/yaml makes them. Templates produce a narrow kind of YAML: block
mappings and sequences, one scalar per line, plain or quoted. This reader handles exactly that
and gives up (returns NOT_HANDLED) on anything else - flow collections other than [] and {},
block scalars, anchors, tags, multi-line scalars, tabs, document markers - so the caller falls
back to PyYAML. Plain scalars are resolved with the same YAML 1.1 rules as yamlcodec (timestamps
stay strings). tests/engine/test_blockyaml.py checks it against PyYAML.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from kwok.engine import yamlcodec

NOT_HANDLED = object()


class _Unhandled(Exception):
    pass


_RESOLVERS = yamlcodec.implicit_resolvers()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_CONSTRUCT = {
    "tag:yaml.org,2002:bool": _CONSTRUCTOR.construct_yaml_bool,
    "tag:yaml.org,2002:int": _CONSTRUCTOR.construct_yaml_int,
    "tag:yaml.org,2002:float": _CONSTRUCTOR.construct_yaml_float,
    "tag:yaml.org,2002:null": _CONSTRUCTOR.construct_yaml_null,
}
_PLAIN_FORBIDDEN_START = frozenset("[]{}#&*!|>'\"%@`,")
_KEY = re.compile(
    r"""^(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'|([^\s'"#\[\]{},&*!|>%@`?:-][^:#]*?|-[^\s:#][^:#]*?))\s*:(?:\s+|$)"""
)
_DOUBLE = re.compile(r'"((?:[^"\\]|\\.)*)"')
_DOUBLE_ESCAPES = {"\\": "\\", '"': '"', "/": "/", "n": "\n", "t": "\t", "r": "\r", "0": "\0", " ": " "}


def load(text: str) -> Any:
    """The document of `text`, or NOT_HANDLED when it is outside the supported subset."""
    lines = _lines(text)
    if lines is None:
        return NOT_HANDLED
    if not lines:
        return None
    try:
        value, end = _node(lines, 0, lines[0][0])
    except _Unhandled:
        return NOT_HANDLED
    return value if end == len(lines) else NOT_HANDLED


def _lines(text: str) -> list[tuple[int, str]] | None:
    out: list[tuple[int, str]] = []
    for raw in text.split("\n"):
        stripped = raw.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        if "\t" in raw or "\r" in raw or stripped.startswith(("---", "...", "%")):
            return None
        out.append((len(raw) - len(stripped), stripped.rstrip(" ")))
    return out


def _node(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[Any, int]:
    content = lines[i][1]
    if content == "-" or content.startswith("- "):
        return _sequence(lines, i, indent)
    if _KEY.match(content):
        return _mapping(lines, i, indent)
    if i + 1 < len(lines) and lines[i + 1][0] >= indent:
        raise _Unhandled  # a multi-line scalar
    return _scalar(content), i + 1


def _mapping(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[dict[Any, Any], int]:
    out: dict[Any, Any] = {}
    while i < len(lines) and lines[i][0] == indent:
        match = _KEY.match(lines[i][1])
        if match is None:
            raise _Unhandled
        key = _key(match)
        rest = lines[i][1][match.end() :]
        i += 1
        if rest and not rest.startswith("#"):
            out[key] = _scalar(rest)
        elif i < len(lines) and lines[i][0] > indent:
            out[key], i = _node(lines, i, lines[i][0])
        elif i < len(lines) and lines[i][0] == indent and _is_item(lines[i][1]):
            out[key], i = _sequence(lines, i, indent)  # a sequence not indented under its key
        else:
            out[key] = None
    if i < len(lines) and lines[i][0] > indent:
        raise _Unhandled
    return out, i


def _is_item(content: str) -> bool:
    return content == "-" or content.startswith("- ")


def _sequence(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[list[Any], int]:
    out: list[Any] = []
    while i < len(lines) and lines[i][0] == indent and _is_item(lines[i][1]):
        content = lines[i][1]
        if content == "-":
            if i + 1 < len(lines) and lines[i + 1][0] > indent:
                value, i = _node(lines, i + 1, lines[i + 1][0])
            else:
                value, i = None, i + 1
            out.append(value)
            continue
        item = content[2:].lstrip(" ")
        inner = indent + len(content) - len(item)
        if _is_item(item) or _KEY.match(item):
            # The item's first line opens a nested block at the item's own indentation.
            lines[i] = (inner, item)
            value, i = _node(lines, i, inner)
        else:
            if i + 1 < len(lines) and lines[i + 1][0] > indent:
                raise _Unhandled  # a multi-line scalar
            value, i = _scalar(item), i + 1
        out.append(value)
    return out, i


def _key(match: re.Match[str]) -> str:
    double, single, plain = match.groups()
    if double is not None:
        return _double_quoted(double)
    if single is not None:
        return single.replace("''", "'")
    value = _plain(plain.rstrip())
    return value if type(value) is str else yamlcodec.key_text(value)  # JSON keys are strings


def _scalar(text: str) -> Any:
    if text[0] == '"':
        match = _DOUBLE.match(text)
        if match is None:
            raise _Unhandled
        if match.end() != len(text):
            _expect_comment_or_end(text[match.end() :])
        return _double_quoted(match.group(1))
    if text[0] == "'":
        match = re.match(r"'((?:[^']|'')*)'", text)
        if match is None:
            raise _Unhandled
        _expect_comment_or_end(text[match.end() :])
        return match.group(1).replace("''", "'")
    if text in ("[]", "{}"):
        return [] if text == "[]" else {}
    comment = text.find(" #")
    if comment >= 0:
        text = text[:comment].rstrip()
    return _plain(text)


def _expect_comment_or_end(rest: str) -> None:
    rest = rest.strip(" ")
    if rest and not rest.startswith("#"):
        raise _Unhandled


def _double_quoted(body: str) -> str:
    if "\\" not in body:
        return body
    out, i = [], 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        escape = body[i + 1 : i + 2]
        if escape in _DOUBLE_ESCAPES:
            out.append(_DOUBLE_ESCAPES[escape])
            i += 2
        elif escape == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        else:
            raise _Unhandled
    return "".join(out)


def _plain(text: str) -> Any:
    if not text or text[0] in _PLAIN_FORBIDDEN_START or ": " in text or text.endswith(":"):
        raise _Unhandled
    if text[0] in "-?:" and (len(text) == 1 or text[1] == " "):
        raise _Unhandled
    for tag, pattern in _RESOLVERS.get(text[0], ()):
        if pattern.match(text):
            construct = _CONSTRUCT.get(tag)
            if construct is None:
                raise _Unhandled
            return construct(yaml.ScalarNode(tag, text))
    return text
