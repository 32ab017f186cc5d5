"""A checked fast path for the CEL that Metric and ResourceUsage objects use, without cel-python.

KWOK's metrics documents are made of a few expression shapes, evaluated per container at every
scrape (5,000 nodes x 110 pods x several metrics):

    container.name   pod.metadata.namespace                 field chains over typed objects
    "0"  1.5  -1  true                                      literals
    pod.SinceSecond()  pod.Usage("memory", container.name)  KWOK's functions, either call form
    node.CumulativeUsage("cpu")  StartedContainersTotal(node)  Rand()  Quantity("1Mi")
    "k" in pod.metadata.annotations ? Quantity(pod.metadata.annotations["k"]) : Quantity("1m")

`compile_fast(source)` parses that grammar (a strict subset of CEL, so whatever it accepts is valid
CEL) and returns None for anything else, which then goes through cel-python as before. Evaluation
reads the JSON dicts directly with the typing kwok.engine.celtyped gives celpy (a missing
declared field is its zero value, an unknown one an error) and returns what CELProgram returns:
the same Python types and, for a failure, a CELError with celpy's message. Whenever a value is
outside what this module models (a non-bool condition, a time or list field as result, a wrong
JSON type, an error inside a condition whose celpy message is an internal detail) it raises
`Unsupported` before any side effect, and the caller evaluates that object with celpy instead.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from kwok.api.quantity import Quantity, QuantityError
from kwok.api.schema import FieldInfo, MessageInfo, get_schema
from kwok.engine.celexpr import CELContext, CELError
from kwok.engine.celquantity import CELQuantity
from kwok.engine.durations import parse_rfc3339, to_unix_nanos

Variables = Mapping[str, Any]
Eval = Callable[[Variables, CELContext], Any]

TYPED_KINDS = {"node": "Node", "pod": "Pod", "container": "Container"}
# Functions that observe the clock, the random source or the usage providers; a call to one must
# be in result position (see _result_position) so that nothing can raise Unsupported after it.
DYNAMIC = frozenset(("SinceSecond", "Usage", "CumulativeUsage", "StartedContainersTotal",
                     "startedContainersTotal", "Rand"))
_ARITY = {"Quantity": (1, 1), "SinceSecond": (1, 1), "Usage": (2, 3), "CumulativeUsage": (2, 3),
          "StartedContainersTotal": (1, 1), "startedContainersTotal": (1, 1), "Rand": (0, 0)}
# CEL's lexer keywords (celpy, like cel-go, accepts its other reserved words as field names:
# KWOK's own metrics select `pod.metadata.namespace`).
_RESERVED = frozenset(("in", "true", "false", "null"))
_INT64 = 2**63
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_TOKEN = re.compile(
    r"""[ \t\n\r\f]*(?:(?P<num>[0-9]+\.[0-9]+|[0-9]+)|(?P<str>"[^"\\\r\n]*"|'[^'\\\r\n]*')"""
    r"""|(?P<id>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[.()\[\],?:-]))"""
)


class Unsupported(Exception):
    """This evaluation is outside the fast path: evaluate it with cel-python."""


class _Failure(Exception):
    """A CEL evaluation error, with cel-python's message."""


class _Msg:
    """A typed Kubernetes message: its JSON dict and its schema."""

    __slots__ = ("raw", "info")

    def __init__(self, raw: Mapping[str, Any], info: MessageInfo) -> None:
        self.raw = raw
        self.info = info


class _Map:
    """A map field (labels, annotations): its JSON dict and the field that types its values."""

    __slots__ = ("raw", "field")

    def __init__(self, raw: Mapping[str, Any], field: FieldInfo) -> None:
        self.raw = raw
        self.field = field


class FastProgram:
    """A CEL expression of the fast path's grammar, compiled to Python closures."""

    __slots__ = ("source", "static", "_eval", "_functions")

    def __init__(self, source: str, evaluate: Eval, functions: frozenset[str]) -> None:
        self.source = source
        self.static = not functions & DYNAMIC
        self._eval = evaluate
        self._functions = functions

    def evaluate(self, variables: Variables, ctx: CELContext) -> Any:
        """The value celpy gives; CELError as celpy fails; Unsupported to ask celpy instead."""
        if ctx.extra and not self._functions.isdisjoint(ctx.extra):
            raise Unsupported("a context function overrides a built-in one")
        try:
            result = self._eval(variables, ctx)
        except _Failure as err:
            raise CELError(f"{self.source}: {err}") from None
        if isinstance(result, (_Msg, _Map)):
            raise Unsupported("object results")
        return result


def compile_fast(source: str) -> FastProgram | None:
    """The expression compiled for the fast path, or None when its grammar is outside it."""
    return _compile_cached(source)


@functools.lru_cache(maxsize=4096)
def _compile_cached(source: str) -> FastProgram | None:
    tokens = _tokenize(source)
    if tokens is None:
        return None
    parser = _Parser(tokens)
    try:
        tree = parser.expr()
        if parser.pos != len(tokens) or not _result_position(tree, top=True):
            return None
        return FastProgram(source, _build(tree), frozenset(parser.functions))
    except _Decline:
        return None


# --- parsing ------------------------------------------------------------------------------------

class _Decline(Exception):
    """The source is outside the fast path's grammar."""


Tree = tuple[Any, ...]


def _tokenize(source: str) -> list[tuple[str, str]] | None:
    tokens: list[tuple[str, str]] = []
    pos = 0
    end = len(source.rstrip(" \t\n\r\f"))
    while pos < end:
        match = _TOKEN.match(source, pos)
        if match is None or match.end() == pos:
            return None
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


class _Parser:
    """Recursive descent over: expr := rel ['?' rel ':' expr]; rel := unary ['in' unary];
    unary := ['-'] NUMBER | member; member := primary {'.' IDENT [args] | '[' expr ']'};
    primary := IDENT [args] | '(' expr ')' | literal."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.functions: set[str] = set()

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self, text: str | None = None, kind: str | None = None) -> str:
        tok_kind, tok_text = self.peek()
        if (text is not None and tok_text != text) or (kind is not None and tok_kind != kind) or tok_kind == "end":
            raise _Decline
        self.pos += 1
        return tok_text

    def accept(self, text: str) -> bool:
        if self.peek() == ("op", text) or (text == "in" and self.peek() == ("id", "in")):
            self.pos += 1
            return True
        return False

    def expr(self) -> Tree:
        cond = self.rel()
        if not self.accept("?"):
            return cond
        yes = self.rel()
        self.take(":")
        return ("cond", cond, yes, self.expr())

    def rel(self) -> Tree:
        left = self.unary()
        if self.accept("in"):
            return ("in", left, self.unary())
        return left

    def unary(self) -> Tree:
        if self.accept("-"):
            return ("lit", -_number(self.take(kind="num")))
        return self.member()

    def member(self) -> Tree:
        tree = self.primary()
        while True:
            if self.accept("."):
                name = _ident(self.take(kind="id"))
                tree = self.call(name, tree) if self.peek() == ("op", "(") else ("field", tree, name)
            elif self.accept("["):
                tree = ("index", tree, self.expr())
                self.take("]")
            else:
                return tree

    def primary(self) -> Tree:
        kind, text = self.peek()
        if kind == "op" and text == "(":
            self.pos += 1
            inner = self.expr()
            self.take(")")
            return inner
        self.pos += 1
        if kind == "num":
            return ("lit", _number(text))
        if kind == "str":
            return ("lit", text[1:-1])
        if kind == "id" and text in ("true", "false"):
            return ("lit", text == "true")
        if kind == "id" and self.peek() == ("op", "("):
            return self.call(_ident(text), None)
        if kind == "id" and text in TYPED_KINDS:
            return ("var", text)
        raise _Decline

    def call(self, name: str, receiver: Tree | None) -> Tree:
        self.take("(")
        args = [] if receiver is None else [receiver]
        if not self.accept(")"):
            args.append(self.expr())
            while self.accept(","):
                args.append(self.expr())
            self.take(")")
        low, high = _ARITY.get(name, (-1, -1))
        if not low <= len(args) <= high or (name == "Quantity" and receiver is not None):
            raise _Decline
        self.functions.add(name)
        return ("call", name, args)


def _ident(text: str) -> str:
    if text in _RESERVED:
        raise _Decline
    return text


def _number(text: str) -> int | float:
    if "." in text:
        return float(text)
    if (len(text) > 1 and text.startswith("0")) or len(text) > 18:
        raise _Decline  # octal-looking or near the int64 bound: leave to celpy
    return int(text)


def _result_position(tree: Tree, top: bool) -> bool:
    """True when every call to a DYNAMIC function is the value of the expression or of a branch:
    nothing after it can then turn the evaluation into Unsupported (and run the call twice)."""
    if tree[0] == "cond":
        return _result_position(tree[1], False) and _result_position(tree[2], top) and _result_position(tree[3], top)
    if tree[0] == "call":
        if tree[1] in DYNAMIC and not top:
            return False
        return all(_result_position(arg, False) for arg in tree[2])
    return all(_result_position(child, False) for child in tree[1:] if isinstance(child, tuple))


# --- evaluation -----------------------------------------------------------------------------------

def _build(tree: Tree) -> Eval:
    return _BUILDERS[tree[0]](tree)


def _lit(tree: Tree) -> Eval:
    value = tree[1]
    return lambda variables, ctx: value


def _var(tree: Tree) -> Eval:
    name, kind = tree[1], TYPED_KINDS[tree[1]]

    def evaluate(variables: Variables, ctx: CELContext) -> Any:
        value = variables.get(name)
        # The schema (~4 MB, 25 ms) is read at the first evaluation: validating a document needs none.
        info = _message_for_kind(kind)
        if info is None or not isinstance(value, Mapping):
            raise Unsupported(f"variable {name}")
        return _Msg(value, info)

    return evaluate


def _field(tree: Tree) -> Eval:
    target, name = _build(tree[1]), tree[2]

    def evaluate(variables: Variables, ctx: CELContext) -> Any:
        return select(target(variables, ctx), name)

    return evaluate


def select(value: Any, name: str) -> Any:
    """`value.name` as celtyped's values answer it."""
    if isinstance(value, _Msg):
        field = value.info.fields.get(name)
        raw = value.raw.get(name)
        if field is None:
            if name in value.raw:
                return _plain(raw)
            raise _Failure(f"no such member in mapping: {name!r}")
        return _zero(field) if raw is None else _typed(raw, field)
    if isinstance(value, _Map):
        if name in value.raw:
            return _map_value(value, name)
        raise _Failure(f"no such member in mapping: {name!r}")
    raise Unsupported("field of a scalar")


def _index(tree: Tree) -> Eval:
    target, key = _build(tree[1]), _build(tree[2])

    def evaluate(variables: Variables, ctx: CELContext) -> Any:
        value, name = target(variables, ctx), key(variables, ctx)
        if not isinstance(value, _Map) or not isinstance(name, str):
            raise Unsupported("index of a non-map")
        if name in value.raw:
            return _map_value(value, name)
        raise _Failure("no such key")

    return evaluate


def _in(tree: Tree) -> Eval:
    item, container = _build(tree[1]), _build(tree[2])

    def evaluate(variables: Variables, ctx: CELContext) -> Any:
        try:
            key, mapping = item(variables, ctx), container(variables, ctx)
        except _Failure:
            raise Unsupported("error operand of in") from None
        if not isinstance(mapping, _Map) or not isinstance(key, str):
            raise Unsupported("in over a non-map")
        return key in mapping.raw

    return evaluate


def _cond(tree: Tree) -> Eval:
    cond, yes, no = _build(tree[1]), _build(tree[2]), _build(tree[3])

    def evaluate(variables: Variables, ctx: CELContext) -> Any:
        try:
            chosen = cond(variables, ctx)
        except _Failure:
            raise Unsupported("error condition") from None  # celpy reports an overload error
        if chosen is True:
            return yes(variables, ctx)
        if chosen is False:
            return no(variables, ctx)
        raise Unsupported("non-bool condition")

    return evaluate


def _call(tree: Tree) -> Eval:
    name, args = tree[1], [_build(arg) for arg in tree[2]]
    function = _FUNCTIONS[name]

    def evaluate(variables: Variables, ctx: CELContext) -> Any:
        return function(ctx, *[arg(variables, ctx) for arg in args])

    return evaluate


_BUILDERS: dict[str, Callable[[Tree], Eval]] = {
    "lit": _lit, "var": _var, "field": _field, "index": _index, "in": _in, "cond": _cond, "call": _call,
}


# --- typed values (as kwok.engine.celtyped converts JSON for celpy) ---------------------------------

@functools.cache
def _message_for_kind(kind: str) -> MessageInfo | None:
    schema = get_schema()
    return schema.message(schema.message_for_kind("", "v1", kind) or f"k8s.io.api.core.v1.{kind}")


def _plain(raw: Any) -> Any:
    """A JSON scalar as celpy's json_to_cel and to_python give it back."""
    if isinstance(raw, (str, bool, float)) or (isinstance(raw, int) and -_INT64 <= raw < _INT64):
        return raw
    raise Unsupported(f"JSON value of type {type(raw).__name__}")


def _typed(raw: Any, field: FieldInfo) -> Any:
    if field.map_value is not None:
        if isinstance(raw, Mapping):
            return _Map(raw, field)
        raise Unsupported("malformed map")
    if field.repeated or field.type in ("time", "microtime", "duration", "quantity"):
        raise Unsupported(f"{field.type} field")
    if field.type == "message":
        info = get_schema().message(field.ref) if field.ref else None
        if info is None or not isinstance(raw, Mapping):
            raise Unsupported("malformed message")
        return _Msg(raw, info)
    return _plain(raw)


def _map_value(value: _Map, key: str) -> Any:
    raw = value.raw[key]
    if raw is None:
        return None
    kind = value.field.map_value
    if kind == "message" or kind in ("time", "microtime", "duration", "quantity"):
        raise Unsupported(f"map of {kind}")
    return _plain(raw)


_ZEROS: dict[str, Any] = {"int32": 0, "int64": 0, "intstr": 0, "double": 0.0, "bool": False}


def _zero(field: FieldInfo) -> Any:
    if field.map_value is not None:
        return _Map({}, field)
    if field.repeated or field.type in ("time", "microtime", "duration", "quantity"):
        raise Unsupported(f"zero {field.type}")
    if field.type == "message":
        info = get_schema().message(field.ref) if field.ref else None
        if info is None:
            raise Unsupported("zero of an unknown message")
        return _Msg({}, info)
    return _ZEROS.get(field.type, "")


# --- KWOK's functions ------------------------------------------------------------------------------

def _quantity(ctx: CELContext, text: Any) -> CELQuantity:
    if not isinstance(text, str):
        raise Unsupported("Quantity of a non-string")
    try:
        return CELQuantity(Quantity(text))
    except QuantityError:
        raise _Failure("return error for overflow") from None


def _since_second(ctx: CELContext, obj: Any) -> float:
    if not isinstance(obj, _Msg):
        raise Unsupported("SinceSecond of a non-object")
    meta = obj.raw.get("metadata")
    if meta is None:
        return 0.0
    if not isinstance(meta, Mapping):
        raise Unsupported("malformed metadata")
    stamp = meta.get("creationTimestamp")
    if stamp is None or stamp == "":
        return 0.0
    if not isinstance(stamp, str):
        raise Unsupported("malformed creationTimestamp")
    return to_unix_nanos(ctx.now) / 1e9 - _creation_seconds(stamp)


@functools.lru_cache(maxsize=65536)
def _creation_seconds(stamp: str) -> float:
    # As celtyped: the stamp becomes a microsecond timestamp, then timestamp() seconds.
    try:
        when = _EPOCH + dt.timedelta(microseconds=parse_rfc3339(stamp) // 1000)
    except ValueError:
        raise _Failure("return error for overflow") from None
    except OverflowError:
        raise Unsupported("timestamp out of range") from None
    return when.timestamp()


def _provided(provider: Callable[..., Any] | None, *args: Any) -> Any:
    if provider is None:
        raise Unsupported("function not provided")  # celpy: an undeclared reference
    try:
        return provider(*args)
    except ValueError:
        raise _Failure("return error for overflow") from None
    except (TypeError, AttributeError):
        raise _Failure("no such overload") from None
    except (KeyError, ArithmeticError) as err:  # CELProgram's report of an exception escaping celpy
        raise _Failure(f"{type(err).__name__}: {err}") from None


def _usage(kind: str) -> Callable[..., float]:
    def call(ctx: CELContext, obj: Any, resource: Any, container: Any = None) -> float:
        if not isinstance(obj, _Msg) or not isinstance(resource, str) or not isinstance(container, (str, type(None))):
            raise Unsupported(f"{kind} arguments")
        provider = ctx.usage if kind == "Usage" else ctx.cumulative_usage
        return float(_provided(provider, obj.raw, resource, container))

    return call


def _started_total(ctx: CELContext, node: Any) -> int:
    if isinstance(node, _Msg):
        meta = node.raw.get("metadata")
        name = (meta.get("name") if isinstance(meta, Mapping) else None) or ""
    elif isinstance(node, str):
        name = node
    else:
        raise Unsupported("StartedContainersTotal argument")
    return int(_provided(ctx.started_containers_total, str(name)))


def _rand(ctx: CELContext) -> float:
    return float(ctx.rand())


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "Quantity": _quantity, "SinceSecond": _since_second, "Usage": _usage("Usage"),
    "CumulativeUsage": _usage("CumulativeUsage"), "StartedContainersTotal": _started_total,
    "startedContainersTotal": _started_total, "Rand": _rand,
}
