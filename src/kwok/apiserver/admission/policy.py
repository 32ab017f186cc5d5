"""ValidatingAdmissionPolicy: CEL validations bound to requests by ValidatingAdmissionPolicyBindings.

For each binding (by name) whose policy exists and whose policy matchConstraints and binding
matchResources both match the request, the policy's validations are evaluated with `object`,
`oldObject`, `request`, `params` (each param object the binding's paramRef selects),
`namespaceObject` and `variables`. A failed validation is handled per the binding's
validationActions: Deny refuses the request (the first refusal answers, as
`ValidatingAdmissionPolicy '<policy>' with binding '<binding>' denied request: <message>`, with the
validation's reason, Invalid/422 by default), Warn adds a `Warning` header, Audit is accepted
(there is no audit log). An expression that fails to evaluate, a policy that does not compile or a
param that cannot be found count per the policy's failurePolicy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kwok.api import errors
from kwok.api.schema import get_schema
from kwok.api.selectors import SelectorError, label_selector_from_object
from kwok.apiserver.admission.attributes import Attributes
from kwok.apiserver.admission.cel import EvalError, bind, bind_authorizer, bind_value, cel_map
from kwok.apiserver.admission.configcache import ConfigCache
from kwok.apiserver.admission.matching import (
    Candidates,
    Target,
    could_match,
    is_exempt,
    matching_target,
    request_target,
)
from kwok.apiserver.admission.policy_config import (
    Binding,
    Constraints,
    Policy,
    Validation,
    compile_bindings,
    compile_policies,
)
from kwok.apiserver.admission.review import request_body
from kwok.apiserver.admission.scale import admitted_view
from kwok.apiserver.admission.webhook import add_warnings
from kwok.apiserver.registry import AdmissionPlugin, AdmissionRequest, Lookup

Obj = dict[str, Any]
GROUP = "admissionregistration.k8s.io"
_CODES = {"Forbidden": 403, "Unauthorized": 401, "RequestEntityTooLarge": 413, "Invalid": 422}


@dataclass
class Failure:
    message: str
    reason: str = "Invalid"
    error: bool = False               # evaluation failed: failurePolicy decides
    configuration: bool = False       # a policy/param problem: refused (Fail) regardless of validationActions


class ValidatingAdmissionPolicy(AdmissionPlugin):
    name = "ValidatingAdmissionPolicy"

    def __init__(self) -> None:
        self.policies: ConfigCache[dict[str, Policy]] = ConfigCache(
            GROUP, "validatingadmissionpolicies", compile_policies)
        self.bindings: ConfigCache[list[Binding]] = ConfigCache(
            GROUP, "validatingadmissionpolicybindings", compile_bindings)
        self._bound: tuple[object, object, Candidates[tuple[Binding, Policy]]] | None = None

    async def validate(self, req: AdmissionRequest, lookup: Lookup) -> None:
        if is_exempt(req):
            return
        bindings = await self.bindings.get(lookup)
        if not bindings:
            return
        candidates = self._candidates(bindings, await self.policies.get(lookup)).for_request(req)
        if not candidates:
            return
        attrs = Attributes(await admitted_view(req, lookup), lookup)   # a scale write shows its Scale
        refusals: list[errors.ApiError] = []
        for binding, policy in candidates:
            target = await _matches(policy, binding, attrs)
            if target is None:
                continue
            for failure in await _evaluate(policy, binding, target, attrs):
                refusals += _act(policy, binding, failure, req)
        if refusals:
            # every binding is evaluated (their warnings all reach the client); the first refusal answers
            raise refusals[0]

    def _candidates(self, bindings: list[Binding], policies: dict[str, Policy]
                    ) -> Candidates[tuple[Binding, Policy]]:
        """Bindings with their policies (by binding name), kept until either resource changes."""
        if self._bound is None or self._bound[0] is not bindings or self._bound[1] is not policies:
            pairs = []
            for binding in bindings:
                policy = policies.get(binding.policy)
                if policy is not None and policy.constraints is not None:
                    pairs.append(((binding, policy), policy.constraints.rules))
            self._bound = (bindings, policies, Candidates(pairs))
        return self._bound[2]


async def _matches(policy: Policy, binding: Binding, attrs: Attributes) -> Target | None:
    if policy.constraints is None:
        return None
    target = await _constraint_target(policy.constraints, attrs)
    if target is None or binding.constraints is None:
        return target
    return target if await _constraint_target(binding.constraints, attrs) is not None else None


async def _constraint_target(constraints: Constraints, attrs: Attributes) -> Target | None:
    req = attrs.req
    if constraints.all_resources:
        target: Target | None = request_target(req)
    else:
        target = matching_target(constraints.rules, req, "Exact", ())
        if target is None and constraints.match_policy != "Exact" and could_match(constraints.rules, req):
            target = matching_target(constraints.rules, req, constraints.match_policy, await attrs.equivalents())
    if target is None or matching_target(constraints.excluded, req, "Exact", ()) is not None:
        return None
    return target if await attrs.selected(constraints.selectors) else None


async def _evaluate(policy: Policy, binding: Binding, target: Target, attrs: Attributes) -> list[Failure]:
    """Every failed validation of the policy for this request (each param evaluated on its own)."""
    if policy.broken or binding.broken:
        return [Failure(policy.broken or binding.broken, configuration=True)]
    try:
        params = await _params(policy, binding, attrs)
    except _ParamError as err:
        return [Failure(str(err), configuration=True)]
    base = await _activation(target, attrs)
    failures: list[Failure] = []
    for param in params:
        failures += _validate_with(policy, dict(base, params=bind_value(param)))
    return failures


async def _activation(target: Target, attrs: Attributes) -> dict[str, Any]:
    req = attrs.req
    obj, old = attrs.in_version(req.obj, target), attrs.in_version(req.old, target)
    namespace = await attrs.namespace() if req.info.namespaced else None
    request = request_body(req, target, "", obj, old)
    del request["object"], request["oldObject"]
    activation = bind({"object": obj, "oldObject": old, "request": request, "namespaceObject": namespace})
    activation["authorizer"] = bind_authorizer(request)
    return activation


def _validate_with(policy: Policy, activation: dict[str, Any]) -> list[Failure]:
    values: dict[str, Any] = {}
    activation["variables"] = cel_map(values)
    for name, expression in policy.variables:
        try:
            values[name] = bind_value(expression.evaluate(activation))
        except EvalError:
            continue            # an expression using it fails with "no such key"
        activation["variables"] = cel_map(values)
    for _name, condition in policy.conditions:
        try:
            if not condition.truth(activation):
                return []
        except EvalError as err:
            return [Failure(f"failed to evaluate match condition: {err}", error=True)]
    return [f for f in (_check(v, activation) for v in policy.validations) if f is not None]


def _check(validation: Validation, activation: dict[str, Any]) -> Failure | None:
    if validation.error or validation.expression is None:
        return Failure(validation.error or "compilation error", configuration=True)
    try:
        if validation.expression.truth(activation):
            return None
    except EvalError as err:
        return Failure(f"expression '{validation.source}' resulted in error: {err}", error=True)
    return Failure(_message(validation, activation), validation.reason)


def _message(validation: Validation, activation: dict[str, Any]) -> str:
    if validation.message_expression is not None:
        try:
            text = validation.message_expression.evaluate(activation)
            if isinstance(text, str) and text.strip():
                return text.strip()
        except EvalError:
            pass                  # the static message (or the expression) stands in
    return validation.message or f"failed expression: {validation.source}"


def _act(policy: Policy, binding: Binding, failure: Failure, req: AdmissionRequest) -> list[errors.ApiError]:
    """Apply the binding's validationActions (or failurePolicy for an error) to one failure:
    the refusal it makes, if any."""
    if (failure.configuration or failure.error) and policy.fail_open:
        return []
    if failure.configuration:
        return [_denied(policy, binding, failure, req)]
    if "Warn" in binding.actions:
        add_warnings(req, [f"Validation failed for ValidatingAdmissionPolicy '{policy.name}' with binding "
                           f"'{binding.name}': {failure.message}"])
    return [_denied(policy, binding, failure, req)] if "Deny" in binding.actions else []


def _denied(policy: Policy, binding: Binding, failure: Failure, req: AdmissionRequest) -> errors.ApiError:
    message = (f"ValidatingAdmissionPolicy '{policy.name}' with binding '{binding.name}' "
               f"denied request: {failure.message}")
    if req.operation == "CONNECT":
        # admission.NewForbidden names the object it refuses from its metadata; an options object
        # (PodExecOptions) has none, so the real server answers an InternalError with both errors
        err = errors.internal_error(f"[{message}, object does not implement the Object interfaces]")
    else:
        err = errors.forbidden(req.info.plural, req.name, message, req.info.group)
    err.status["reason"] = failure.reason
    err.status["code"] = err.code = _CODES.get(failure.reason, 422)
    err.status.setdefault("details", {}).setdefault("causes", []).append({"message": message})
    return err


# ------------------------------------------------------------------------------------ params

class _ParamError(Exception):
    pass


async def _params(policy: Policy, binding: Binding, attrs: Attributes) -> list[Obj | None]:
    """The param objects to evaluate with ([None] for a policy without paramKind)."""
    if policy.param_kind is None:
        return [None]
    ref = binding.param_ref
    if ref is None:
        raise _ParamError(f"policy '{policy.name}' has paramKind but binding '{binding.name}' has no paramRef")
    group, plural, namespaced = await _param_resource(policy.param_kind, attrs.lookup)
    namespace = ref.get("namespace") or (attrs.req.namespace if namespaced else None)
    if namespaced and not namespace:
        raise _ParamError("cannot use a namespaced paramKind with a cluster-scoped request "
                          "unless paramRef.namespace is set")
    found = await _select_params(ref, group, plural, namespace, attrs.lookup)
    if found:
        return list(found)
    if ref.get("parameterNotFoundAction") == "Allow":
        return []
    raise _ParamError("no params found for policy binding with `Deny` parameterNotFoundAction")


async def _select_params(ref: Obj, group: str, plural: str, namespace: str | None, lookup: Lookup) -> list[Obj]:
    if ref.get("name"):
        param = await lookup.get(group, plural, namespace, ref["name"])
        return [param] if param is not None else []
    try:
        selector = label_selector_from_object(ref.get("selector") or {})
    except SelectorError as err:
        raise _ParamError(f"invalid paramRef.selector: {err}") from None
    return [p for p in await lookup.list(group, plural, namespace)
            if selector.matches((p.get("metadata") or {}).get("labels") or {})]


async def _param_resource(param_kind: tuple[str, str], lookup: Lookup) -> tuple[str, str, bool]:
    api_version, kind = param_kind
    group, _, version = api_version.rpartition("/")
    info = get_schema().resource_for_kind(group, version, kind)
    if info is not None:
        return info.group, info.plural, info.namespaced
    for crd in await lookup.list("apiextensions.k8s.io", "customresourcedefinitions", None):
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        if spec.get("group") == group and names.get("kind") == kind:
            return group, names.get("plural", ""), spec.get("scope") == "Namespaced"
    raise _ParamError(f"failed to find resource referenced by paramKind: '{api_version}, Kind={kind}'")
