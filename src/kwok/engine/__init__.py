"""The simulation engine: pure logic, no I/O, no wall clock (time and randomness are passed in).

CONTRACT for the kwok controller (kwok.kubelet) and for `kwok stage test`:

Loading ::

    docs = load_documents(text, source="stages.yaml")  # multi-doc YAML -> dicts; errors name file/doc
    stage_set = StageSet.load(docs)                     # compiles every kind: Stage; skips other kinds
    stage_set = StageSet.load(default_stages(["node-initialize", "pod-ready"], lease=True))
    stage_set.resource_refs() -> [(api_group, kind), ...]   # e.g. ("v1", "Pod"), ("apps/v1", "Deployment")

  Everything is validated and compiled at load: a template that does not parse, an unknown
  template function, a jq or CEL syntax error, a bad operator, a negative delay raise `StageError`
  ('stage "NAME": spec.FIELD: problem'), never later.

Per object (obj is the JSON-shaped dict from the API server) ::

    lifecycle = stage_set.for_resource("v1", "Pod")     # Lifecycle (empty if no stage)
    ctx = CELContext(now=now, rand=rng.random)          # what CEL may observe
    candidates = lifecycle.match(obj, ctx)              # [Candidate(stage, weight)]; raises
                                                        # CELError if a CEL selector/weightFrom/
                                                        # durationFrom fails: KWOK then plays nothing
    stage = Lifecycle.choose(candidates, rng)           # None when nothing matches
    seconds = stage.delay(obj, now, rng, ctx)           # >= 0, KWOK's delay/jitter rules
    funcs = environment_funcs(now, start_time, version) | ip_funcs   # template functions
    actions = stage.plan(obj, funcs, typed=True)        # typed=True: v1 Node/Pod (strategic merge
                                                        # default); False for everything else

  `actions` is a list of dicts, executed in order by the controller:
    {"kind": "event", "type", "reason", "message"}
    {"kind": "patch", "type": MIME, "data", "subresource"?, "impersonation"?: {"username"}}
    {"kind": "apply", "type": MIME, "data", "subresource"?, "impersonation"?}   # full object;
        the controller defaults metadata.namespace to the source object's for namespaced kinds
    {"kind": "delete"}                                  # gracePeriodSeconds 0
    {"kind": "immediate"}                               # last: feed the patched object back
  MIME types: application/json-patch+json, application/merge-patch+json,
  application/strategic-merge-patch+json, application/apply-patch+yaml.
  `plan` raises `StepError` when a template fails on this object (other objects are unaffected),
  and IPPoolExhausted (a RuntimeError) when a pod's CIDR has no address left.
  The template's dot is the object with numbers as json.Number (they print as written).

Template functions the controller binds (names -> callables, passed to `plan`):
  every stage: Now, now, StartTime, Version (`environment_funcs`);
  v1 Node stages: NodeIP, NodeName, NodePort;
  v1 Pod stages: NodeIP, PodIP, NodeIPWith, NodeIPsWith, PodIPWith, PodIPsWith
  (`PodNetwork(...).template_funcs()` in kwok.engine.ipam builds them from the IP pools).

  Node stage functions are plain values: {"NodeIP": lambda: ip, "NodeName": ..., "NodePort": ...}.

IP pools: `PodNetwork(default_cidr, node_ip, node_lookup)`: `.template_funcs()`, `.observe_pod(pod)`
  before patching a pod, `.forget_pod(pod)` when it is deleted; `IPPool` raises IPPoolExhausted.
Scale templates (`kwokctl scale`): `GoTemplate(text, name, scale_function_map())` rendered with
  `scale_funcs(name, namespace, index)` (Name, Namespace, Index, AddCIDR, AddIP).
Default stages: `default_stages(["fast"], lease=True, status_update_ms=None)` -> Stage documents;
  set names "fast", "general", "chaos", "volume", upstream's "node-fast", "pod-fast", "pod-general",
  "node-chaos", "pod-chaos", "volume-fast", or stage names (see kwok.engine.stagesets).
Config files: `load_documents(text, source)` -> Documents(objects, warnings); validates the 12
  kwok.x-k8s.io kinds against their CRD schemas and the config.kwok.x-k8s.io kinds; raises ConfigError.
CEL for metrics/usage: `CELProgram(source).evaluate({"node": ..., "pod": ..., "container": ...}, ctx)`
  with `CELContext(now, rand, usage=f, cumulative_usage=f, started_containers_total=g)` where
  f(obj, resource, container_or_None) -> float and g(node_name) -> int; node/pod/container are
  typed (unset fields read as zero values, has() still false, quantities are Quantity);
  `kwok.engine.celfuncs.as_float(result)` turns a result into a metric value.
Stage test: `kwok.engine.stagetest.run_stage_test(stage_set, obj, now, stage_test_funcs(...))`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kwok.engine.celexpr import CELContext, CELError, CELProgram
    from kwok.engine.config import ConfigError, Documents, load_documents
    from kwok.engine.gotemplate import GoTemplate, TemplateError
    from kwok.engine.ipam import IPPool, IPPoolExhausted, PodNetwork, add_cidr, add_ip
    from kwok.engine.lifecycle import Candidate, Lifecycle, StageSet
    from kwok.engine.stage import Stage, StageError
    from kwok.engine.stagesets import STAGE_SET_NAMES, default_stages
    from kwok.engine.steps import PATCH_TYPES, Action, StepError
    from kwok.engine.templatefuncs import environment_funcs, scale_funcs, stub_funcs

# Imported on first use: kwokctl reads only the default stage sets, and importing the template,
# jq and CEL machinery would cost it most of its start-up budget.
_EXPORTS = {
    "CELContext": "kwok.engine.celexpr",
    "CELError": "kwok.engine.celexpr",
    "CELProgram": "kwok.engine.celexpr",
    "ConfigError": "kwok.engine.config",
    "Documents": "kwok.engine.config",
    "load_documents": "kwok.engine.config",
    "GoTemplate": "kwok.engine.gotemplate",
    "TemplateError": "kwok.engine.gotemplate",
    "IPPool": "kwok.engine.ipam",
    "IPPoolExhausted": "kwok.engine.ipam",
    "PodNetwork": "kwok.engine.ipam",
    "add_cidr": "kwok.engine.ipam",
    "add_ip": "kwok.engine.ipam",
    "Candidate": "kwok.engine.lifecycle",
    "Lifecycle": "kwok.engine.lifecycle",
    "StageSet": "kwok.engine.lifecycle",
    "Stage": "kwok.engine.stage",
    "StageError": "kwok.engine.stage",
    "STAGE_SET_NAMES": "kwok.engine.stagesets",
    "default_stages": "kwok.engine.stagesets",
    "PATCH_TYPES": "kwok.engine.steps",
    "Action": "kwok.engine.steps",
    "StepError": "kwok.engine.steps",
    "environment_funcs": "kwok.engine.templatefuncs",
    "scale_funcs": "kwok.engine.templatefuncs",
    "stub_funcs": "kwok.engine.templatefuncs",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "PATCH_TYPES",
    "STAGE_SET_NAMES",
    "Action",
    "CELContext",
    "CELError",
    "CELProgram",
    "Candidate",
    "ConfigError",
    "Documents",
    "GoTemplate",
    "IPPool",
    "IPPoolExhausted",
    "Lifecycle",
    "PodNetwork",
    "Stage",
    "StageError",
    "StageSet",
    "StepError",
    "TemplateError",
    "add_cidr",
    "add_ip",
    "default_stages",
    "environment_funcs",
    "load_documents",
    "scale_funcs",
    "stub_funcs",
]
