"""Node selection by labels: nodeSelector, required and preferred node affinity, and tolerations.

NodeSelectorRequirement operators differ from label selectors (Gt/Lt compare integers, matchFields
only knows metadata.name), so they are matched here rather than through kwok.api.selectors.
"""

from __future__ import annotations

from typing import Any


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def requirement_matches(req: dict[str, Any], values_of: dict[str, str]) -> bool:
    op, key, values = req.get("operator"), req.get("key", ""), req.get("values") or []
    present = key in values_of
    if op == "In":
        return present and values_of[key] in values
    if op == "NotIn":
        return not present or values_of[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt") and present and len(values) == 1:
        have, want = _int(values_of[key]), _int(values[0])
        if have is None or want is None:
            return False
        return have > want if op == "Gt" else have < want
    return False


def term_matches(term: dict[str, Any], node_name: str, labels: dict[str, str]) -> bool:
    """A NodeSelectorTerm: all its expressions and fields hold; an empty term matches nothing."""
    expressions, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not expressions and not fields:
        return False
    node_fields = {"metadata.name": node_name}
    return (all(requirement_matches(r, labels) for r in expressions)
            and all(requirement_matches(r, node_fields) for r in fields))


def required_terms(spec: dict[str, Any]) -> list[dict[str, Any]] | None:
    node_affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        return None
    return required.get("nodeSelectorTerms") or []


def pod_matches_node(spec: dict[str, Any], node_name: str, labels: dict[str, str]) -> bool:
    """nodeSelector and required node affinity (`RequiredNodeAffinity.Match`)."""
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    terms = required_terms(spec)
    if terms is None:
        return True
    return any(term_matches(t, node_name, labels) for t in terms)


def preferred_score(spec: dict[str, Any], node_name: str, labels: dict[str, str]) -> int:
    node_affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    score = 0
    for term in node_affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or ():
        if term_matches(term.get("preference") or {}, node_name, labels):
            score += int(term.get("weight", 0))
    return score


def tolerates(toleration: dict[str, Any], taint: dict[str, Any]) -> bool:
    """`Toleration.ToleratesTaint`: effect and key match (empty = any), then Equal or Exists."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if operator == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def tolerated(tolerations: list[dict[str, Any]], taint: dict[str, Any]) -> bool:
    return any(tolerates(t, taint) for t in tolerations)


def first_untolerated(taints: list[dict[str, Any]], tolerations: list[dict[str, Any]],
                      effects: tuple[str, ...]) -> dict[str, Any] | None:
    for taint in taints:
        if taint.get("effect") in effects and not tolerated(tolerations, taint):
            return taint
    return None
