"""A Stage's steps and the plan of actions they produce (pkg/kwok/controllers next.go, finalizers.go).

Executing a stage yields a list of actions, JSON-shaped dicts the controller carries out in order:

    {"kind": "event", "type", "reason", "message"}
    {"kind": "patch", "type": <patch MIME type>, "data", "subresource"?, "impersonation"?}
    {"kind": "apply", "type": <patch MIME type>, "data", "subresource"?, "impersonation"?}
    {"kind": "delete"}
    {"kind": "immediate"}                      # last, when immediateNextStage is set

Inside a step: event, finalizers, delete, patch, apply. An event is always emitted; once a
delete is planned, every later non-event action is dropped. Legacy `next` becomes steps (only when
`steps` is empty): [event] [finalizers] one step per patches[i] (or statusTemplate as a status
patch) [delete] - so a legacy stage with statusTemplate and delete patches, then deletes.

A patch's template is compiled twice when the stage loads: for gotpl (the reference, and the
errors) and to Python (tplcompile), which builds the patch object without rendering text; an
object the Python form cannot answer exactly is rendered by gotpl and read back as YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kwok.engine import yamlcodec
from kwok.engine.gotemplate import FunctionMap, GoTemplate, TemplateError, TemplateFunc, json_numbers
from kwok.engine.tplcompile import CompiledTemplate, Fallback

Action = dict[str, Any]

PATCH_TYPES = {
    "json": "application/json-patch+json",
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}


class StepError(ValueError):
    """A template that failed on one object (reported for that object and stage only)."""


@dataclass(frozen=True)
class Finalizers:
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    empty: bool = False

    def json_patch(self, current: list[str]) -> list[dict[str, Any]]:
        """The JSON patch that edits metadata.finalizers, or [] when nothing changes."""
        ops: list[dict[str, Any]] = []
        remaining = list(current)
        removing = [i for i, f in enumerate(current) if f in self.remove]
        if self.empty or (removing and len(removing) == len(current)):
            if current:
                ops.append({"op": "remove", "path": "/metadata/finalizers"})
            remaining = []
        else:
            for i in reversed(removing):
                ops.append({"op": "remove", "path": f"/metadata/finalizers/{i}"})
                del remaining[i]
        missing = [f for f in dict.fromkeys(self.add) if f not in remaining]
        if missing and not remaining:
            ops.append({"op": "add", "path": "/metadata/finalizers", "value": missing})
        else:
            ops.extend({"op": "add", "path": "/metadata/finalizers/-", "value": f} for f in missing)
        return ops


@dataclass(frozen=True)
class Patch:
    """steps[].patch or steps[].apply."""

    template: GoTemplate
    type: str | None  # json | merge | strategic | apply; None = the resource's default
    subresource: str
    root: str
    impersonation: Mapping[str, Any] | None
    is_apply: bool = False
    # The template as Python (tplcompile), or None: it always renders as text.
    compiled: CompiledTemplate | None = field(default=None, compare=False, repr=False)

    def action(self, obj: Any, funcs: Mapping[str, TemplateFunc], typed: bool) -> Action:
        data = render_yaml(self.template, obj, funcs, self.compiled)
        if self.is_apply and not (isinstance(data, dict) and data.get("apiVersion") and data.get("kind")):
            raise StepError(
                f"{self.template.name}: an apply template must render an object with apiVersion and kind"
            )
        kind = self.type or ("apply" if self.is_apply else ("strategic" if typed else "merge"))
        if self.root:
            data = _wrap_root(data, self.root, kind)
        action: Action = {
            "kind": "apply" if self.is_apply else "patch",
            "type": PATCH_TYPES[kind],
            "data": data,
        }
        if self.subresource:
            action["subresource"] = self.subresource
        if self.impersonation:
            action["impersonation"] = dict(self.impersonation)
        return action


def _wrap_root(data: Any, root: str, kind: str) -> Any:
    if kind == "json" and isinstance(data, list):
        return [dict(op, path=f"/{root}{op.get('path', '')}") if isinstance(op, dict) else op for op in data]
    return {root: data}


def render_yaml(
    template: GoTemplate,
    obj: Any,
    funcs: Mapping[str, TemplateFunc],
    compiled: CompiledTemplate | None = None,
) -> Any:
    """Render, then read the text as YAML: templates produce YAML, a blank result is null.
    `compiled` builds the same value directly; for what it does not reproduce it falls back."""
    if compiled is not None:
        try:
            return compiled.build(obj, funcs)
        except Fallback:
            pass
    try:
        # The dot is the object as KWOK decodes it: numbers are json.Number.
        text = template.render(json_numbers(obj), funcs)
    except TemplateError as err:
        raise StepError(str(err)) from None
    try:
        return yamlcodec.load_rendered(text)
    except Exception as err:  # yaml.YAMLError, but the C loader may raise others
        raise StepError(f"{template.name}: rendered text is not valid YAML: {err}") from None


@dataclass(frozen=True)
class Event:
    type: str
    reason: str
    message: str


@dataclass(frozen=True)
class Step:
    event: Event | None = None
    finalizers: Finalizers | None = None
    delete: bool = False
    patch: Patch | None = None
    apply: Patch | None = None


def plan_steps(
    steps: tuple[Step, ...], obj: Any, funcs: Mapping[str, TemplateFunc], typed: bool, immediate: bool
) -> list[Action]:
    """The actions of `steps` on `obj`, in order."""
    actions: list[Action] = []
    deleted = False
    for step in steps:
        if step.event is not None:
            e = step.event
            actions.append({"kind": "event", "type": e.type, "reason": e.reason, "message": e.message})
        if deleted:
            continue
        if step.finalizers is not None:
            ops = step.finalizers.json_patch(_current_finalizers(obj))
            if ops:
                actions.append({"kind": "patch", "type": PATCH_TYPES["json"], "data": ops})
        if step.delete:
            actions.append({"kind": "delete"})
            deleted = True
            continue
        for patch in (step.patch, step.apply):
            if patch is not None:
                actions.append(patch.action(obj, funcs, typed))
    if immediate:
        actions.append({"kind": "immediate"})
    return actions


def _current_finalizers(obj: Any) -> list[str]:
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    found = meta.get("finalizers") if isinstance(meta, Mapping) else None
    return [str(f) for f in found] if isinstance(found, list) else []


def compile_template(text: str, name: str, functions: FunctionMap) -> GoTemplate:
    # KWOK trims the template text before parsing it.
    return GoTemplate(text.strip(), name, functions)


def compile_to_python(template: GoTemplate, functions: FunctionMap) -> CompiledTemplate | None:
    """The template as Python, or None; never fails (the text path is always there)."""
    from kwok.engine.tplcompile import compile_template as compile_python

    try:
        return compile_python(template.source, template.name, functions)
    except Exception:  # a construct the compiler trips on: the template keeps the text path
        return None
