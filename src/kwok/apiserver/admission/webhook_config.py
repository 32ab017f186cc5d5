"""Webhook configurations compiled for dispatch: one `Webhook` per entry of `webhooks`.

Compiling happens once per configuration change (see configcache): rules and selectors parsed,
matchConditions compiled, defaults filled as the v1 API defaults them (failurePolicy Fail,
matchPolicy Equivalent, timeoutSeconds 10, reinvocationPolicy Never, scope `*`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kwok.api.selectors import SelectorError
from kwok.apiserver.admission.cel import CompileError, Expression
from kwok.apiserver.admission.matching import Rule, Selectors

Obj = dict[str, Any]
DEFAULT_TIMEOUT = 10
MAX_TIMEOUT = 30


@dataclass
class Webhook:
    name: str
    configuration: str
    rules: list[Rule]
    selectors: Selectors
    match_policy: str
    client_config: Obj
    review_versions: list[str]
    timeout: int
    fail_open: bool
    side_effects: str
    reinvoke: bool
    conditions: list[tuple[str, Expression]] = field(default_factory=list)
    broken: str = ""               # why the configuration cannot be used (subject to failurePolicy)


def compile_configurations(configurations: list[Obj]) -> list[Webhook]:
    """All webhooks, ordered by configuration name and then as listed (the real server's order)."""
    return [compile_webhook(hook, (c.get("metadata") or {}).get("name", ""))
            for c in configurations for hook in c.get("webhooks") or ()]


def compile_webhook(hook: Obj, configuration: str) -> Webhook:
    timeout = int(hook.get("timeoutSeconds") or DEFAULT_TIMEOUT)
    webhook = Webhook(
        name=hook.get("name", ""), configuration=configuration,
        rules=[Rule.parse(r) for r in hook.get("rules") or ()],
        selectors=Selectors({}), match_policy=hook.get("matchPolicy") or "Equivalent",
        client_config=hook.get("clientConfig") or {},
        review_versions=list(hook.get("admissionReviewVersions") or ["v1"]),
        timeout=max(1, min(MAX_TIMEOUT, timeout)),
        fail_open=hook.get("failurePolicy") == "Ignore",
        side_effects=hook.get("sideEffects") or "Unknown",
        reinvoke=hook.get("reinvocationPolicy") == "IfNeeded")
    try:
        webhook.selectors = Selectors(hook)
    except SelectorError as err:
        webhook.broken = f"invalid selector: {err}"
    for condition in hook.get("matchConditions") or ():
        try:
            webhook.conditions.append((condition.get("name", ""), Expression(condition.get("expression", ""))))
        except CompileError as err:
            webhook.broken = f"compilation of matchCondition {condition.get('name', '')!r} failed: {err}"
    return webhook
