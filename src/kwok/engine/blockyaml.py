"""A fast reader for the block YAML that stage templates render, with PyYAML as the authority.

Rendering a status template takes ~150 µs; reading its YAML with PyYAML took as long again, most
of it in PyYAML's Python-level constructor. Mapping keys come out as strings, as the YAML-to-JSON
step of sigs.k8s.io/yaml makes them. Templates produce a narrow kind of YAML: block
mappings and sequences, one scalar per line, plain or quoted. This reader handles exactly that
and gives up (returns NOT_HANDLED) on anything else - flow collections other than [] and {},
block scalars, anchors, tags, multi-line scalars, tabs, document markers, the line breaks YAML
knows besides \\n - so the caller falls back to PyYAML. Plain scalars are resolved with the same
YAML 1.1 rules as yamlcodec (timestamps stay strings). tests/engine/test_blockyaml.py checks it
against PyYAML.

The document is read as `Line`s that remember what they parsed to, so the compiled stage
templates (tplcompile) analyse their fixed lines once and hand in a list of lines per render;
`Embed` stands for a block the template emitted through `YAML` whose value is already known.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from kwok.engine import yamlcodec

NOT_HANDLED = object()


class Unhandled(Exception):
    """Outside the supported subset: the caller must read the text with PyYAML."""


_Unhandled = Unhandled

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
_SINGLE = re.compile(r"'((?:[^']|'')*)'")
_DOUBLE_ESCAPES = {"\\": "\\", '"': '"', "/": "/", "n": "\n", "t": "\t", "r": "\r", "0": "\0", " ": " "}
# Characters a line may not hold: YAML's other line breaks (NEL, LS, PS), which PyYAML folds,
# and what YAML forbids in a stream, which PyYAML rejects; \t and \r are YAML's but not ours.
UNSAFE_CHARS = re.compile("[\t\r\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
_UNSET: Any = object()


class Line:
    """One non-blank line: its indentation, its content, and what the content parses to."""

    __slots__ = ("indent", "content", "item", "_key", "_value", "_inner")

    def __init__(self, indent: int, content: str) -> None:
        self.indent = indent
        self.content = content
        self.item = content == "-" or content.startswith("- ")
        self._key: Any = _UNSET
        self._value: Any = _UNSET
        self._inner: Line | None = None

    def key(self) -> tuple[str, str | None] | None:
        """(key, rest) for `key: rest` (rest None when no scalar follows), None if not a key."""
        found = self._key
        if found is _UNSET:
            try:
                found = _key_and_rest(self.content)
            except Unhandled:
                found = Unhandled
            self._key = found
        if found is Unhandled:
            raise Unhandled
        return found  # type: ignore[no-any-return]

    def value(self) -> Any:
        """The scalar after `key:` (for a key line) or the whole line (else)."""
        found = self._value
        if found is _UNSET:
            kv = self.key()
            text = kv[1] if kv is not None and kv[1] is not None else self.content
            try:
                found = _scalar(text)
            except Unhandled:
                found = Unhandled
            self._value = found
        if found is Unhandled:
            raise Unhandled
        if type(found) is list or type(found) is dict:
            return type(found)()  # `[]` and `{}`: a fresh one each time
        return found

    @classmethod
    def known(cls, indent: int, content: str, key: tuple[str, str], value: Any) -> Line:
        """The line `key: <value>` whose key (`(key, "")`) and value are already known."""
        line = object.__new__(cls)
        line.indent, line.content, line.item = indent, content, False
        line._key, line._value, line._inner = key, value, None
        return line

    @classmethod
    def known_item(cls, indent: int, content: str, inner: Line) -> Line:
        """The item line `- <inner>` whose inner line is already known."""
        line = object.__new__(cls)
        line.indent, line.content, line.item = indent, content, True
        line._key, line._value, line._inner = None, _UNSET, inner
        return line

    def inner(self) -> Line:
        """A sequence item's content as a line of its own, at the item's inner indentation."""
        found = self._inner
        if found is None:
            item = self.content[2:].lstrip(" ")
            found = self._inner = Line(self.indent + len(self.content) - len(item), item)
        return found


class Embed:
    """A block whose value is known (a dict or list), standing where its lines would be."""

    __slots__ = ("indent", "value")
    item = False
    _key = Unhandled

    def __init__(self, indent: int, value: Any) -> None:
        self.indent = indent
        self.value = value

    def key(self) -> None:
        raise Unhandled  # a block in a mapping's key column would merge into it


def load(text: str) -> Any:
    """The document of `text`, or NOT_HANDLED when it is outside the supported subset."""
    lines = split_lines(text)
    if lines is None:
        return NOT_HANDLED
    return load_lines(lines)


def load_lines(lines: list[Line | Embed]) -> Any:
    """The document of these lines (the list is consumed), or NOT_HANDLED."""
    if not lines:
        return None
    try:
        value, end = _node(lines, 0, lines[0].indent)
    except Unhandled:
        return NOT_HANDLED
    return value if end == len(lines) else NOT_HANDLED


def split_lines(text: str) -> list[Line | Embed] | None:
    if UNSAFE_CHARS.search(text):
        return None
    out: list[Line | Embed] = []
    try:
        for raw in text.split("\n"):
            line = text_line(raw)
            if line is not None:
                out.append(line)
    except Unhandled:
        return None
    return out


def text_line(raw: str) -> Line | None:
    """The line of one row of text; None for a blank or comment row; raises Unhandled when the
    row needs PyYAML (the caller has checked UNSAFE_CHARS)."""
    stripped = raw.lstrip(" ")
    if not stripped or stripped[0] == "#":
        return None
    if stripped.startswith(("---", "...", "%")):
        raise Unhandled
    return Line(len(raw) - len(stripped), stripped.rstrip(" "))


def _node(lines: list[Line | Embed], i: int, indent: int) -> tuple[Any, int]:
    line = lines[i]
    if type(line) is Embed:
        if i + 1 < len(lines) and lines[i + 1].indent >= line.indent:
            raise Unhandled  # lines that would continue the embedded block
        return line.value, i + 1
    assert type(line) is Line
    if line.item:
        return _sequence(lines, i, indent)
    if line.key() is not None:
        return _mapping(lines, i, indent)
    if i + 1 < len(lines) and lines[i + 1].indent >= indent:
        raise Unhandled  # a multi-line scalar
    return line.value(), i + 1


def _mapping(lines: list[Line | Embed], i: int, indent: int) -> tuple[dict[Any, Any], int]:
    out: dict[Any, Any] = {}
    count = len(lines)
    while i < count and lines[i].indent == indent:
        line = lines[i]
        found: Any = line._key  # line.key(), inlined: the hot loop of every render
        if found is _UNSET or found is Unhandled:
            found = line.key()
        if found is None:
            raise Unhandled
        key, rest = found
        i += 1
        if rest is not None:
            assert type(line) is Line
            value = line._value
            if value is _UNSET or value is Unhandled or type(value) is list or type(value) is dict:
                value = line.value()
            out[key] = value
        elif i < count and lines[i].indent > indent:
            out[key], i = _node(lines, i, lines[i].indent)
        elif i < count and lines[i].indent == indent and lines[i].item:
            out[key], i = _sequence(lines, i, indent)  # a sequence not indented under its key
        else:
            out[key] = None
    if i < count and lines[i].indent > indent:
        raise Unhandled
    return out, i


def _sequence(lines: list[Line | Embed], i: int, indent: int) -> tuple[list[Any], int]:
    out: list[Any] = []
    count = len(lines)
    while i < count and lines[i].indent == indent and lines[i].item:
        line = lines[i]
        assert type(line) is Line
        if line.content == "-":
            if i + 1 < count and lines[i + 1].indent > indent:
                value, i = _node(lines, i + 1, lines[i + 1].indent)
            else:
                value, i = None, i + 1
            out.append(value)
            continue
        inner = line.inner()
        if inner.item or inner.key() is not None:
            # The item's first line opens a nested block at the item's own indentation.
            lines[i] = inner
            value, i = _node(lines, i, inner.indent)
        else:
            if i + 1 < count and lines[i + 1].indent > indent:
                raise Unhandled  # a multi-line scalar
            value, i = inner.value(), i + 1
        out.append(value)
    return out, i


def _key_and_rest(content: str) -> tuple[str, str | None] | None:
    match = _KEY.match(content)
    if match is None:
        return None
    rest = content[match.end() :]
    return _key(match), (rest if rest and not rest.startswith("#") else None)


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
            raise Unhandled
        if match.end() != len(text):
            _expect_comment_or_end(text[match.end() :])
        return _double_quoted(match.group(1))
    if text[0] == "'":
        match = _SINGLE.match(text)
        if match is None:
            raise Unhandled
        _expect_comment_or_end(text[match.end() :])
        return match.group(1).replace("''", "'")
    if text in ("[]", "{}"):
        return [] if text == "[]" else {}
    comment = text.find(" #")
    if comment >= 0:
        text = text[:comment].rstrip()
    return _plain(text)


_PLAIN_CACHE: dict[str, Any] = {}


def plain_scalar(text: str) -> Any:
    """The value of `text` written after `key: ` (remembered: templates repeat their values)."""
    found = _PLAIN_CACHE.get(text, _UNSET)
    if found is _UNSET:
        try:
            found = _scalar(text)
        except Unhandled:
            found = Unhandled
        if len(_PLAIN_CACHE) >= 4096:
            _PLAIN_CACHE.clear()
        _PLAIN_CACHE[text] = found
    if found is Unhandled:
        raise Unhandled
    if type(found) is list or type(found) is dict:
        return type(found)()
    return found


def _expect_comment_or_end(rest: str) -> None:
    rest = rest.strip(" ")
    if rest and not rest.startswith("#"):
        raise Unhandled


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
            raise Unhandled
    return "".join(out)


def _plain(text: str) -> Any:
    if not text or text[0] in _PLAIN_FORBIDDEN_START or ": " in text or text.endswith(":"):
        raise Unhandled
    if text[0] in "-?:" and (len(text) == 1 or text[1] == " "):
        raise Unhandled
    for tag, pattern in _RESOLVERS.get(text[0], ()):
        if pattern.match(text):
            construct = _CONSTRUCT.get(tag)
            if construct is None:
                raise Unhandled
            return construct(yaml.ScalarNode(tag, text))
    return text
