"""`kwok stage test`: every stage that could fire for an object, with its delay, weight and actions.

The result is the document upstream's stage conformance cases record:

    {apiGroup, kind, name, namespace?, stages: [{stage, delay?, weight, next: [actions]}]}

with the object handled as unstructured (so patches default to merge patch), delays in integer
nanoseconds at the given "now", and every possible stage listed rather than one random pick.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from kwok.engine.celexpr import CELContext, CELError
from kwok.engine.gotemplate import TemplateFunc
from kwok.engine.ipam import PodNetwork
from kwok.engine.lifecycle import Lifecycle, StageSet
from kwok.engine.steps import StepError
from kwok.engine.templatefuncs import environment_funcs, stub_funcs

UPSTREAM_TEST_NOW = dt.datetime(2006, 1, 2, 15, 4, 5, tzinfo=dt.UTC)


def stage_test_funcs(
    now: dt.datetime, version: str, stub: bool, cidr: str = "10.0.0.0/24", node_ip: str = "127.0.0.1"
) -> dict[str, TemplateFunc]:
    """Template functions for a stage test: upstream's stubs, or working ones with KWOK's
    defaults (pods get addresses from `cidr`, nodes report `node_ip`, no node name or port)."""
    funcs = environment_funcs(now, now, version)
    if stub:
        funcs.update(stub_funcs())
        return funcs
    funcs.update(PodNetwork(cidr, node_ip, lambda name: None).template_funcs())
    funcs.update({"NodeName": lambda: "", "NodePort": lambda: 0})
    return funcs


def run_stage_test(
    stages: StageSet, obj: Mapping[str, Any], now: dt.datetime, funcs: Mapping[str, TemplateFunc]
) -> dict[str, Any]:
    """The test document for `obj`; a template failing on it is reported in that stage's entry."""
    api_group = str(obj.get("apiVersion") or "")
    kind = str(obj.get("kind") or "")
    meta = obj.get("metadata") or {}
    result: dict[str, Any] = {"apiGroup": api_group, "kind": kind, "name": meta.get("name", "")}
    if meta.get("namespace"):
        result["namespace"] = meta["namespace"]
    lifecycle = stages.for_resource(api_group, kind)
    ctx = CELContext(now=now, unstructured=True)  # as upstream's stage tests load objects
    try:
        candidates = Lifecycle.possible(lifecycle.match(obj, ctx))
    except CELError as err:
        result["error"] = str(err)
        result["stages"] = []
        return result
    result["stages"] = [_entry(c.stage, c.weight, obj, now, ctx, funcs) for c in candidates]
    return result


def _entry(
    stage: Any,
    weight: int | None,
    obj: Any,
    now: dt.datetime,
    ctx: CELContext,
    funcs: Mapping[str, TemplateFunc],
) -> dict[str, Any]:
    entry: dict[str, Any] = {"stage": stage.name}
    delay = stage.delay_range(obj, now, ctx)
    if delay is not None:
        entry["delay"] = delay
    entry["weight"] = weight or 0
    try:
        entry["next"] = stage.plan(obj, funcs, typed=False)
    except StepError as err:
        entry["error"] = str(err)
        entry["next"] = []
    return entry
