# mypy: disable-error-code="untyped-decorator"
"""Subresources other than status: scale, pods/binding, pods/eviction, pods/ephemeralcontainers,
pods/resize, serviceaccounts/token, namespaces/finalize, and the kubelet-proxied pods/log, exec,
attach and portforward.

Each handler gets a SubresourceCall (registry.py) and answers `(code, body)` or streams. Writes that
the main resource's update rules would refuse (binding sets spec.nodeName, finalize sets
spec.finalizers) go to the store directly with a resourceVersion precondition, retried on conflict,
as the real storage's GuaranteedUpdate does.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Callable
from typing import Any

import orjson

from kwok.api import errors
from kwok.api.selectors import SelectorError, label_selector_from_object
from kwok.apiserver.admission import connect
from kwok.apiserver.admission import scale as scaling
from kwok.apiserver.crd import CustomResourceStrategy
from kwok.apiserver.defaults import default_container
from kwok.apiserver.registry import AdmissionRequest, Obj, SubresourceCall, register_subresource
from kwok.apiserver.strategies.cluster import finalize_namespace
from kwok.apiserver.strategies.fielderrors import invalid

_RETRIES = 5
_STATUS_CREATED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


def _now(ctx_now: str) -> str:
    return ctx_now or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _guaranteed_update(call: SubresourceCall, served: Any, mutate: Callable[[Obj], Obj | None]) -> Obj:
    """Read, mutate, write with the read resourceVersion as precondition; retry on a lost race.
    `mutate` returns the object to store, or None to leave it (already as wanted)."""
    from kwok.apiserver.storage import PreconditionFailed

    store = call.flow.store
    for _ in range(_RETRIES):
        entry = store.get(served.key, call.namespace, call.name)
        if entry is None:
            raise errors.not_found(served.info.plural, call.name, served.info.group)
        obj = mutate(orjson.loads(entry.data))
        if obj is None:
            return orjson.loads(entry.data)  # type: ignore[no-any-return]
        try:
            if call.ctx.dry_run:
                return obj
            await store.update(served.key, obj, served.strategy.field_values(obj), entry.rv)
            return obj
        except PreconditionFailed:
            continue
    raise errors.conflict(served.info.plural, call.name, served.info.group)


# ------------------------------------------------------------------------------------------------
# scale
# ------------------------------------------------------------------------------------------------

def _scale_paths(served: Any) -> scaling.ScalePaths:
    """Where the resource keeps its replicas and selector (a custom resource's from its CRD)."""
    strategy = served.strategy
    if isinstance(strategy, CustomResourceStrategy):
        return scaling.custom_paths(strategy.scale)
    return scaling.builtin_paths(served.info.plural)


def to_scale(obj: Obj, served: Any) -> Obj:
    return scaling.to_scale(obj, _scale_paths(served))


def _scale_body(call: SubresourceCall, current: Obj) -> Obj:
    if call.verb == "patch":
        from kwok.apiserver import patching

        kind = call.patch_type
        if "strategic" in kind or "apply" in kind:   # a Scale has no lists: a merge is the same
            kind = patching.MERGE_PATCH
        patched: Obj = patching.apply_patch(kind, call.body, current, call.served.info)
        return patched
    if not isinstance(call.body, dict):
        raise errors.bad_request("the body of the request was empty")
    return call.body


@register_subresource("scale")
async def scale(call: SubresourceCall) -> tuple[int, Obj]:
    served = call.served
    current = to_scale(call.flow.get(served, call.namespace, call.name), served)
    if call.verb == "get":
        return 200, current
    if call.verb not in ("update", "patch"):
        raise errors.method_not_allowed()
    wanted = _scale_body(call, current)
    replicas = scaling.wanted_replicas(wanted, call.name)
    precondition = (wanted.get("metadata") or {}).get("resourceVersion")
    obj = call.flow.get(served, call.namespace, call.name)
    if precondition and precondition != obj["metadata"].get("resourceVersion"):
        raise errors.conflict(served.info.plural, call.name, served.info.group)
    scaling.set_replicas(obj, _scale_paths(served), replicas)
    # through the scale subresource: admission rules and managedFields see `scale`, and webhooks
    # and policies the Scale (admission.scale), as upstream
    stored, _created = await call.flow.update(served, call.namespace, call.name, obj, call.ctx, subresource="scale")
    return 200, to_scale(stored, served)


# ------------------------------------------------------------------------------------------------
# pods/binding
# ------------------------------------------------------------------------------------------------

@register_subresource("binding")
async def binding(call: SubresourceCall) -> tuple[int, Obj]:
    if call.verb != "create" or not isinstance(call.body, dict):
        raise errors.method_not_allowed()
    target = call.body.get("target") or {}
    if target.get("kind") not in (None, "", "Node"):
        raise errors.invalid("Binding", call.name, [invalid("target.kind", target.get("kind"),
                                                            "must be empty or 'Node'")])
    node = target.get("name", "")
    if not node:
        raise errors.invalid("Binding", call.name, [{"reason": "FieldValueRequired", "field": "target.name",
                                                     "message": "Required value"}])
    annotations = (call.body.get("metadata") or {}).get("annotations") or {}
    now = _now(call.ctx.now)

    def assign(pod: Obj) -> Obj:
        meta, spec = pod["metadata"], pod.setdefault("spec", {})
        if meta.get("deletionTimestamp"):
            raise errors.conflict_message("pods/binding", call.name,
                                          f"pod {call.name} is being deleted, cannot be assigned to a host")
        if spec.get("nodeName"):
            raise errors.conflict_message("pods/binding", call.name,
                                          f'pod {call.name} is already assigned to node "{spec["nodeName"]}"')
        spec["nodeName"] = node
        if annotations:
            meta["annotations"] = {**(meta.get("annotations") or {}), **annotations}
        _set_condition(pod, {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                             "lastTransitionTime": now})
        return pod

    await _guaranteed_update(call, call.served, assign)
    return 201, dict(_STATUS_CREATED)


def _set_condition(pod: Obj, condition: Obj) -> None:
    conditions = pod.setdefault("status", {}).setdefault("conditions", [])
    for i, existing in enumerate(conditions):
        if existing.get("type") == condition["type"]:
            if existing.get("status") == condition["status"]:
                condition["lastTransitionTime"] = existing.get("lastTransitionTime", condition["lastTransitionTime"])
            conditions[i] = {**existing, **condition}
            return
    conditions.append(condition)


# ------------------------------------------------------------------------------------------------
# pods/ephemeralcontainers and pods/resize: writes that may change one part of a pod's spec
# ------------------------------------------------------------------------------------------------

def _pod_part_update(call: SubresourceCall, carry: Callable[[Obj, Obj], None]) -> Callable[[Obj], Obj | None]:
    """A mutation for _guaranteed_update: the pod as sent (PUT) or patched (PATCH), of which only
    what `carry(stored, wanted)` copies is kept."""
    from kwok.apiserver import patching

    def mutate(stored: Obj) -> Obj | None:
        if call.verb == "patch":
            wanted = patching.apply_patch(call.patch_type, call.body, stored, call.served.info)
        elif isinstance(call.body, dict):
            wanted = call.body
        else:
            raise errors.bad_request("the body of the request was empty")
        before = orjson.dumps(stored)
        carry(stored, wanted)
        return None if orjson.dumps(stored) == before else stored

    return mutate


def _carry_ephemeral(stored: Obj, wanted: Obj) -> None:
    spec = stored.setdefault("spec", {})
    spec["ephemeralContainers"] = list((wanted.get("spec") or {}).get("ephemeralContainers") or [])
    for container in spec["ephemeralContainers"]:
        if isinstance(container, dict):
            default_container(container)


def _carry_resources(stored: Obj, wanted: Obj) -> None:
    by_name = {c.get("name"): c for c in (wanted.get("spec") or {}).get("containers") or []}
    for container in (stored.get("spec") or {}).get("containers") or []:
        if container.get("name") in by_name:
            container["resources"] = by_name[container["name"]].get("resources") or {}


async def _pod_part(call: SubresourceCall, carry: Callable[[Obj, Obj], None]) -> tuple[int, Obj]:
    if call.verb == "get":
        return 200, call.flow.get(call.served, call.namespace, call.name)
    if call.verb not in ("update", "patch"):
        raise errors.method_not_allowed()
    return 200, await _guaranteed_update(call, call.served, _pod_part_update(call, carry))


@register_subresource("ephemeralcontainers")
async def ephemeral_containers(call: SubresourceCall) -> tuple[int, Obj]:
    return await _pod_part(call, _carry_ephemeral)


@register_subresource("resize")
async def resize(call: SubresourceCall) -> tuple[int, Obj]:
    return await _pod_part(call, _carry_resources)


# ------------------------------------------------------------------------------------------------
# pods/eviction
# ------------------------------------------------------------------------------------------------

_EVICTION_BLOCKED = "Cannot evict pod as it would violate the pod's disruption budget."


def _ignores_budgets(pod: Obj) -> bool:
    """Pods that are not (or no longer) running are deleted without asking any budget."""
    phase = (pod.get("status") or {}).get("phase")
    return phase in ("Succeeded", "Failed", "Pending") or bool(pod["metadata"].get("deletionTimestamp"))


def matching_budgets(pod: Obj, budgets: list[Obj]) -> list[Obj]:
    labels = pod["metadata"].get("labels") or {}
    out = []
    for pdb in budgets:
        selector = (pdb.get("spec") or {}).get("selector")
        try:
            if selector is not None and label_selector_from_object(selector).matches(labels):
                out.append(pdb)
        except SelectorError:
            continue
    return out


def budget_refusal(pdb: Obj) -> errors.ApiError | None:
    status, name = pdb.get("status") or {}, pdb["metadata"]["name"]
    generation = pdb["metadata"].get("generation", 1)
    if status.get("observedGeneration", generation) < generation:
        message = f"The disruption budget {name} is still being processed by the server."
    elif status.get("disruptionsAllowed", 0) <= 0:
        message = (f"The disruption budget {name} needs {status.get('desiredHealthy', 0)} healthy pods and has "
                   f"{status.get('currentHealthy', 0)} currently")
    else:
        return None
    err = errors.too_many_requests(_EVICTION_BLOCKED)
    err.status.setdefault("details", {})["causes"] = [{"reason": "DisruptionBudget", "message": message}]
    return err


@register_subresource("eviction")
async def eviction(call: SubresourceCall) -> tuple[int, Obj]:
    if call.verb != "create":
        raise errors.method_not_allowed()
    served = call.served
    pod = call.flow.get(served, call.namespace, call.name)
    options = dict((call.body or {}).get("deleteOptions") or {})
    if call.ctx.dry_run:
        options["dryRun"] = ["All"]
    if not _ignores_budgets(pod):
        budgets = matching_budgets(pod, await call.flow.lookup.list("policy", "poddisruptionbudgets", call.namespace))
        if len(budgets) > 1:
            raise errors.internal_error("This pod has more than one PodDisruptionBudget, which the eviction "
                                        "subresource does not support.")
        if budgets:
            if (refusal := budget_refusal(budgets[0])) is not None:
                raise refusal
            await _spend_disruption(call, budgets[0], pod)
    await call.flow.delete(served, call.namespace, call.name, options, call.ctx)
    return 201, dict(_STATUS_CREATED)


async def _spend_disruption(call: SubresourceCall, pdb: Obj, pod: Obj) -> None:
    """One fewer disruption allowed, the pod recorded as disrupted (the disruption controller clears it)."""
    if call.ctx.dry_run:
        return
    status = dict(pdb.get("status") or {})
    status["disruptionsAllowed"] = status.get("disruptionsAllowed", 0) - 1
    status["disruptedPods"] = {**(status.get("disruptedPods") or {}), pod["metadata"]["name"]: _now(call.ctx.now)}
    try:
        await call.flow.lookup.update_status("policy", "poddisruptionbudgets", {**pdb, "status": status})
    except errors.ApiError as err:
        if err.code == 409:   # the budget moved under us: the client retries, as with the real server
            raise errors.too_many_requests(_EVICTION_BLOCKED) from None
        raise


# ------------------------------------------------------------------------------------------------
# serviceaccounts/token
# ------------------------------------------------------------------------------------------------

ISSUER = "https://kubernetes.default.svc.cluster.local"
_MIN_EXPIRATION = 600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(account: Obj, audiences: list[str], issued: int, expires: int) -> str:
    """A JWT-shaped service-account token (the signature is random: nothing here verifies it)."""
    meta = account["metadata"]
    claims = {"aud": audiences, "exp": expires, "iat": issued, "iss": ISSUER, "nbf": issued,
              "jti": secrets.token_hex(16),
              "kubernetes.io": {"namespace": meta.get("namespace", ""),
                                "serviceaccount": {"name": meta["name"], "uid": meta.get("uid", "")}},
              "sub": f"system:serviceaccount:{meta.get('namespace', '')}:{meta['name']}"}
    header = {"alg": "RS256", "kid": secrets.token_hex(20)}
    return ".".join((_b64(orjson.dumps(header)), _b64(orjson.dumps(claims)), _b64(secrets.token_bytes(256))))


@register_subresource("token")
async def token(call: SubresourceCall) -> tuple[int, Obj]:
    if call.verb != "create":
        raise errors.method_not_allowed()
    account = call.flow.get(call.served, call.namespace, call.name)
    request = dict(call.body or {})
    spec = dict(request.get("spec") or {})
    seconds = spec.setdefault("expirationSeconds", 3600)
    if not isinstance(seconds, int) or seconds < _MIN_EXPIRATION:
        raise errors.invalid("TokenRequest", call.name, [invalid(
            "spec.expirationSeconds", seconds, "may not specify a duration less than 10 minutes")],
            "authentication.k8s.io")
    spec["audiences"] = spec.get("audiences") or [ISSUER]
    issued = int(dt.datetime.now(dt.UTC).timestamp())
    expiry = dt.datetime.fromtimestamp(issued + seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    meta = {**(request.get("metadata") or {}), "name": call.name, "namespace": call.namespace,
            "creationTimestamp": None}
    return 201, {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "metadata": meta, "spec": spec,
                 "status": {"token": make_token(account, spec["audiences"], issued, issued + seconds),
                            "expirationTimestamp": expiry}}


# ------------------------------------------------------------------------------------------------
# namespaces/finalize
# ------------------------------------------------------------------------------------------------

@register_subresource("finalize")
async def finalize(call: SubresourceCall) -> tuple[int, Obj]:
    if call.verb != "update" or not isinstance(call.body, dict):
        raise errors.method_not_allowed()
    served, body = call.served, call.body
    result = await _guaranteed_update(call, served, lambda old: finalize_namespace(body, old))
    if result["metadata"].get("deletionTimestamp") and served.strategy.finalized(result) and not call.ctx.dry_run:
        entry = call.flow.store.get(served.key, "", call.name)
        if entry is not None:
            await call.flow.store.delete(served.key, "", call.name, entry.rv, final=result)
    return 200, result


# ------------------------------------------------------------------------------------------------
# kubelet-proxied: log, exec, attach, portforward
# ------------------------------------------------------------------------------------------------

# kube-apiserver's --kubelet-preferred-address-types default: the node's own name first
_ADDRESS_PREFERENCE = ("Hostname", "InternalDNS", "InternalIP", "ExternalDNS", "ExternalIP")
_LOG_OPTIONS = ("follow", "previous", "sinceSeconds", "sinceTime", "tailLines", "timestamps", "limitBytes",
                "insecureSkipTLSVerifyBackend")
_DEFAULT_KUBELET_PORT = 10250


def kubelet_base(node: Obj) -> str:
    """https://<address>:<port> of a node's kubelet, from the status it (or kwok) reports."""
    status = node.get("status") or {}
    addresses: dict[str, str] = {}
    for a in status.get("addresses") or []:
        addresses.setdefault(a.get("type"), a.get("address"))     # the first of each type
    host = next((addresses[t] for t in _ADDRESS_PREFERENCE if addresses.get(t)), None)
    if host is None:
        raise errors.bad_request(f"no preferred addresses found; known addresses: {list(addresses.values())}")
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port") or _DEFAULT_KUBELET_PORT
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


def choose_container(pod: Obj, requested: str | None) -> str:
    spec, name = pod.get("spec") or {}, pod["metadata"]["name"]
    names = [c.get("name", "") for c in spec.get("containers") or []]
    others = [c.get("name", "") for k in ("initContainers", "ephemeralContainers") for c in spec.get(k) or []]
    if requested:
        if requested not in names + others:
            raise errors.bad_request(f"container {requested} is not valid for pod {name}")
        return requested
    if len(names) == 1:
        return str(names[0])
    text = f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
    if others:
        text += f" or one of the init containers: [{' '.join(others)}]"
    raise errors.bad_request(text)


async def _target(call: SubresourceCall, container: str | None) -> tuple[str, str]:
    """(kubelet base URL, container) for the pod of the call."""
    pod = call.flow.get(call.served, call.namespace, call.name)
    chosen = choose_container(pod, container) if container is not None or call.subresource != "portforward" else ""
    node_name = (pod.get("spec") or {}).get("nodeName")
    if not node_name:
        raise errors.bad_request(f"pod {call.name} does not have a host assigned")
    nodes = call.flow.catalog.get("", "v1", "nodes")
    node = call.flow.get(nodes, "", node_name)
    return kubelet_base(node), chosen


def _passthrough_query(query: Any, keep: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    return [(k, v) for k, v in query.items() if (keep is None or k in keep) and k != "container"]


@register_subresource("log")
async def log(call: SubresourceCall) -> Any:
    if call.verb != "get":
        raise errors.method_not_allowed()
    base, container = await _target(call, call.query.get("container"))
    url = f"{base}/containerLogs/{call.namespace}/{call.name}/{container}"
    return await _proxy_http(call, url, _passthrough_query(call.query, _LOG_OPTIONS))


async def _proxy_http(call: SubresourceCall, url: str, query: list[tuple[str, str]]) -> Any:
    import aiohttp
    from aiohttp import web

    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        try:
            upstream = await session.get(url, params=query, ssl=False)
        except aiohttp.ClientError as exc:
            raise errors.internal_error(f"error trying to reach service: {exc}") from None
        async with upstream:
            if not 200 <= upstream.status <= 206:
                body = b""   # read() returns what has arrived: loop up to the limit
                while len(body) < _MAX_ERROR_BODY and (chunk := await upstream.content.read(_MAX_ERROR_BODY - len(body))):
                    body += chunk
                text = body.decode(errors="replace")
                raise kubelet_error(upstream.status, text, f"pods/{call.subresource}", call.name)
            response = web.StreamResponse(status=upstream.status, headers={
                "Content-Type": upstream.headers.get("Content-Type", "text/plain")})
            return await _relay(call.request, upstream, response)


async def _relay(request: Any, upstream: Any, response: Any) -> Any:
    """Send the upstream reply's body on as it arrives (`logs -f`, a proxied stream); a client or
    backend that goes away ends the stream quietly."""
    import aiohttp

    await response.prepare(request)
    try:
        async for chunk in upstream.content.iter_any():
            await response.write(chunk)
        await response.write_eof()
    except (ConnectionResetError, aiohttp.ClientPayloadError):
        pass
    return response


_MAX_ERROR_BODY = 50000


def kubelet_error(code: int, body: str, resource: str, name: str) -> errors.ApiError:
    """A kubelet's error reply as the API server relays it (apiserver's GenericHttpResponseChecker):
    400 and 500 carry the kubelet's text; other codes get the generic server-response message."""
    if code == 400:
        return errors.bad_request(body)
    if code == 500:
        return errors.internal_error(body)
    generic = {404: ("NotFound", "the server could not find the requested resource")}
    reason, message = generic.get(code, ("InternalError" if code >= 500 else "Unknown",
                                         f"the server responded with the status code {code} "
                                         "but did not return more information"))
    if code > 500:
        message = f"an error on the server ({errors.go_quote(body)}) has prevented the request from succeeding"
    return errors.failure(code, reason, f"{message} (get {resource} {name})",
                          {"name": name, "kind": resource, "causes": [{"message": body}]})


def _stream_path(call: SubresourceCall, container: str) -> str:
    kind = {"exec": "exec", "attach": "attach", "portforward": "portForward"}[call.subresource]
    suffix = f"/{container}" if container else ""
    return f"/{kind}/{call.namespace}/{call.name}{suffix}"


@register_subresource("exec")
async def exec_(call: SubresourceCall) -> Any:
    return await _stream(call)


@register_subresource("attach")
async def attach(call: SubresourceCall) -> Any:
    return await _stream(call)


@register_subresource("portforward")
async def portforward(call: SubresourceCall) -> Any:
    return await _stream(call)


async def _stream(call: SubresourceCall) -> Any:
    """WebSocket passthrough (v5.channel.k8s.io, portforward.k8s.io, ...): the client's offered
    subprotocols go to the kubelet, whose choice is answered back, then frames flow both ways.
    Admission (CONNECT) comes first, as in ConnectResource; the kubelet gets the admitted options."""
    options = await _admitted_options(call)
    request = call.request
    if request is None or request.headers.get("Upgrade", "").lower() != "websocket":
        raise errors.bad_request("Upgrade request required")
    container = options.get("container") if call.subresource != "portforward" else None
    base, chosen = await _target(call, container)
    url = base.replace("https://", "wss://", 1) + _stream_path(call, chosen)
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
    return await _pump_websocket(request, url, _kubelet_query(options), offered)


async def _admitted_options(call: SubresourceCall) -> Obj:
    """The call's options object (PodExecOptions, ...) once admission (CONNECT) let it through."""
    info = call.served.info
    options = connect.connect_options(info.plural, call.subresource, call.query)
    req = AdmissionRequest(operation="CONNECT", info=info, namespace=call.namespace or None, name=call.name,
                           obj=options, subresource=call.subresource, ctx=call.ctx)
    await connect.admit(call.flow.admission, call.flow.lookup, req)
    return options


def _kubelet_query(options: Obj) -> list[tuple[str, str]]:
    """The kubelet's query for admitted options (what ExecLocation/PortForwardLocation send)."""
    query = [(flag, "true") for flag in ("stdin", "stdout", "stderr", "tty") if options.get(flag)]
    query += [("command", str(word)) for word in options.get("command") or ()]
    return query + [("port", str(port)) for port in options.get("ports") or ()]


async def _pump_websocket(request: Any, url: str, query: list[tuple[str, str]], offered: list[str]) -> Any:
    import asyncio

    import aiohttp
    from aiohttp import web

    async with aiohttp.ClientSession() as session:
        try:
            upstream = await session.ws_connect(url, params=query, protocols=offered, ssl=False, autoping=True)
        except (aiohttp.ClientError, aiohttp.WSServerHandshakeError) as exc:
            raise errors.internal_error(f"error dialing backend: {exc}") from None
        chosen = upstream.protocol
        client = web.WebSocketResponse(protocols=[chosen] if chosen else ())
        await client.prepare(request)

        async def copy(source: Any, sink: Any) -> None:
            async for message in source:
                if message.type == aiohttp.WSMsgType.BINARY:
                    await sink.send_bytes(message.data)
                elif message.type == aiohttp.WSMsgType.TEXT:
                    await sink.send_str(message.data)
                else:
                    break
            await sink.close()

        await asyncio.gather(copy(client, upstream), copy(upstream, client), return_exceptions=True)
        return client


# ------------------------------------------------------------------------------------------------
# proxy: nodes/<name>/proxy/..., pods/<name>/proxy/..., services/<name>/proxy/...
# ------------------------------------------------------------------------------------------------

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                         "trailers", "transfer-encoding", "upgrade", "host", "authorization", "content-length",
                         "accept-encoding"})


def split_scheme_name_port(text: str) -> tuple[str, str, str]:
    """utilnet.SplitSchemeNamePort: `name`, `name:port` or `scheme:name:port`."""
    parts = text.split(":")
    if len(parts) == 1:
        scheme, name, port = "", parts[0], ""
    elif len(parts) == 2:
        scheme, name, port = "", parts[0], parts[1]
    elif len(parts) == 3:
        scheme, name, port = parts
    else:
        raise errors.bad_request(f"invalid request {text}")
    if not name or scheme not in ("", "http", "https"):
        raise errors.bad_request(f"invalid request {text}")
    return scheme, name, port


@register_subresource("proxy")
async def proxy(call: SubresourceCall) -> Any:
    """The API server's proxy to a node's kubelet, a pod's IP or a service's endpoint (the
    `ResourceLocation` of each), the request passed on as it came."""
    scheme, name, port = split_scheme_name_port(call.name)
    plural = call.served.info.plural
    flow, catalog = call.flow, call.flow.catalog
    if plural == "nodes":
        node = flow.get(call.served, "", name)
        base = kubelet_base(node)
        if port:
            base = base.rsplit(":", 1)[0] + f":{port}"
        if scheme == "http":
            base = "http" + base[len("https"):]
    elif plural == "pods":
        pod = flow.get(call.served, call.namespace, name)
        ip = (pod.get("status") or {}).get("podIP")
        if not ip:
            raise errors.service_unavailable(f"address not allowed: pod {name} has no IP")
        host = f"[{ip}]" if ":" in ip else ip
        base = f"{scheme or 'http'}://{host}" + (f":{port}" if port else "")
    else:
        service = flow.get(call.served, call.namespace, name)        # 404 for a missing service
        if port:
            # a service port, by name or number, stands for the endpoint port of that name
            for service_port in (service.get("spec") or {}).get("ports") or []:
                if port in (service_port.get("name"), str(service_port.get("port"))):
                    port = service_port.get("name") or ""    # unnamed: the only endpoint port
                    break
        endpoints = catalog.get("", "v1", "endpoints")
        try:
            found = flow.get(endpoints, call.namespace, name)
        except errors.ApiError as err:
            if err.code != 404:
                raise
            found = {}
        base = _service_endpoint(found, name, port, scheme)
    url = f"{base}/{call.proxy_path}"
    return await _forward(call, url)


def _service_endpoint(endpoints: Obj, service: str, port: str, scheme: str) -> str:
    """The first ready address of the service's Endpoints, on the port named (by its name, or its
    number for an unnamed one; the only one when none is named)."""
    for subset in endpoints.get("subsets") or []:
        addresses = subset.get("addresses") or []
        ports = subset.get("ports") or []
        if not addresses:
            continue
        if port:
            chosen = next((p for p in ports if p.get("name") == port or str(p.get("port")) == port), None)
        else:
            chosen = ports[0] if len(ports) == 1 else None
        if chosen is None:
            continue
        ip = addresses[0].get("ip", "")
        host = f"[{ip}]" if ":" in ip else ip
        return f"{scheme or 'http'}://{host}:{chosen.get('port')}"
    raise errors.service_unavailable(f'no endpoints available for service "{service}"')


async def _forward(call: SubresourceCall, url: str) -> Any:
    import aiohttp
    from aiohttp import web

    request = call.request
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
    headers["Accept-Encoding"] = "identity"
    body = await request.read() if request.can_read_body else None
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
    async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session:
        try:
            upstream = await session.request(request.method, url, params=list(request.query.items()),
                                             headers=headers, data=body, ssl=False, allow_redirects=False)
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise errors.service_unavailable(f"error trying to reach service: {exc}") from None
        async with upstream:
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason, headers={
                k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP})
            return await _relay(request, upstream, response)
