"""MutatingAdmissionWebhook and ValidatingAdmissionWebhook, as kube-apiserver runs them.

For each write the webhooks whose rules, selectors and matchConditions match are called with an
AdmissionReview. Mutating webhooks run one after the other, each seeing the object the previous
one patched (JSONPatch), and those with `reinvocationPolicy: IfNeeded` run once more when a later
webhook changed the object. Validating webhooks run concurrently. A denial answers with the
webhook's status (`admission webhook "<name>" denied the request: <message>`); a webhook that
cannot be called fails the request (`failurePolicy: Fail`, a 500 InternalError) or is skipped
(`Ignore`). A webhook's `warnings` reach the client as `Warning` headers.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from kwok.api import errors
from kwok.api.jsonpatch import JsonPatchError, apply_json_patch
from kwok.apiserver.admission import webhook_client
from kwok.apiserver.admission.attributes import Attributes
from kwok.apiserver.admission.cel import EvalError, bind, bind_authorizer
from kwok.apiserver.admission.configcache import ConfigCache
from kwok.apiserver.admission.matching import Candidates, Target, could_match, is_exempt, matching_target
from kwok.apiserver.admission.review import (
    InvalidResponse,
    request_body,
    review,
    review_version,
    verify_response,
)
from kwok.apiserver.admission.scale import admitted_view, carry_back
from kwok.apiserver.admission.webhook_config import Webhook, compile_configurations
from kwok.apiserver.registry import AdmissionPlugin, AdmissionRequest, Lookup

Obj = dict[str, Any]
GROUP = "admissionregistration.k8s.io"


@dataclass
class Answer:
    response: Obj                  # the AdmissionReview's response
    sent: Obj | None               # the object as sent (what a patch applies to)


class CallFailed(Exception):
    """A webhook that could not be consulted: its failurePolicy decides (ErrCallingWebhook)."""

    def __init__(self, webhook: str, reason: str) -> None:
        super().__init__(f'failed calling webhook "{webhook}": {reason}')


def add_warnings(req: AdmissionRequest, warnings: Any) -> None:
    """Warnings for the client's `Warning` headers (the handler shares this list with the reply)."""
    if isinstance(warnings, list) and warnings:
        req.ctx.extra.setdefault("warnings", []).extend(str(w) for w in warnings)


class _Dispatcher(AdmissionPlugin):
    plural = ""
    mutating = False

    def __init__(self) -> None:
        self.cache: ConfigCache[Candidates[Webhook]] = ConfigCache(GROUP, self.plural, _candidates)

    async def _matching(self, req: AdmissionRequest,
                        lookup: Lookup) -> tuple[Attributes, list[tuple[Webhook, Target]]]:
        """The webhooks to call with the version each is called in (the common case, none, is cheap).
        For a scale write the attributes hold the Scale view (see admission.scale)."""
        candidates = [] if is_exempt(req) else (await self.cache.get(lookup)).for_request(req)
        if not candidates:
            return Attributes(req, lookup), []
        attrs = Attributes(await admitted_view(req, lookup), lookup)
        found = []
        for hook in candidates:
            target = await _invocation(hook, attrs)
            if target is not None:
                found.append((hook, target))
        return attrs, found

    async def close(self) -> None:
        await webhook_client.close()

    async def _consult(self, hook: Webhook, target: Target, attrs: Attributes) -> Answer | None:
        """Call one webhook; its answer, or None when it was skipped or failed open."""
        try:
            return await _call(hook, target, attrs, self.mutating)
        except CallFailed as failed:
            if hook.fail_open:
                return None
            raise errors.internal_error(str(failed)) from None


def _candidates(configurations: list[Obj]) -> Candidates[Webhook]:
    return Candidates([(hook, hook.rules) for hook in compile_configurations(configurations)])


async def _invocation(hook: Webhook, attrs: Attributes) -> Target | None:
    """The version the webhook is called with, or None when it does not apply to the request."""
    req = attrs.req
    target = matching_target(hook.rules, req, "Exact", ())
    if target is None and hook.match_policy != "Exact" and could_match(hook.rules, req):
        target = matching_target(hook.rules, req, hook.match_policy, await attrs.equivalents())
    if target is None or not await attrs.selected(hook.selectors):
        return None
    return target


async def _call(hook: Webhook, target: Target, attrs: Attributes, mutating: bool) -> Answer | None:
    req = attrs.req
    if hook.broken:
        raise CallFailed(hook.name, hook.broken)
    uid = str(uuid.uuid4())
    request = request_body(req, target, uid, attrs.in_version(req.obj, target), attrs.in_version(req.old, target))
    if not _conditions_hold(hook, request):
        return None
    if req.ctx.dry_run and hook.side_effects not in ("None", "NoneOnDryRun"):
        raise errors.bad_request(f'admission webhook "{hook.name}" does not support dry run')
    version = review_version(hook.review_versions)
    if version is None:
        raise CallFailed(hook.name, "webhook does not accept v1 or v1beta1 AdmissionReview")
    try:
        body = review(version, request)
        answer = await webhook_client.call(hook.client_config, attrs.lookup, body, hook.timeout)
    except webhook_client.ClientError as err:
        raise CallFailed(hook.name, str(err)) from None
    except webhook_client.CallError as err:
        raise CallFailed(hook.name, f"failed to call webhook: {err}") from None
    try:
        response = verify_response(version, uid, answer, mutating)
    except InvalidResponse as err:
        raise CallFailed(hook.name, f"received invalid webhook response: {err}") from None
    add_warnings(req, response.get("warnings"))
    if not response.get("allowed"):
        raise errors.ApiError(denial(hook.name, response.get("status")))
    return Answer(response, request["object"])


def _conditions_hold(hook: Webhook, request: Obj) -> bool:
    """All matchConditions true (one false skips the webhook; an error fails the call)."""
    if not hook.conditions:
        return True
    activation = bind({"object": request["object"], "oldObject": request["oldObject"], "request": request})
    activation["authorizer"] = bind_authorizer(request)
    failure = ""
    for name, expression in hook.conditions:
        try:
            if not expression.truth(activation):
                return False
        except EvalError as err:
            failure = failure or f"failed to evaluate match condition {name!r}: {err}"
    if failure:
        raise CallFailed(hook.name, failure)
    return True


def denial(webhook: str, result: Any) -> Obj:
    """The Status of a denial, from the webhook's own (webhookerrors.ToStatusErr)."""
    result = dict(result) if isinstance(result, dict) else {}
    denied_by = f'admission webhook "{webhook}" denied the request'
    if result.get("message"):
        message = f"{denied_by}: {result['message']}"
    elif result.get("reason"):
        message = f"{denied_by}: {result['reason']}"
    else:
        message = f"{denied_by} without explanation"
    code = result.get("code") if isinstance(result.get("code"), int) else 0
    status: Obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message}
    for key in ("reason", "details"):
        if result.get(key):
            status[key] = result[key]
    status["code"] = code if code >= 400 else 400
    return status


class MutatingWebhooks(_Dispatcher):
    name = "MutatingAdmissionWebhook"
    plural = "mutatingwebhookconfigurations"
    mutating = True

    async def admit(self, req: AdmissionRequest, lookup: Lookup) -> None:
        attrs, hooks = await self._matching(req, lookup)
        changes = 0
        seen: list[tuple[Webhook, Target, int]] = []
        for hook, target in hooks:
            changes += await self._mutate(hook, target, attrs)
            seen.append((hook, target, changes))
        # IfNeeded: once more for a webhook when a later one changed the object
        for hook, target, changes_then in seen:
            if hook.reinvoke and changes_then < changes:
                await self._mutate(hook, target, attrs)
        if changes:
            await carry_back(attrs.req, req, lookup)

    async def _mutate(self, hook: Webhook, target: Target, attrs: Attributes) -> int:
        """Call one webhook and apply its patch; 1 if the object changed."""
        answer = await self._consult(hook, target, attrs)
        if answer is None or not answer.response.get("patch") or answer.sent is None or attrs.req.obj is None:
            return 0
        patched = _patched(hook, answer.sent, answer.response["patch"])
        patched = attrs.back_to_request(patched, target)
        if patched == attrs.req.obj:
            return 0
        attrs.req.obj.clear()
        attrs.req.obj.update(patched)
        return 1


def _patched(hook: Webhook, obj: Obj, patch: str) -> Obj:
    try:
        operations = orjson.loads(base64.b64decode(patch))
        result = apply_json_patch(obj, operations)
    except (ValueError, JsonPatchError) as err:
        raise errors.internal_error(f'admission webhook "{hook.name}" returned an unusable patch: {err}') from None
    if not isinstance(result, dict):
        raise errors.internal_error(f'admission webhook "{hook.name}" patched the object into a non-object')
    return result


class ValidatingWebhooks(_Dispatcher):
    name = "ValidatingAdmissionWebhook"
    plural = "validatingwebhookconfigurations"

    async def validate(self, req: AdmissionRequest, lookup: Lookup) -> None:
        attrs, hooks = await self._matching(req, lookup)
        if not hooks:
            return
        results = await asyncio.gather(*(self._consult(h, t, attrs) for h, t in hooks), return_exceptions=True)
        for result in results:          # the first refusal in webhook order answers
            if isinstance(result, BaseException):
                raise result
