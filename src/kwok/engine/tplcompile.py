"""Stage templates compiled to Python closures that build the patch object without gotpl.

Rendering a status template with gotpl and reading the text back as YAML cost ~1 ms a pod.
`compile_template` turns the parsed template into closures that evaluate it directly and emit its
output as `blockyaml.Line`s: the template's fixed lines are parsed once, here; only the lines an
action writes to are read per render, and `{{ YAML x n }}` and `key: {{ x | Quote }}` hand their
value over without text at all. The result is the same object the text path gives, type for type:

* values are what gotpl sees (numbers of the object as json.Number, read lazily per field instead
  of copying the whole object with `json_numbers`; a missing key is gotpl's INVALID);
* the output follows the text semantics line by line (blockyaml, whose answers PyYAML checks);
* whatever this module does not reproduce exactly raises `Fallback` while rendering, and the
  caller renders that object the old way: an error of any kind (so errors keep their wording), a
  value printed other than a string, bool or int, a range over a map, a YAML line that blockyaml
  leaves to PyYAML. A template using a construct or function not listed below is not compiled
  (`compile_template` returns None) and always takes the text path.

Supported: text, actions, `if`/`with`/`range` (lists) with `else`, variables (`$`, `:=`, `=`),
field chains, parentheses, literals (string, bool, int), and the functions and, or, not, eq, ne,
index, print, printf (%s), list, dict (no arguments), Quote, YAML, NodeConditions and the
functions bound per render (Now, NodeIP, PodIPsWith, ...). tests/engine/test_tplcompile.py
compares both paths over every template of our stage sets and upstream's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from gotpl.parse.nodes import (
    ActionNode,
    BoolNode,
    CommandNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    IfNode,
    ListNode,
    NumberNode,
    ParenthesizedNode,
    PipeNode,
    RangeNode,
    StringNode,
    TextNode,
    VariableNode,
    WithNode,
)
from gotpl.parse.parser import parse_template
from gotpl.runtime.values import INVALID, UNTYPED_NIL, number_value

from kwok.engine import blockyaml
from kwok.engine.blockyaml import Embed, Line, Unhandled
from kwok.engine.gotemplate import FunctionMap, TemplateFunc
from kwok.engine.govalues import JSONNumber, go_eq, go_ne, json_numbers

MISSING = INVALID  # gotpl's "no value": a missing key of the object


class _NoEntry:
    """`index` of a key a map lacks: falsy, but gotpl passes it on differently from a missing
    field (it drops a piped one), so any other use takes the text path."""

    __slots__ = ()


NO_ENTRY = _NoEntry()


class Unsupported(Exception):
    """A construct the compiler does not handle: the template keeps the text path."""


class Fallback(Exception):
    """This object needs the text path (an error, or output only gotpl and PyYAML reproduce)."""


class _Out:
    """One render: variables, the line being written, and the lines written."""

    __slots__ = ("vars", "funcs", "cur", "lines", "after_embed", "typed")

    def __init__(self, slots: int, funcs: Mapping[str, TemplateFunc]) -> None:
        self.vars: list[Any] = [None] * slots
        self.funcs = funcs
        self.cur: list[str] = []
        self.lines: list[Line | Embed] = []
        self.after_embed = False
        # (line op, value, text) of a `_ValueLine` that started the current line
        self.typed: tuple[_ValueLine, Any, str | None] | None = None

    def newline(self) -> None:
        typed = self.typed
        if typed is not None:
            self.typed = None
            if len(self.cur) == 2:  # nothing but the value was written
                self.cur = []
                self.lines.append(typed[0].line(typed[1], typed[2]))
                return
            if self.cur[1] is _PENDING:
                self.cur[1] = typed[0].pending_text(typed[1])
        if self.cur:
            text = "".join(self.cur)
            self.cur = []
            if self.after_embed:
                self.after_embed = False
                if text.strip(" "):
                    raise Fallback  # text after a YAML block, on its last line
                return
            self.add_text_line(text)
        else:
            self.after_embed = False

    def add_text_line(self, text: str) -> None:
        if blockyaml.UNSAFE_CHARS.search(text):
            raise Fallback
        try:
            line = blockyaml.text_line(text)
        except Unhandled:
            raise Fallback from None
        if line is not None:
            self.lines.append(line)

    def write(self, text: str) -> None:
        if "\n" not in text:
            if text:
                self.cur.append(text)
            return
        first, *rest = text.split("\n")
        if first:
            self.cur.append(first)
        for part in rest:
            self.newline()
            if part:
                self.cur.append(part)


Op = Callable[[_Out, Any], None]
Expr = Callable[[_Out, Any], Any]


class CompiledTemplate:
    """`build(obj, funcs)`: the value the template's YAML reads as; raises Fallback."""

    __slots__ = ("name", "_ops", "_slots")

    def __init__(self, name: str, ops: tuple[Op, ...], slots: int) -> None:
        self.name = name
        self._ops = ops
        self._slots = slots

    def build(self, obj: Any, funcs: Mapping[str, TemplateFunc]) -> Any:
        out = _Out(self._slots, funcs)
        out.vars[0] = obj
        try:
            for op in self._ops:
                op(out, obj)
            out.newline()
        except Fallback:
            raise
        except Exception as err:  # a function failed, an index out of range, ...
            raise Fallback from err
        value = blockyaml.load_lines(out.lines)
        if value is blockyaml.NOT_HANDLED:
            raise Fallback
        return value


def compile_template(source: str, name: str, functions: FunctionMap) -> CompiledTemplate | None:
    """The compiled form of a template (its text as KWOK trims it), or None when unsupported."""
    try:
        tree = parse_template(source, name=name, functions=functions.functions)
        if tree.definitions:
            raise Unsupported("define/template")
        compiler = _Compiler(functions)
        ops = compiler.body(tree.root)
    except Unsupported:
        return None
    return CompiledTemplate(name, ops, compiler.slots)


# --- values ---------------------------------------------------------------------------------


def _json_leaf(value: Any) -> Any:
    """A value of the object as the template sees it: numbers as json.Number."""
    kind = type(value)
    if kind is int or kind is float:
        return JSONNumber(orjson.dumps(value).decode())
    return value


def _field(value: Any, name: str) -> Any:
    if type(value) is dict:
        found = value.get(name, MISSING)
        kind = type(found)
        if kind is int or kind is float:
            return JSONNumber(orjson.dumps(found).decode())
        return found
    if value is MISSING:
        return MISSING
    raise Fallback  # a field of nil, of a string, of a list: an error with its own wording


def _fields(value: Any, names: Sequence[str]) -> Any:
    for name in names:
        value = _field(value, name)
    return value


def _truth(value: Any) -> bool:
    if value is True:
        return True
    if value is False or value is None or value is MISSING or value is UNTYPED_NIL or value is NO_ENTRY:
        return False
    kind = type(value)
    if kind is str or kind is JSONNumber or kind is list or kind is dict:
        return len(value) != 0
    if kind is int or kind is float:
        return bool(value != 0)
    raise Fallback


def _text(value: Any) -> str:
    """What an action prints; anything other than a string, bool or int goes the text path."""
    kind = type(value)
    if kind is str or kind is JSONNumber:
        return str(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return str(value)
    raise Fallback


def _argument(value: Any) -> Any:
    """A value handed to a function as gotpl hands it: missing as None, numbers as json.Number."""
    if value is MISSING or value is UNTYPED_NIL:
        return None
    if value is NO_ENTRY:
        raise Fallback
    if type(value) is dict or type(value) is list:
        return json_numbers(value)
    return value


def _result(value: Any) -> Any:
    """A function's result; a map or list holding numbers would read differently here (its
    numbers are not json.Numbers, unlike the object's), so it takes the text path."""
    if type(value) is dict:
        _no_numbers(value.values())
    elif type(value) is list:
        _no_numbers(value)
    return value


def _no_numbers(items: Any) -> None:
    for item in items:
        kind = type(item)
        if kind is int or kind is float:
            raise Fallback
        if kind is dict:
            _no_numbers(item.values())
        elif kind is list:
            _no_numbers(item)


_QUOTE_CLEAN = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def _plain_sorted(value: Any) -> Any:
    """What YAML's dump-and-read gives back for a JSON value: plain numbers, keys sorted."""
    kind = type(value)
    if kind is dict:
        return {k: _plain_sorted(value[k]) for k in sorted(value)}
    if kind is list:
        return [_plain_sorted(v) for v in value]
    if kind is JSONNumber:
        return orjson.loads(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    raise Unsupported  # caught per render: the text route then prints it


# --- functions ------------------------------------------------------------------------------


def _or(*args: Any) -> Any:
    for arg in args:
        if _truth(arg):
            return arg
    return args[-1]


def _and(*args: Any) -> Any:
    for arg in args:
        if not _truth(arg):
            return arg
    return args[-1]


def _not(arg: Any) -> bool:
    return not _truth(arg)


def _comparable(args: tuple[Any, ...]) -> tuple[Any, ...]:
    for arg in args:
        if type(arg) is dict or type(arg) is list or arg is NO_ENTRY:
            raise Fallback
    return args


def _plain_args(args: tuple[Any, ...]) -> tuple[Any, ...]:
    if any(a is NO_ENTRY for a in args):
        raise Fallback
    return args


def _eq(*args: Any) -> bool:
    return go_eq(*_comparable(args))


def _ne(*args: Any) -> bool:
    return go_ne(*_comparable(args))


def _index(container: Any, *keys: Any) -> Any:
    if len(keys) != 1:
        raise Fallback
    key = keys[0]
    if type(container) is list and type(key) is int and 0 <= key < len(container):
        return _json_leaf(container[key])
    if type(container) is dict and isinstance(key, str):
        return _json_leaf(container.get(key, NO_ENTRY))
    raise Fallback


def _print(*args: Any) -> str:
    if not all(isinstance(a, str) for a in args):
        raise Fallback  # fmt.Sprint spaces non-string operands
    return "".join(args)


def _printf(fmt: Any, *args: Any) -> str:
    """printf with %s verbs and string operands only (fmt's other verbs take the text path)."""
    if not isinstance(fmt, str) or not all(isinstance(a, str) for a in args):
        raise Fallback
    if fmt.count("%") != fmt.count("%s") or fmt.count("%s") != len(args):
        raise Fallback
    return fmt % tuple(str(a) for a in args)


def _list(*args: Any) -> list[Any]:
    items = list(_plain_args(args))
    _result(items)
    return items


def _default(fallback: Any, *given: Any) -> Any:
    """sprig's default: `given` unless it is empty (sprig's empty is Go's falsy)."""
    if not given or not _truth(given[0]):
        return fallback
    return given[0]


def _dict(*args: Any) -> dict[str, Any]:
    if args:
        raise Fallback
    return {}


_BUILTINS: dict[str, Callable[..., Any]] = {
    "or": _or,
    "and": _and,
    "not": _not,
    "eq": _eq,
    "ne": _ne,
    "index": _index,
    "print": _print,
    "printf": _printf,
    "list": _list,
    "dict": _dict,
    "default": _default,
}
# Functions of the map this module implements itself: sprig's, and KWOK's eq/ne.
_MAPPED_BUILTINS = {"list": None, "dict": None, "default": None, "eq": go_eq, "ne": go_ne}
# Static functions called as they are (they turn json.Numbers back into numbers themselves).
_STATIC = ("Quote", "YAML", "NodeConditions")


# --- the compiler ---------------------------------------------------------------------------


class _Compiler:
    def __init__(self, functions: FunctionMap) -> None:
        self.functions = functions
        self.scopes: list[dict[str, int]] = [{"$": 0}]
        self.slots = 1

    # scopes
    def declare(self, name: str) -> int:
        slot = self.slots
        self.slots += 1
        self.scopes[-1][name] = slot
        return slot

    def lookup(self, name: str) -> int:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        raise Unsupported(f"undefined variable {name}")

    # statements
    def body(self, node: ListNode | None) -> tuple[Op, ...]:
        if node is None:
            return ()
        ops: list[Op] = []
        for child in node.nodes:
            if isinstance(child, TextNode):
                ops.extend(_text_ops(child.text))
            elif isinstance(child, ActionNode):
                ops.append(self.action(child))
            elif isinstance(child, IfNode | WithNode):
                ops.append(self.branch(child))
            elif isinstance(child, RangeNode):
                ops.append(self.range(child))
            else:
                raise Unsupported(type(child).__name__)
        return _fuse_value_lines(ops)

    def scoped(self, node: ListNode | None) -> tuple[Op, ...]:
        self.scopes.append({})
        try:
            return self.body(node)
        finally:
            self.scopes.pop()

    def action(self, node: ActionNode) -> Op:
        pipe = node.pipeline
        if pipe.declarations:
            return self.assignment(pipe)
        embed = self.embed(pipe)
        if embed is not None:
            return embed
        value = self.pipeline(pipe)
        return _ValueAction(value, self.quoted_argument(pipe), self.functions.functions.get("Quote"))

    def assignment(self, pipe: PipeNode) -> Op:
        if len(pipe.declarations) != 1 or pipe.declarations[0].fields:
            raise Unsupported("multiple declarations")
        value = self.pipeline(pipe)
        name = pipe.declarations[0].name
        slot = self.lookup(name) if pipe.is_assignment else self.declare(name)

        def assign(out: _Out, dot: Any) -> None:
            out.vars[slot] = value(out, dot)

        return assign

    def embed(self, pipe: PipeNode) -> Op | None:
        """`{{ YAML x n }}` with n >= 1: a block whose value is x itself."""
        if len(pipe.commands) != 1:
            return None
        args = pipe.commands[0].arguments
        if not (len(args) == 3 and isinstance(args[0], IdentifierNode) and args[0].name == "YAML"):
            return None
        if not isinstance(args[2], NumberNode):
            return None
        levels = number_value(args[2].text, is_complex=False)
        if type(levels) is not int or levels < 1:
            return None
        value = self.term(args[1])
        to_yaml = self.functions.functions["YAML"]
        indent = 2 * levels

        def emit(out: _Out, dot: Any) -> None:
            found = value(out, dot)
            if (type(found) is dict or type(found) is list) and found:
                try:
                    block = _plain_sorted(found)
                except Unsupported:
                    pass
                else:
                    out.newline()
                    out.lines.append(Embed(indent, block))
                    out.after_embed = True
                    return
            out.write(str(to_yaml(found, levels)))

        return emit

    def quoted_argument(self, pipe: PipeNode) -> Expr | None:
        """x of `x | Quote` or `Quote x` (Quote always prints a JSON string)."""
        commands = pipe.commands
        last = commands[-1].arguments
        if not (isinstance(last[0], IdentifierNode) and last[0].name == "Quote"):
            return None
        if len(commands) == 1 and len(last) == 2:
            return self.term(last[1])
        if len(commands) == 2 and len(last) == 1:
            return self.command(commands[0], None)
        return None

    def branch(self, node: IfNode | WithNode) -> Op:
        is_with = isinstance(node, WithNode)
        self.scopes.append({})
        try:
            pipe = node.pipeline
            slot = None
            if pipe.declarations:
                if len(pipe.declarations) != 1 or pipe.is_assignment:
                    raise Unsupported("declarations in if/with")
                value = self.pipeline(pipe)
                slot = self.declare(pipe.declarations[0].name)
            else:
                value = self.pipeline(pipe)
            then = self.scoped(node.body)
            otherwise = self.scoped(node.else_body)
        finally:
            self.scopes.pop()

        def run(out: _Out, dot: Any) -> None:
            found = value(out, dot)
            if slot is not None:
                out.vars[slot] = found
            if _truth(found):
                inner = found if is_with else dot
                for op in then:
                    op(out, inner)
            else:
                for op in otherwise:
                    op(out, dot)

        return run

    def range(self, node: RangeNode) -> Op:
        self.scopes.append({})
        try:
            pipe = node.pipeline
            if pipe.is_assignment or len(pipe.declarations) > 2:
                raise Unsupported("range assignment")
            value = self.pipeline(pipe)
            slots = [self.declare(d.name) for d in pipe.declarations]
            body = self.scoped(node.body)
            otherwise = self.scoped(node.else_body)
        finally:
            self.scopes.pop()
        index_slot = slots[0] if len(slots) == 2 else None
        item_slot = slots[-1] if slots else None

        def run(out: _Out, dot: Any) -> None:
            found = value(out, dot)
            if found is MISSING or found is None or found is UNTYPED_NIL:
                items: list[Any] = []
            elif type(found) is list:
                items = found
            else:
                raise Fallback  # maps (sorted keys), integers, strings
            if not items:
                for op in otherwise:
                    op(out, dot)
                return
            for index, item in enumerate(items):
                item = _json_leaf(item)
                if index_slot is not None:
                    out.vars[index_slot] = index
                if item_slot is not None:
                    out.vars[item_slot] = item
                for op in body:
                    op(out, item)

        return run

    # expressions
    def pipeline(self, pipe: PipeNode) -> Expr:
        expr: Expr | None = None
        for command in pipe.commands:
            expr = self.command(command, expr)
        assert expr is not None
        return expr

    def command(self, command: CommandNode, piped: Expr | None) -> Expr:
        args = command.arguments
        head = args[0]
        if isinstance(head, IdentifierNode):
            params = [self.term(a) for a in args[1:]]
            if piped is not None:
                params.append(piped)
            return self.call(head.name, params)
        if len(args) != 1 or piped is not None:
            raise Unsupported("arguments to a non-function")
        return self.term(head)

    def term(self, node: Any) -> Expr:
        if isinstance(node, DotNode):
            return lambda out, dot: dot
        if isinstance(node, FieldNode):
            names = node.fields
            if len(names) == 1:
                (only,) = names
                return lambda out, dot: _field(dot, only)
            return lambda out, dot: _fields(dot, names)
        if isinstance(node, VariableNode):
            slot = self.lookup(node.name)
            names = node.fields
            if not names:
                return lambda out, dot: out.vars[slot]
            return lambda out, dot: _fields(out.vars[slot], names)
        if isinstance(node, StringNode):
            text = node.value
            return lambda out, dot: text
        if isinstance(node, BoolNode):
            flag = node.value
            return lambda out, dot: flag
        if isinstance(node, NumberNode):
            number = number_value(node.text, is_complex=False)
            if type(number) is not int:
                raise Unsupported("non-integer constant")
            return lambda out, dot: number
        if isinstance(node, IdentifierNode):
            return self.call(node.name, [])
        if isinstance(node, ParenthesizedNode):
            inner = self.pipeline(node.pipeline)
            if node.pipeline.declarations:
                raise Unsupported("declaration in parentheses")
            names = node.fields
            if not names:
                return inner
            return lambda out, dot: _fields(inner(out, dot), names)
        raise Unsupported(type(node).__name__)

    def call(self, name: str, params: list[Expr]) -> Expr:
        builtin = _BUILTINS.get(name)
        mapped = self.functions.functions.get(name)
        if builtin is not None and (mapped is None or name in _MAPPED_BUILTINS):
            if _MAPPED_BUILTINS.get(name) not in (None, mapped):
                raise Unsupported(f"function {name} is not KWOK's")
            return _call(builtin, params)
        if name in _STATIC:
            static = self.functions.functions[name]
            return _call(lambda *a: _result(static(*_plain_args(a))), params)
        if name in self.functions.dynamic:
            return _dynamic_call(name, params)
        raise Unsupported(f"function {name}")


def _call(func: Callable[..., Any], params: list[Expr]) -> Expr:
    if not params:
        return lambda out, dot: func()
    if len(params) == 1:
        (first,) = params
        return lambda out, dot: func(first(out, dot))
    return lambda out, dot: func(*[p(out, dot) for p in params])


def _dynamic_call(name: str, params: list[Expr]) -> Expr:
    def call(out: _Out, dot: Any) -> Any:
        impl = out.funcs.get(name)
        if impl is None:
            raise Fallback
        return _result(impl(*[_argument(p(out, dot)) for p in params]))

    return call


# --- text and lines -------------------------------------------------------------------------


class _Text:
    """Text without a line break, added to the current line."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __call__(self, out: _Out, dot: Any) -> None:
        out.cur.append(self.text)


class _Lines:
    """A line break, then whole fixed lines (parsed here, once)."""

    __slots__ = ("lines",)

    def __init__(self, rows: list[str]) -> None:
        lines: list[Line | Embed] = []
        for row in rows:
            try:
                if blockyaml.UNSAFE_CHARS.search(row):
                    raise Unhandled
                line = blockyaml.text_line(row)
            except Unhandled:
                raise Unsupported("a fixed line that needs PyYAML") from None
            if line is not None:
                lines.append(line)
        self.lines = tuple(lines)

    def __call__(self, out: _Out, dot: Any) -> None:
        out.newline()
        out.lines.extend(self.lines)


def _text_ops(text: str) -> list[Op]:
    """`first` joins the current line; each row after a break is a whole line, except the last,
    which starts the next line."""
    first, *rows = text.split("\n")
    ops: list[Op] = []
    if first:
        ops.append(_Text(first))
    if rows:
        ops.append(_Lines(rows[:-1]))
        if rows[-1]:
            ops.append(_Text(rows[-1]))
    return ops


class _ValueAction:
    """An action alone after a line's fixed start: `_fuse_value_lines` may make it a `_ValueLine`.
    `argument` is x of `x | Quote`; None for a plain `{{ x }}`."""

    __slots__ = ("value", "argument", "quote")

    def __init__(self, value: Expr, argument: Expr | None, quote: TemplateFunc | None) -> None:
        self.value = value
        self.argument = argument
        self.quote = quote

    def __call__(self, out: _Out, dot: Any) -> None:
        out.write(_text(self.value(out, dot)))


_PENDING = "\0pending"  # in out.cur: the text of a `_ValueLine`, made only if needed


class _ValueLine:
    """`key: {{ x | Quote }}` or `key: {{ x }}` (or `- key: ...`) starting a line.

    The key, indentation and nesting come from the fixed text, parsed once. If nothing else is
    written on the line, the value is known without text: a quoted string is the string (a JSON
    string reads back as itself in YAML unless it holds a character YAML treats specially), a
    plain one is read as the scalar it is. Otherwise the line is read from its text."""

    __slots__ = ("prefix", "template", "action", "quoted", "_key", "_inner")

    def __init__(self, prefix: str, template: Line, action: _ValueAction) -> None:
        self.prefix = prefix
        self.template = template
        self.action = action
        self.quoted = action.argument is not None
        target = template.inner() if template.item else template
        found = target.key()
        assert found is not None
        self._key = (found[0], "")
        self._inner = target

    def __call__(self, out: _Out, dot: Any) -> None:
        if out.cur or out.after_embed:
            out.cur.append(self.prefix)
            self.action(out, dot)
            return
        if self.quoted:
            assert self.action.argument is not None
            found = self.action.argument(out, dot)
            if type(found) is str and not _QUOTE_CLEAN.search(found):
                out.cur = [self.prefix, _PENDING]
                out.typed = (self, found, found)
                return
            if found is NO_ENTRY:
                raise Fallback
            text = self.pending_text(found)  # Quote's text: a JSON string
            if text[:1] == '"' and not _QUOTE_CLEAN.search(text):
                out.cur = [self.prefix, text]
                out.typed = (self, orjson.loads(text), None)
                return
        else:
            text = _text(self.action.value(out, dot))
            if text and "\n" not in text and text[0] not in " #" and text[-1] != " ":
                out.cur = [self.prefix, text]
                out.typed = (self, _PLAIN, text)
                return
        out.cur.append(self.prefix)
        out.write(text)

    def line(self, value: Any, text: str | None) -> Line:
        if value is _PLAIN:
            assert text is not None
            if blockyaml.UNSAFE_CHARS.search(text):
                raise Fallback
            try:
                value = blockyaml.plain_scalar(text)
            except Unhandled:
                raise Fallback from None
        template, inner = self.template, self._inner
        line = Line.known(inner.indent, inner.content, self._key, value)
        if not template.item:
            return line
        return Line.known_item(template.indent, template.content, line)

    def pending_text(self, value: str) -> str:
        """What Quote prints for `value` (a line that got more than the value needs the text)."""
        assert self.action.quote is not None
        return _text(self.action.quote(value))


_PLAIN: Any = object()


def _value_template(prefix: str, sample: str) -> Line | None:
    """The parsed line `prefix` + `sample`, when `sample` is the whole value of a key."""
    try:
        line = blockyaml.text_line(prefix + sample)
        if line is None:
            return None
        target = line.inner() if line.item else line
        if target.item:
            return None
        found = target.key()
        if found is None or found[1] != sample:
            return None
    except Unhandled:
        return None
    return line


def _fuse_value_lines(ops: list[Op]) -> tuple[Op, ...]:
    """_Lines, _Text(prefix), _ValueAction: a line whose value needs no text."""
    fused: list[Op] = []
    i = 0
    while i < len(ops):
        op = ops[i]
        if (
            isinstance(op, _Text)
            and i > 0
            and isinstance(ops[i - 1], _Lines)
            and i + 1 < len(ops)
            and isinstance(ops[i + 1], _ValueAction)
            and not blockyaml.UNSAFE_CHARS.search(op.text)
        ):
            action = ops[i + 1]
            assert isinstance(action, _ValueAction)
            template = _value_template(op.text, '"x"' if action.argument is not None else "x")
            if template is not None:
                fused.append(_ValueLine(op.text, template, action))
                i += 2
                continue
        fused.append(op)
        i += 1
    return tuple(fused)
