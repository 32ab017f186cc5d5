"""Authorization: every request is allowed for now, and the review kinds say so.

kubectl `auth can-i` (SelfSubjectAccessReview, SelfSubjectRulesReview with --list) and `auth whoami`
(SelfSubjectReview) create these virtual objects; nothing is stored, the reply carries the answer.
A strategy's own `create_virtual` takes precedence over this.
"""

from __future__ import annotations

from typing import Any

from kwok.apiserver.registry import RequestContext

Obj = dict[str, Any]
_ALLOW_REASON = "allowed by the kwok API server (authorization allows every request)"


def answer_review(obj: Obj, ctx: RequestContext) -> Obj:
    kind = obj.get("kind", "")
    status: Obj | None = None
    if kind in ("SelfSubjectAccessReview", "SubjectAccessReview", "LocalSubjectAccessReview"):
        status = {"allowed": True, "reason": _ALLOW_REASON}
    elif kind == "SelfSubjectRulesReview":
        status = {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                  "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": False}
    elif kind == "SelfSubjectReview":
        status = {"userInfo": {"username": ctx.user, "groups": list(ctx.groups)}}
    if status is not None:
        obj["status"] = status
    meta = obj.get("metadata") or {}
    for key in ("uid", "resourceVersion", "generation"):
        meta.pop(key, None)
    meta["creationTimestamp"] = None
    return obj
