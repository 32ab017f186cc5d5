"""ValidatingAdmissionPolicies and their bindings compiled for dispatch.

Compiled once per change of either resource (see configcache): CEL of validations, variables and
matchConditions compiled, match constraints parsed, defaults filled as the v1 API defaults them
(failurePolicy Fail, matchPolicy Equivalent, parameterNotFoundAction Deny). A part that does not
compile marks the policy `broken` (with cel-go's wording where users see it); its failurePolicy
then decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kwok.api.selectors import SelectorError
from kwok.apiserver.admission.cel import CompileError, Expression
from kwok.apiserver.admission.matching import Rule, Selectors

Obj = dict[str, Any]


@dataclass
class Constraints:
    """A MatchResources: resource rules, exclusions, selectors and matchPolicy."""

    rules: list[Rule]
    excluded: list[Rule]
    selectors: Selectors
    match_policy: str
    all_resources: bool = False       # a binding's matchResources without resourceRules

    @classmethod
    def parse(cls, spec: Obj, *, all_when_empty: bool = False) -> Constraints:
        rules = [Rule.parse(r) for r in spec.get("resourceRules") or ()]
        return cls(rules, [Rule.parse(r) for r in spec.get("excludeResourceRules") or ()], Selectors(spec),
                   spec.get("matchPolicy") or "Equivalent", all_when_empty and not rules)


@dataclass
class Validation:
    source: str
    expression: Expression | None
    message: str = ""
    message_expression: Expression | None = None
    reason: str = "Invalid"
    error: str = ""                   # compilation error


@dataclass
class Policy:
    name: str
    constraints: Constraints | None
    param_kind: tuple[str, str] | None          # (apiVersion, kind)
    fail_open: bool
    validations: list[Validation] = field(default_factory=list)
    variables: list[tuple[str, Expression]] = field(default_factory=list)
    conditions: list[tuple[str, Expression]] = field(default_factory=list)
    broken: str = ""


@dataclass
class Binding:
    name: str
    policy: str
    param_ref: Obj | None
    constraints: Constraints | None
    actions: tuple[str, ...]
    broken: str = ""


def compile_policies(objects: list[Obj]) -> dict[str, Policy]:
    return {p.name: p for p in map(compile_policy, objects)}


def compile_bindings(objects: list[Obj]) -> list[Binding]:
    return [compile_binding(b) for b in objects]


def compile_policy(obj: Obj) -> Policy:
    spec = obj.get("spec") or {}
    param_kind = spec.get("paramKind")
    policy = Policy(
        name=(obj.get("metadata") or {}).get("name", ""), constraints=None,
        param_kind=(param_kind.get("apiVersion", ""), param_kind.get("kind", "")) if param_kind else None,
        fail_open=spec.get("failurePolicy") == "Ignore")
    try:
        policy.constraints = Constraints.parse(spec.get("matchConstraints") or {})
    except SelectorError as err:
        policy.broken = f"invalid matchConstraints: {err}"
    policy.validations = [_validation(v) for v in spec.get("validations") or ()]
    policy.variables, error = _named(spec.get("variables") or (), "variable")
    policy.broken = policy.broken or error
    policy.conditions, error = _named(spec.get("matchConditions") or (), "matchCondition")
    policy.broken = policy.broken or error
    return policy


def _validation(spec: Obj) -> Validation:
    source = spec.get("expression", "")
    validation = Validation(source, None, spec.get("message", ""), reason=spec.get("reason") or "Invalid")
    try:
        validation.expression = Expression(source)
        if spec.get("messageExpression"):
            validation.message_expression = Expression(spec["messageExpression"])
    except CompileError as err:
        validation.error = f"compilation error: {err}"
    return validation


def _named(specs: Any, what: str) -> tuple[list[tuple[str, Expression]], str]:
    compiled = []
    for spec in specs:
        try:
            compiled.append((spec.get("name", ""), Expression(spec.get("expression", ""))))
        except CompileError as err:
            return compiled, f"compilation error in {what} {spec.get('name', '')!r}: {err}"
    return compiled, ""


def compile_binding(obj: Obj) -> Binding:
    spec = obj.get("spec") or {}
    binding = Binding((obj.get("metadata") or {}).get("name", ""), spec.get("policyName", ""),
                      spec.get("paramRef"), None, tuple(spec.get("validationActions") or ()))
    if spec.get("matchResources") is not None:
        try:
            binding.constraints = Constraints.parse(spec["matchResources"], all_when_empty=True)
        except SelectorError as err:
            binding.broken = f"invalid matchResources: {err}"
    return binding
