"""CEL as admission evaluates it: matchConditions, ValidatingAdmissionPolicy validations and variables.

Expressions are compiled once per configuration revision (the configuration cache rebuilds them only
when a configuration changes) and evaluated against JSON-shaped variables (`object`, `oldObject`,
`request`, `params`, `namespaceObject`, `variables`). Besides CEL's standard functions, the parts of
the Kubernetes CEL library that policies use most are provided (see cel_library).

Errors read like cel-go's (`no such key: foo`), because users see them in denial messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kwok.engine.celexpr import environment, to_python


class CompileError(ValueError):
    """An expression that does not parse (a configuration error, subject to failurePolicy)."""


class EvalError(ValueError):
    """An expression that failed on this request (subject to failurePolicy)."""


class Expression:
    """One compiled admission expression."""

    __slots__ = ("source", "_program")

    def __init__(self, source: str) -> None:
        from celpy.celparser import CELParseError

        from kwok.apiserver.admission.cel_library import library  # imports celpy: only with a CEL expression

        self.source = source
        try:
            ast = environment().compile(source)
        except CELParseError as err:
            raise CompileError(f"compilation failed: ERROR: <input>:{_where(err)}: Syntax error") from None
        self._program = environment().program(ast, functions=library())

    def evaluate(self, activation: Mapping[str, Any]) -> Any:
        """The result as a JSON-shaped Python value; `activation` holds CEL values (see `bind`)."""
        from celpy.evaluation import CELEvalError

        try:
            result = self._program.evaluate(dict(activation))
        except CELEvalError as err:
            raise EvalError(_go_message(err)) from None
        except (KeyError, TypeError, ValueError, ArithmeticError, IndexError) as err:
            raise EvalError(f"{type(err).__name__}: {err}") from None
        if isinstance(result, CELEvalError):
            raise EvalError(_go_message(result))
        return to_python(result)

    def truth(self, activation: Mapping[str, Any]) -> bool:
        result = self.evaluate(activation)
        if not isinstance(result, bool):
            raise EvalError(f"expected bool result, got {type(result).__name__}")
        return result


def bind(variables: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-shaped variables as CEL values (a missing object is CEL null)."""
    from celpy.adapter import json_to_cel

    return {name: json_to_cel(value) for name, value in variables.items()}


def bind_value(value: Any) -> Any:
    from celpy.adapter import json_to_cel

    return json_to_cel(value)


def bind_authorizer(request: Mapping[str, Any]) -> Any:
    """CEL's `authorizer` for a request (an AdmissionReview request body)."""
    from kwok.apiserver.admission.cel_library import authorizer

    resource = request.get("resource") or {}
    parts = {"group": resource.get("group", ""), "resource": resource.get("resource", ""),
             "subresource": request.get("subResource", ""), "namespace": request.get("namespace", ""),
             "name": request.get("name", "")}
    return authorizer(parts)


def cel_map(values: Mapping[str, Any]) -> Any:
    """A CEL map of already-bound values by name (the `variables` of a policy)."""
    from celpy import celtypes

    return celtypes.MapType({celtypes.StringType(k): v for k, v in values.items()})


def _where(err: Exception) -> str:
    line, column = getattr(err, "line", None), getattr(err, "column", None)
    return f"{line}:{column}" if line else "1:1"


_NO_MEMBER = re.compile(r"no such member in mapping: '(.*)'")


def _go_message(err: Exception) -> str:
    text = str(err.args[0]) if err.args else str(err)
    found = _NO_MEMBER.search(text)
    if found:
        return f"no such key: {found.group(1)}"
    if "does not support field selection" in text:
        return "no such key"    # cel-go: selecting a field of null
    return text
