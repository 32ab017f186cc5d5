"""Turn a Stage document into a compiled `Stage`, checking every field on the way.

Errors read `stage "NAME": spec.FIELD: problem`, so a bad Stage is rejected when loaded, never
when an object first reaches it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar

from kwok.api.schema import get_schema
from kwok.engine.celexpr import CELError
from kwok.engine.crdschema import kinds
from kwok.engine.expressions import OPERATORS, CachedCEL, CELRequirement, JQRequirement, ValueFrom
from kwok.engine.gotemplate import FunctionMap, TemplateError
from kwok.engine.jqexpr import JQ, JQError
from kwok.engine.stage import DurationSpec, Selector, Stage, StageError
from kwok.engine.steps import PATCH_TYPES, Event, Finalizers, Patch, Step, compile_template, compile_to_python
from kwok.engine.templatefuncs import function_map_for

T = TypeVar("T")


class _Ctx:
    """The stage being compiled, for error messages."""

    def __init__(self, name: str, functions: FunctionMap, typed_kind: str | None = None) -> None:
        self.name = name
        self.functions = functions
        # KWOK's node and pod controllers evaluate CEL over typed objects, others over maps.
        self.typed_kind = typed_kind

    def fail(self, path: str, problem: str) -> NoReturn:
        raise StageError(f'stage "{self.name}": {path}: {problem}')

    def guard(self, path: str, build: Callable[[], T]) -> T:
        try:
            return build()
        except (JQError, CELError, TemplateError) as err:
            self.fail(path, str(err))

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(path, f"must be an object, got {type(value).__name__}")
        return value

    def string(self, value: Any, path: str, default: str = "") -> str:
        if value is None:
            return default
        if not isinstance(value, str):
            self.fail(path, f"must be a string, got {value!r}")
        return value

    def integer(self, value: Any, path: str, minimum: int | None = 0) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"must be an integer, got {value!r}")
        if minimum is not None and value < minimum:
            self.fail(path, f"must be >= {minimum}, got {value}")
        return value

    def items(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(path, f"must be a list, got {type(value).__name__}")
        return value


def compile_stage(doc: Mapping[str, Any]) -> Stage:
    if not isinstance(doc, Mapping):
        raise StageError(f"a Stage must be an object, got {type(doc).__name__}")
    meta = doc.get("metadata") or {}
    name = meta.get("name") if isinstance(meta, Mapping) else None
    if not name or not isinstance(name, str):
        raise StageError("Stage: metadata.name: Required value")
    pre = _Ctx(name, function_map_for("v1", ""))
    spec = pre.mapping(doc.get("spec"), "spec")
    ref = pre.mapping(spec.get("resourceRef"), "spec.resourceRef")
    api_group = pre.string(ref.get("apiGroup"), "spec.resourceRef.apiGroup", "v1") or "v1"
    kind = pre.string(ref.get("kind"), "spec.resourceRef.kind")
    if not kind:
        pre.fail("spec.resourceRef.kind", "Required value")
    _check_resource(pre, api_group, kind)
    typed = kind if api_group == "v1" and kind in ("Node", "Pod") else None
    ctx = _Ctx(name, function_map_for(api_group, kind), typed)
    delay = ctx.mapping(spec.get("delay"), "spec.delay") if spec.get("delay") is not None else None
    return Stage(
        name=name,
        api_group=api_group,
        kind=kind,
        selector=_selector(ctx, spec),
        weight_static=ctx.integer(spec.get("weight"), "spec.weight") or 0,
        weight_from=_value_from(ctx, spec.get("weightFrom"), "spec.weightFrom"),
        duration=_duration(ctx, delay, "duration") if delay is not None else None,
        jitter=_jitter(ctx, delay) if delay is not None else None,
        steps=_steps(ctx, spec),
        immediate_next_stage=bool(spec.get("immediateNextStage")),
        doc=doc,
    )


@functools.cache
def _builtin_kinds() -> dict[str, frozenset[str]]:
    """Kinds by group/version of the built-in API and of kwok.x-k8s.io."""
    table: dict[str, set[str]] = {}
    for r in get_schema().resources:
        table.setdefault(r.group_version, set()).add(r.kind)
    for info in kinds().values():
        table.setdefault(info.api_version, set()).add(info.kind)
    return {gv: frozenset(k) for gv, k in table.items()}


def _check_resource(ctx: _Ctx, api_group: str, kind: str) -> None:
    # Kinds of other groups (CRDs) are resolved by the controller against the cluster.
    known = _builtin_kinds().get(api_group)
    if known is not None and kind not in known:
        ctx.fail("spec.resourceRef.kind", f'Unsupported value: "{kind}": {api_group} has no such kind')


def _selector(ctx: _Ctx, spec: Mapping[str, Any]) -> Selector | None:
    if "selector" not in spec or spec["selector"] is None:
        return None
    sel = ctx.mapping(spec["selector"], "spec.selector")
    jq: list[JQRequirement] = []
    cel: list[CELRequirement] = []
    for i, item in enumerate(ctx.items(sel.get("matchExpressions"), "spec.selector.matchExpressions")):
        path = f"spec.selector.matchExpressions[{i}]"
        item = ctx.mapping(item, path)
        if item.get("cel") is not None:
            cel.append(_cel_requirement(ctx, item["cel"], f"{path}.cel"))
        else:
            jq.append(_jq_requirement(ctx, item.get("jq") if item.get("jq") is not None else item, path))
    return Selector(
        labels=_string_map(ctx, sel.get("matchLabels"), "spec.selector.matchLabels"),
        annotations=_string_map(ctx, sel.get("matchAnnotations"), "spec.selector.matchAnnotations"),
        jq=tuple(jq),
        cel=tuple(cel),
    )


def _cel_requirement(ctx: _Ctx, value: Any, path: str) -> CELRequirement:
    expr = ctx.string(ctx.mapping(value, path).get("expression"), f"{path}.expression")
    return CELRequirement(ctx.guard(f"{path}.expression", lambda: CachedCEL(expr, ctx.typed_kind)))


def _string_map(ctx: _Ctx, value: Any, path: str) -> dict[str, str]:
    found = ctx.mapping(value, path)
    return {str(k): ctx.string(v, f"{path}.{k}") for k, v in found.items()}


def _jq_requirement(ctx: _Ctx, item: Any, path: str) -> JQRequirement:
    item = ctx.mapping(item, path)
    key = ctx.string(item.get("key"), f"{path}.key")
    if not key:
        ctx.fail(f"{path}.key", "Required value")
    operator = ctx.string(item.get("operator"), f"{path}.operator")
    if operator not in OPERATORS:
        ctx.fail(
            f"{path}.operator", f'Unsupported value: "{operator}": supported values: {", ".join(OPERATORS)}'
        )
    values = tuple(
        ctx.string(v, f"{path}.values[{i}]")
        for i, v in enumerate(ctx.items(item.get("values"), f"{path}.values"))
    )
    if operator in ("In", "NotIn") and not values:
        ctx.fail(f"{path}.values", f"must be specified when `operator` is '{operator}'")
    if operator in ("Exists", "DoesNotExist") and values:
        ctx.fail(f"{path}.values", f"may not be specified when `operator` is '{operator}'")
    query = ctx.guard(f"{path}.key", lambda: JQ(key))
    return JQRequirement(query, operator, values, typed=ctx.typed_kind is not None)


def _value_from(ctx: _Ctx, value: Any, path: str) -> ValueFrom | None:
    if value is None:
        return None
    value = ctx.mapping(value, path)
    if value.get("cel") is not None:
        expr = ctx.string(
            ctx.mapping(value["cel"], f"{path}.cel").get("expression"), f"{path}.cel.expression"
        )
        return ValueFrom(cel=ctx.guard(f"{path}.cel.expression", lambda: CachedCEL(expr, ctx.typed_kind)))
    if value.get("jq") is not None:
        expr = ctx.string(ctx.mapping(value["jq"], f"{path}.jq").get("expression"), f"{path}.jq.expression")
        return ValueFrom(jq=ctx.guard(f"{path}.jq.expression", lambda: JQ(expr)))
    legacy = ctx.string(value.get("expressionFrom"), f"{path}.expressionFrom")
    if not legacy:
        return None
    return ValueFrom(jq=ctx.guard(f"{path}.expressionFrom", lambda: JQ(legacy)))


def _duration(ctx: _Ctx, delay: Mapping[str, Any], which: str) -> DurationSpec:
    ms = ctx.integer(delay.get(f"{which}Milliseconds"), f"spec.delay.{which}Milliseconds")
    source = _value_from(ctx, delay.get(f"{which}From"), f"spec.delay.{which}From")
    # KWOK always has a base duration once `delay` is set (durationMilliseconds defaults to 0).
    return DurationSpec(0 if ms is None and which == "duration" else ms, source)


def _jitter(ctx: _Ctx, delay: Mapping[str, Any]) -> DurationSpec | None:
    if delay.get("jitterDurationMilliseconds") is None and delay.get("jitterDurationFrom") is None:
        return None
    spec = _duration(ctx, delay, "jitterDuration")
    if spec.source is not None and spec.source.cel is not None:
        # Quirk kept from KWOK: a CEL jitterDurationFrom is never consulted.
        return DurationSpec(spec.milliseconds, None)
    return spec


# --- steps ----------------------------------------------------------------------------------


def _steps(ctx: _Ctx, spec: Mapping[str, Any]) -> tuple[Step, ...]:
    raw = ctx.items(spec.get("steps"), "spec.steps")
    if raw:
        return tuple(
            _step(ctx, ctx.mapping(s, f"spec.steps[{i}]"), f"spec.steps[{i}]") for i, s in enumerate(raw)
        )
    if spec.get("next") is not None:
        return _legacy_next(ctx, ctx.mapping(spec["next"], "spec.next"))
    return ()


def _step(ctx: _Ctx, step: Mapping[str, Any], path: str) -> Step:
    unknown = set(step) - {"event", "finalizers", "delete", "patch", "apply"}
    if unknown:
        ctx.fail(path, f"unknown field(s) {', '.join(sorted(unknown))}")
    return Step(
        event=_event(ctx, step.get("event"), f"{path}.event"),
        finalizers=_finalizers(ctx, step.get("finalizers"), f"{path}.finalizers"),
        delete=bool(step.get("delete")),
        patch=_patch(ctx, step.get("patch"), f"{path}.patch", is_apply=False),
        apply=_patch(ctx, step.get("apply"), f"{path}.apply", is_apply=True),
    )


def _legacy_next(ctx: _Ctx, nxt: Mapping[str, Any]) -> tuple[Step, ...]:
    steps: list[Step] = []
    event = _event(ctx, nxt.get("event"), "spec.next.event")
    if event is not None:
        steps.append(Step(event=event))
    finalizers = _finalizers(ctx, nxt.get("finalizers"), "spec.next.finalizers")
    if finalizers is not None:
        steps.append(Step(finalizers=finalizers))
    patches = ctx.items(nxt.get("patches"), "spec.next.patches")
    for i, patch in enumerate(patches):
        steps.append(Step(patch=_patch(ctx, patch, f"spec.next.patches[{i}]", is_apply=False)))
    template = nxt.get("statusTemplate")
    if not patches and template:
        status = {
            "template": template,
            "root": "status",
            "subresource": nxt.get("statusSubresource") or "status",
            "impersonation": nxt.get("statusPatchAs"),
        }
        steps.append(
            Step(
                patch=_patch(
                    ctx, status, "spec.next", is_apply=False, template_path="spec.next.statusTemplate"
                )
            )
        )
    if nxt.get("delete"):
        steps.append(Step(delete=True))
    return tuple(steps)


def _event(ctx: _Ctx, value: Any, path: str) -> Event | None:
    if value is None:
        return None
    e = ctx.mapping(value, path)
    return Event(
        type=ctx.string(e.get("type"), f"{path}.type"),
        reason=ctx.string(e.get("reason"), f"{path}.reason"),
        message=ctx.string(e.get("message"), f"{path}.message"),
    )


def _finalizers(ctx: _Ctx, value: Any, path: str) -> Finalizers | None:
    if value is None:
        return None
    f = ctx.mapping(value, path)

    def names(key: str) -> tuple[str, ...]:
        items = ctx.items(f.get(key), f"{path}.{key}")
        return tuple(
            ctx.string(ctx.mapping(x, f"{path}.{key}[{i}]").get("value"), f"{path}.{key}[{i}].value")
            for i, x in enumerate(items)
        )

    return Finalizers(add=names("add"), remove=names("remove"), empty=bool(f.get("empty")))


_PATCH_KINDS = ("json", "merge", "strategic")
_APPLY_KINDS = ("apply", "merge", "strategic")


def _patch(ctx: _Ctx, value: Any, path: str, is_apply: bool, template_path: str = "") -> Patch | None:
    if value is None:
        return None
    p = ctx.mapping(value, path)
    kind = ctx.string(p.get("type"), f"{path}.type") or None
    allowed = _APPLY_KINDS if is_apply else _PATCH_KINDS
    if kind is not None and kind not in allowed:
        ctx.fail(f"{path}.type", f'Unsupported value: "{kind}": supported values: {", ".join(allowed)}')
    assert kind is None or kind in PATCH_TYPES
    template_path = template_path or f"{path}.template"
    text = ctx.string(p.get("template"), template_path)
    template = ctx.guard(template_path, lambda: compile_template(text, ctx.name, ctx.functions))
    impersonation = ctx.mapping(p.get("impersonation"), f"{path}.impersonation") or None
    return Patch(
        template=template,
        type=kind,
        subresource=ctx.string(p.get("subresource"), f"{path}.subresource"),
        root="" if is_apply else ctx.string(p.get("root"), f"{path}.root"),
        impersonation=impersonation,
        is_apply=is_apply,
        compiled=compile_to_python(template, ctx.functions),
    )
