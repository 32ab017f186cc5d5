"""Label and field selectors, parsed and matched exactly as apimachinery does.

Public names (the API server, controllers and kwok import these):

    SelectorError(ValueError)                 bad selector; str(err) is apimachinery's message
    Requirement(key, operator, values)        one term; operator is a selection.Operator string
    LabelSelector                             compiled label matcher
        .matches(labels: Mapping | None) -> bool
        .empty, .requirements, .requires_exact_match(key), str(sel) (the canonical string)
    EVERYTHING, NOTHING                       the two trivial label selectors
    parse_label_selector(text) -> LabelSelector            `a=b,c in (x,y),!d,e>1`
    label_selector_from_object(obj) -> LabelSelector       metav1.LabelSelector dict (None -> NOTHING)
    label_selector_from_set(labels) -> LabelSelector       matchLabels-style dict
    FieldSelector                             compiled field matcher
        .matches(fields: Mapping[str, str]) -> bool        a missing field counts as ""
        .fields (names used, in apimachinery's order), .empty, .requires_exact_match(name), str(sel)
        .check_supported(names) raises SelectorError("field label not supported: spec.foo")
        .transform(fn) -> FieldSelector            rewrite (field, value) pairs, as Go's Transform
    parse_field_selector(text) -> FieldSelector
    escape_field_value(value) -> str          backslash, comma and = escaped for a field selector value
    validate_label_selector(obj, path) -> list of causes   metav1validation.ValidateLabelSelector
    is_qualified_name(key), is_valid_label_value(value) -> list of problems (empty when valid)

Selectors are parsed once and matched per object per watch event, so parsing is cached and each
requirement is compiled into a closure that does one dict lookup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from kwok.api.errors import field_forbidden, field_invalid, field_required, go_quote, go_string_slice

__all__ = [
    "EVERYTHING",
    "NOTHING",
    "FieldSelector",
    "LabelSelector",
    "Requirement",
    "SelectorError",
    "label_selector_from_object",
    "label_selector_from_set",
    "parse_field_selector",
    "parse_label_selector",
    "escape_field_value",
    "is_qualified_name",
    "is_valid_label_value",
    "validate_label_key",
    "validate_label_selector",
    "validate_label_value",
]

# selection.Operator values
IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS = "in", "notin", "=", "==", "!="
EXISTS, DOES_NOT_EXIST, GREATER_THAN, LESS_THAN = "exists", "!", "gt", "lt"
_BINARY_OPERATORS = ", ".join((IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN))

Labels = Mapping[str, str]
_Test = Callable[[Labels], bool]


class SelectorError(ValueError):
    """A selector the real API server would reject; the text is apimachinery's message."""


# ---------------------------------------------------------------------------------------------
# Label key / value validation (k8s.io/apimachinery/pkg/util/validation)

_QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QNAME_RE = re.compile(_QNAME_FMT)
_QNAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN_FMT)
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_VALUE_FMT = "(" + _QNAME_FMT + ")?"
_LABEL_VALUE_RE = re.compile(_LABEL_VALUE_FMT)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    # Go's validation.RegexError, including its doubled space before "or".
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    listed = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {listed}regex used for validation is '{fmt}')"


def _max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def is_qualified_name(value: str) -> list[str]:
    """validation.IsQualifiedName: the problems with a label key (empty list when valid)."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) > 2:
        return [
            "a qualified name "
            + _regex_error(_QNAME_MSG, _QNAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in _dns1123_subdomain_errors(prefix))
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part " + _max_len_error(63))
    if not _QNAME_RE.fullmatch(name):
        errs.append("name part " + _regex_error(_QNAME_MSG, _QNAME_FMT, "MyName", "my.name", "123-abc"))
    return errs


def _dns1123_subdomain_errors(value: str) -> list[str]:
    errs: list[str] = []
    if len(value) > 253:
        errs.append(_max_len_error(253))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_valid_label_value(value: str) -> list[str]:
    """validation.IsValidLabelValue: the problems with a label value (empty list when valid)."""
    errs: list[str] = []
    if len(value) > 63:
        errs.append(_max_len_error(63))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(_regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def validate_label_key(key: str, path: str = "<nil>") -> str | None:
    """The field error text for a bad key, or None. `<nil>` is what Go prints for a nil path."""
    errs = is_qualified_name(key)
    return f"{path}: Invalid value: {go_quote(key)}: {'; '.join(errs)}" if errs else None


def validate_label_value(key: str, value: str, path: str) -> str | None:
    errs = is_valid_label_value(value)
    return f"{path}[{key}]: Invalid value: {go_quote(value)}: {'; '.join(errs)}" if errs else None


# ---------------------------------------------------------------------------------------------
# Requirements

_INT64 = re.compile(r"[+-]?[0-9]+")


def _parse_int64(text: str) -> int | None:
    """strconv.ParseInt(text, 10, 64), None on error."""
    if not _INT64.fullmatch(text):
        return None
    n = int(text)
    return n if -(2**63) <= n < 2**63 else None


class Requirement(NamedTuple):
    key: str
    operator: str
    values: tuple[str, ...]   # as given; str() sorts them like Go's String()

    def __str__(self) -> str:
        op = self.operator
        head = ("!" if op == DOES_NOT_EXIST else "") + self.key
        if op in (EXISTS, DOES_NOT_EXIST):
            return head
        joined = ",".join(sorted(self.values))
        if op in (IN, NOT_IN):
            return f"{head} {op} ({joined})"
        symbol = {GREATER_THAN: ">", LESS_THAN: "<"}.get(op, op)
        return f"{head}{symbol}{joined}"


def new_requirement(key: str, operator: str, values: Iterable[str], *, nil_values: bool = False) -> Requirement:
    """labels.NewRequirement: validate and build one requirement (values kept in given order).

    `nil_values` says the Go caller passed a nil slice, which Go prints differently (`[]string(nil)`).
    """
    vals = list(values)
    errs: list[str] = []
    key_err = validate_label_key(key, "key")
    if key_err:
        errs.append(key_err)
    shown = "[]string(nil)" if nil_values and not vals else go_string_slice(vals)
    if operator in (IN, NOT_IN):
        if not vals:
            errs.append(f"values: Invalid value: {shown}: for 'in', 'notin' operators, values set can't be empty")
    elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if len(vals) != 1:
            errs.append(f"values: Invalid value: {shown}: exact-match compatibility requires one single value")
    elif operator in (EXISTS, DOES_NOT_EXIST):
        if vals:
            errs.append(f"values: Invalid value: {shown}: values set must be empty for exists and does not exist")
    elif operator in (GREATER_THAN, LESS_THAN):
        if len(vals) != 1:
            errs.append(f"values: Invalid value: {shown}: for 'Gt', 'Lt' operators, exactly one value is required")
        for i, v in enumerate(vals):
            if _parse_int64(v) is None:
                errs.append(
                    f"values[{i}]: Invalid value: {go_quote(v)}: for 'Gt', 'Lt' operators, the value must be an integer"
                )
    else:
        supported = ", ".join(go_quote(o) for o in (*_BINARY_OPERATORS.split(", "), EXISTS, DOES_NOT_EXIST))
        errs.append(f"operator: Unsupported value: {go_quote(operator)}: supported values: {supported}")
    for i, v in enumerate(vals):
        value_err = validate_label_value(key, v, f"values[{i}]")
        if value_err:
            errs.append(value_err)
    if errs:
        raise SelectorError(_aggregate(errs))
    return Requirement(key, operator, tuple(vals))


def _aggregate(messages: list[str]) -> str:
    """field.ErrorList.ToAggregate().Error(): duplicates dropped, brackets around several."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


def _compile(req: Requirement) -> _Test:
    key, op, values = req
    if op in (IN, EQUALS, DOUBLE_EQUALS):
        if len(values) == 1:
            only = values[0]
            return lambda labels: labels.get(key) == only
        allowed = frozenset(values)
        return lambda labels: labels.get(key) in allowed
    if op in (NOT_IN, NOT_EQUALS):
        if len(values) == 1:
            only = values[0]
            return lambda labels: labels.get(key) != only
        denied = frozenset(values)
        return lambda labels: labels.get(key) not in denied
    if op == EXISTS:
        return lambda labels: key in labels
    if op == DOES_NOT_EXIST:
        return lambda labels: key not in labels
    return _compile_comparison(key, op, values)


def _compile_comparison(key: str, op: str, values: tuple[str, ...]) -> _Test:
    bound = _parse_int64(values[0]) if len(values) == 1 else None
    if bound is None:
        return lambda labels: False
    limit: int = bound
    greater = op == GREATER_THAN

    def compare(labels: Labels) -> bool:
        value = labels.get(key)
        n = None if value is None else _parse_int64(value)
        if n is None:
            return False
        return n > limit if greater else n < limit

    return compare


# ---------------------------------------------------------------------------------------------
# Label selectors

_EMPTY: dict[str, str] = {}


class LabelSelector:
    """An AND of requirements, sorted by key (stable), as labels.internalSelector."""

    __slots__ = ("requirements", "_tests", "_nothing", "_text")

    def __init__(self, requirements: Iterable[Requirement] = (), *, nothing: bool = False) -> None:
        self.requirements: tuple[Requirement, ...] = tuple(sorted(requirements, key=lambda r: r.key))
        self._tests = tuple(_compile(r) for r in self.requirements)
        self._nothing = nothing
        self._text = ",".join(str(r) for r in self.requirements)

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (NOTHING is not empty)."""
        return not self.requirements and not self._nothing

    def matches(self, labels: Labels | None) -> bool:
        if self._nothing:
            return False
        source = _EMPTY if labels is None else labels
        for test in self._tests:
            if not test(source):
                return False
        return True

    def requires_exact_match(self, key: str) -> str | None:
        """The single value the selector requires for `key` (for index lookups), or None."""
        for r in self.requirements:
            if r.key == key:
                if r.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(r.values) == 1:
                    return r.values[0]
                return None
        return None

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return "LabelSelector(NOTHING)" if self._nothing else f"LabelSelector({self._text!r})"

    def __eq__(self, other: object) -> bool:
        # Equal when they select the same way: the canonical string sorts keys and values.
        if not isinstance(other, LabelSelector):
            return NotImplemented
        return self._text == other._text and self._nothing == other._nothing

    def __hash__(self) -> int:
        return hash((self._text, self._nothing))


EVERYTHING = LabelSelector()
NOTHING = LabelSelector(nothing=True)


def label_selector_from_set(labels: Mapping[str, str] | None) -> LabelSelector:
    """labels.SelectorFromSet: equality on every pair, not validated (like the Go function)."""
    if not labels:
        return EVERYTHING
    return LabelSelector(Requirement(k, EQUALS, (v,)) for k, v in labels.items())


_OBJECT_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}


def label_selector_from_object(selector: Mapping[str, Any] | None) -> LabelSelector:
    """metav1.LabelSelectorAsSelector: None selects nothing, an empty selector everything."""
    if selector is None:
        return NOTHING
    match_labels: Mapping[str, str] = selector.get("matchLabels") or {}
    expressions: list[Mapping[str, Any]] = selector.get("matchExpressions") or []
    if not match_labels and not expressions:
        return EVERYTHING
    reqs = [new_requirement(k, EQUALS, [v]) for k, v in match_labels.items()]
    for expr in expressions:
        operator = expr.get("operator", "")
        op = _OBJECT_OPERATORS.get(operator)
        if op is None:
            raise SelectorError(f"{go_quote(operator)} is not a valid label selector operator")
        values = expr.get("values")
        reqs.append(new_requirement(expr.get("key", ""), op, values or [], nil_values=not values))
    return LabelSelector(reqs)


def validate_label_selector(selector: Mapping[str, Any] | None, path: str) -> list[dict[str, str]]:
    """The field errors (Status causes) the API server reports for a LabelSelector object, e.g.
    `spec.selector.matchExpressions[0].values: Required value: must be specified when ...`."""
    if selector is None:
        return []
    causes: list[dict[str, str]] = []
    labels: Mapping[str, Any] = selector.get("matchLabels") or {}
    for key in sorted(labels):                  # Go walks a map in random order; sorted is stable
        causes += [field_invalid(f"{path}.matchLabels", key, m) for m in is_qualified_name(key)]
        value = str(labels[key])
        causes += [field_invalid(f"{path}.matchLabels", value, m) for m in is_valid_label_value(value)]
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        causes += _validate_requirement(expr, f"{path}.matchExpressions[{i}]")
    return causes


def _validate_requirement(expr: Mapping[str, Any], path: str) -> list[dict[str, str]]:
    causes: list[dict[str, str]] = []
    operator = expr.get("operator", "")
    values: list[Any] = expr.get("values") or []
    if operator in ("In", "NotIn"):
        if not values:
            causes.append(field_required(f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            causes.append(field_forbidden(f"{path}.values",
                                          "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
    else:
        causes.append(field_invalid(f"{path}.operator", operator, "not a valid selector operator"))
    key = str(expr.get("key", ""))
    causes += [field_invalid(f"{path}.key", key, m) for m in is_qualified_name(key)]
    for i, value in enumerate(values):
        causes += [field_invalid(f"{path}.values[{i}]", value, m) for m in is_valid_label_value(str(value))]
    return causes


def parse_label_selector(text: str) -> LabelSelector:
    """labels.Parse: the `-l` / `labelSelector=` syntax. Raises SelectorError."""
    return _parse_label_selector_cached(text)


@lru_cache(maxsize=4096)
def _parse_label_selector_cached(text: str) -> LabelSelector:
    if not text:
        return EVERYTHING
    return LabelSelector(_LabelParser(text).parse())


# --- lexer ---------------------------------------------------------------------------------------

_ERROR, _EOS, _CLOSE, _COMMA, _BANG, _DEQ, _EQ, _GT, _IDENT, _IN, _LT, _NEQ, _NOTIN, _OPEN = range(14)
_SYMBOL_TOKENS = {")": _CLOSE, ",": _COMMA, "!": _BANG, "==": _DEQ, "=": _EQ, ">": _GT, "<": _LT,
                  "!=": _NEQ, "(": _OPEN}
_KEYWORDS = {**_SYMBOL_TOKENS, "in": _IN, "notin": _NOTIN}
_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")


def _lex(text: str) -> list[tuple[int, str]]:
    tokens: list[tuple[int, str]] = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= end or text[pos] == "\0":   # Go's lexer reads a NUL byte as end of input
            tokens.append((_EOS, ""))
            return tokens
        if text[pos] in _SPECIAL:
            token, pos = _scan_symbol(text, pos)
        else:
            start = pos
            while pos < end and text[pos] not in _SPECIAL and text[pos] not in _WHITESPACE and text[pos] != "\0":
                pos += 1
            word = text[start:pos]
            token = (_KEYWORDS.get(word, _IDENT), word)
        tokens.append(token)


def _scan_symbol(text: str, pos: int) -> tuple[tuple[int, str], int]:
    """Longest run of special characters that is still a known operator."""
    best: tuple[int, str] | None = None
    buffer = ""
    while pos < len(text) and text[pos] in _SPECIAL:
        buffer += text[pos]
        token = _SYMBOL_TOKENS.get(buffer)
        if token is not None:
            best = (token, buffer)
        elif best is not None:
            break
        pos += 1
    if best is None:
        return (_ERROR, f"error expected: keyword found '{buffer}'"), pos
    return best, pos


# --- parser --------------------------------------------------------------------------------------


class _LabelParser:
    """labels.Parser: a recursive-descent parser over the pre-scanned tokens."""

    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.pos = 0

    def _peek(self, values: bool = True) -> tuple[int, str]:
        return self._as_context(self.tokens[self.pos], values)

    def _next(self, values: bool = True) -> tuple[int, str]:
        self.pos += 1
        return self._as_context(self.tokens[self.pos - 1], values)

    @staticmethod
    def _as_context(item: tuple[int, str], values: bool) -> tuple[int, str]:
        # In a value position the words "in" and "notin" are plain identifiers.
        if values and item[0] in (_IN, _NOTIN):
            return _IDENT, item[1]
        return item

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            tok, lit = self._peek()
            if tok == _EOS:
                return reqs
            if tok not in (_IDENT, _BANG):
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")
            try:
                reqs.append(self._requirement())
            except SelectorError as err:
                raise SelectorError(f"unable to parse requirement: {err}") from None
            tok, lit = self._next()
            if tok == _EOS:
                return reqs
            if tok != _COMMA:
                raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
            tok, lit = self._peek()
            if tok not in (_IDENT, _BANG):
                raise SelectorError(f"found '{lit}', expected: identifier after ','")

    def _requirement(self) -> Requirement:
        key, unary = self._key_and_unary_operator()
        if unary is not None:
            return new_requirement(key, unary, [])
        op = self._operator()
        values = self._value_set() if op in (IN, NOT_IN) else self._exact_value()
        return new_requirement(key, op, sorted(values))

    def _key_and_unary_operator(self) -> tuple[str, str | None]:
        tok, lit = self._next()
        negated = tok == _BANG
        if negated:
            tok, lit = self._next()
        if tok != _IDENT:
            raise SelectorError(f"found '{lit}', expected: identifier")
        key_err = validate_label_key(lit)
        if key_err:
            raise SelectorError(key_err)
        if negated:
            # "!a=b" parses as "!a" followed by a stray "=", as in Go.
            return lit, DOES_NOT_EXIST
        return lit, EXISTS if self._peek()[0] in (_EOS, _COMMA) else None

    def _operator(self) -> str:
        tok, lit = self._next(values=False)
        op = {_IN: IN, _EQ: EQUALS, _DEQ: DOUBLE_EQUALS, _GT: GREATER_THAN, _LT: LESS_THAN,
              _NOTIN: NOT_IN, _NEQ: NOT_EQUALS}.get(tok)
        if op is None:
            raise SelectorError(f"found '{lit}', expected: {_BINARY_OPERATORS}")
        return op

    def _value_set(self) -> set[str]:
        tok, lit = self._next()
        if tok != _OPEN:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self._peek()
        if tok == _CLOSE:
            self._next()
            return {""}
        if tok not in (_IDENT, _COMMA):
            raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")
        values = self._identifiers()
        if self._next()[0] != _CLOSE:
            raise SelectorError(f"found '{lit}', expected: ')'")
        return values

    def _identifiers(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self._next()
            if tok == _IDENT:
                values.add(lit)
                tok2, lit2 = self._peek()
                if tok2 == _CLOSE:
                    return values
                if tok2 != _COMMA:
                    raise SelectorError(f"found '{lit2}', expected: ',' or ')'")
            elif tok == _COMMA:
                # Empty entries ("(,a)", "(a,)", "(a,,b)") stand for the empty value.
                if not values:
                    values.add("")
                tok2 = self._peek()[0]
                if tok2 == _CLOSE:
                    values.add("")
                    return values
                if tok2 == _COMMA:
                    self._next()
                    values.add("")
            else:
                raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def _exact_value(self) -> set[str]:
        tok, lit = self._peek()
        if tok in (_EOS, _COMMA):
            return {""}
        tok, lit = self._next()
        if tok == _IDENT:
            return {lit}
        raise SelectorError(f"found '{lit}', expected: identifier")


# ---------------------------------------------------------------------------------------------
# Field selectors (k8s.io/apimachinery/pkg/fields)


class FieldTerm(NamedTuple):
    field: str
    equal: bool      # True for = and ==, False for !=
    value: str       # unescaped

    def __str__(self) -> str:
        return f"{self.field}{'=' if self.equal else '!='}{escape_field_value(self.value)}"


class FieldSelector:
    """An AND of `field=value` / `field!=value` terms; a missing field reads as ""."""

    __slots__ = ("terms", "_text")

    def __init__(self, terms: Iterable[FieldTerm] = ()) -> None:
        self.terms: tuple[FieldTerm, ...] = tuple(terms)
        self._text = ",".join(str(t) for t in self.terms)

    @property
    def empty(self) -> bool:
        return not self.terms

    @property
    def fields(self) -> tuple[str, ...]:
        """The field names the selector uses, in the order the server checks them."""
        return tuple(dict.fromkeys(t.field for t in self.terms))

    def check_supported(self, supported: Collection[str]) -> None:
        """Raise the real server's error for the first field it cannot select on."""
        for term in self.terms:
            if term.field not in supported:
                raise SelectorError(f"field label not supported: {term.field}")

    def transform(self, fn: Callable[[str, str], tuple[str, str]]) -> FieldSelector:
        """fields.Selector.Transform: rewrite each (field, value), e.g. a kind's `spec.host` alias of
        `spec.nodeName`; `fn` raises SelectorError to reject a term."""
        terms = []
        for term in self.terms:
            name, value = fn(term.field, term.value)
            terms.append(FieldTerm(name, term.equal, value))
        return FieldSelector(terms)

    def matches(self, fields: Mapping[str, str]) -> bool:
        for name, equal, value in self.terms:
            if (fields.get(name, "") == value) is not equal:
                return False
        return True

    def requires_exact_match(self, name: str) -> str | None:
        for term in self.terms:
            if term.field == name:
                return term.value if term.equal else None
        return None

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"FieldSelector({self._text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldSelector) and self.terms == other.terms

    def __hash__(self) -> int:
        return hash(self.terms)


def parse_field_selector(text: str) -> FieldSelector:
    """fields.ParseSelector: `a=b,c!=d`, `\\,` `\\=` `\\\\` escapes in values. Raises SelectorError."""
    return _parse_field_selector_cached(text)


@lru_cache(maxsize=4096)
def _parse_field_selector_cached(text: str) -> FieldSelector:
    terms: list[FieldTerm] = []
    # Go sorts the raw terms before parsing: that fixes both String() and which error comes first.
    for part in sorted(_split_terms(text)):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        lhs, op, rhs = split
        terms.append(FieldTerm(lhs, op != "!=", unescape_field_value(rhs)))
    return FieldSelector(terms)


def _split_terms(text: str) -> list[str]:
    """Split on commas not escaped by a backslash (the backslash stays in the term)."""
    if not text:
        return []
    terms: list[str] = []
    start, escaped = 0, False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    """Split at the first operator; `!=` and `==` are tried before `=` at each position."""
    for i in range(len(term)):
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op):]
    return None


def unescape_field_value(value: str) -> str:
    if "\\" not in value and "," not in value and "=" not in value:
        return value
    out: list[str] = []
    escaped = False
    for ch in value:
        if escaped:
            if ch not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",=":
            # Go formats the rune with %v, which prints its code point.
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(ch)}")
        else:
            out.append(ch)
    if escaped:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def escape_field_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")
