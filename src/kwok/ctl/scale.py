"""`kwokctl scale`: bring the number of objects made from a KwokctlResource template to N.

Objects are named `<name>-<serial>` (zero-padded to --serial-length), labelled
`kwok.x-k8s.io/kwokctl-scale=<name>`; scaling down deletes the newest first and keeps the oldest
(creationTimestamp, then name), as KWOK does. `--param` are jq assignments applied in order to the
template's parameters (`.nodeName="fake-node-000000"`).

Thousands of objects share the cluster's two cores with the API server, so the client side is
kept cheap: the template is rendered once with placeholders for the per-object values (kwokctl's
Name and Index, and what AddCIDR/AddIP make of them), turned into JSON bytes once, and each object
is that JSON with its values spliced in (kwok.ctl.scalebody). The result is checked against real
renders first; a template that uses the index any other way is rendered object by object.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from kwok.client import ApiError, Client
from kwok.ctl.scalebody import BodyMaker, ScaleError, parse_rendered

SCALE_LABEL = "kwok.x-k8s.io/kwokctl-scale"
LIST_PAGE = 500
IN_FLIGHT = 32   # requests on the wire: enough to keep the API server busy, few enough to stay cheap

__all__ = ["SCALE_LABEL", "ScaleError", "ScaleResource", "apply_params", "load_resource", "scale", "serial_name"]


@dataclass
class ScaleResource:
    kind: str
    parameters: dict[str, Any]
    template: Any   # kwok.engine.gotemplate.GoTemplate (imported with the first template)


def builtin_resource(kind: str) -> dict[str, Any] | None:
    try:
        text = resources.files("kwok.ctl").joinpath(f"resources/{kind}.yaml").read_text()
    except FileNotFoundError:
        return None
    doc = yaml.load(text, Loader=yaml.CSafeLoader)
    return doc if isinstance(doc, dict) else None


def load_resource(kind: str, documents: list[dict[str, Any]]) -> ScaleResource:
    """A KwokctlResource named `kind` from the config, else the built-in node/pod one."""
    from kwok.engine.gotemplate import GoTemplate, TemplateError
    from kwok.engine.templatefuncs import scale_function_map

    doc = next((d for d in documents if d.get("kind") == "KwokctlResource"
                and (d.get("metadata") or {}).get("name") == kind), None) or builtin_resource(kind)
    if doc is None:
        raise ScaleError(f"no KwokctlResource named {kind!r} (built in: node, pod; add one with --config)")
    try:
        template = GoTemplate(doc.get("template") or "", f"KwokctlResource/{kind}", scale_function_map())
    except TemplateError as e:
        raise ScaleError(str(e)) from None
    return ScaleResource(kind, copy.deepcopy(doc.get("parameters") or {}), template)


def apply_params(parameters: dict[str, Any], params: list[str]) -> dict[str, Any]:
    if not params:
        return parameters
    import jq

    for expr in params:
        try:
            parameters = jq.compile(expr).input_value(parameters).first()
        except ValueError as e:
            raise ScaleError(f"--param {expr!r}: {e}") from None
    return parameters


def render(res: ScaleResource, parameters: dict[str, Any], name: str, namespace: str, index: int,
           label: str) -> dict[str, Any]:
    """One object, rendered the plain way (the reference the fast path is checked against)."""
    from kwok.engine.gotemplate import TemplateError
    from kwok.engine.ipam import add_cidr, add_ip

    funcs: dict[str, Callable[..., Any]] = {
        "Name": lambda: name,
        "Namespace": lambda: namespace,
        "Index": lambda: index,
        "AddCIDR": add_cidr,
        "AddIP": add_ip,
    }
    try:
        text = res.template.render(parameters, funcs)
    except TemplateError as e:
        raise ScaleError(str(e)) from None
    return parse_rendered(text, res.kind, label)


@dataclass
class RestTarget:
    group_version: str
    plural: str
    namespaced: bool


async def discover(client: Client, api_version: str, kind: str) -> RestTarget:
    path = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    found = await client.request("GET", path)
    assert isinstance(found, dict)
    for r in found.get("resources") or []:
        if r.get("kind") == kind and "/" not in r.get("name", ""):
            return RestTarget(api_version, r["name"], bool(r.get("namespaced")))
    raise ScaleError(f"the server does not serve {kind} in {api_version}")


def serial_name(name: str, serial: int, length: int) -> str:
    return f"{name}-{serial:0{length}d}" if length > 0 else name


# Only names and creation times are needed of the objects already there.
_METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"


async def scale(client: Client, res: ScaleResource, name: str, replicas: int, namespace: str,
                params: list[str], serial_length: int, progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Returns (created, deleted)."""
    if replicas > 1 and serial_length <= 0:
        raise ScaleError("--serial-length must be greater than 0 when --replicas is greater than 1")
    parameters = apply_params(res.parameters, params)
    sample = render(res, parameters, serial_name(name, 0, serial_length), namespace, 0, name)
    target = await discover(client, sample["apiVersion"], sample["kind"])
    api = client.resource(target.group_version, target.plural)
    ns = (sample["metadata"].get("namespace") or namespace or "default") if target.namespaced else None
    existing = await _list_metadata(client, api.path(ns), f"{SCALE_LABEL}={name}")
    if replicas >= len(existing):
        todo = _missing(name, existing, replicas, serial_length)
        return await _create(client, api.path(ns), res, parameters, name, ns or "", todo, progress), 0
    return 0, await _delete(client, api, ns, existing, replicas, progress)


async def _list_metadata(client: Client, path: str, selector: str) -> list[dict[str, Any]]:
    """The matching objects' metadata, in pages of LIST_PAGE (as kubectl lists)."""
    items: list[dict[str, Any]] = []
    token = ""
    while True:
        params = {"labelSelector": selector, "limit": LIST_PAGE, "continue": token or None}
        page = await client.request("GET", path, params=params, headers={"Accept": _METADATA_ONLY})
        if not isinstance(page, dict):
            raise ScaleError(f"listing {path}: unexpected reply")
        items += page.get("items") or []
        token = (page.get("metadata") or {}).get("continue") or ""
        if not token:
            return items


def _missing(name: str, existing: list[dict[str, Any]], replicas: int, serial_length: int) -> list[tuple[str, int]]:
    """(object name, serial) of the objects to create: the lowest serials not taken."""
    taken = {o["metadata"]["name"] for o in existing}
    todo: list[tuple[str, int]] = []
    serial = 0
    while len(todo) + len(existing) < replicas:
        candidate = serial_name(name, serial, serial_length)
        if candidate not in taken:
            todo.append((candidate, serial))
        serial += 1
    return todo


async def _pool(jobs: Iterator[Callable[[], Any]], progress: Callable[[int], None] | None) -> None:
    """Run the jobs IN_FLIGHT at a time: a few workers pulling from one iterator, rather than one
    coroutine per object (5,000 of them cost more to schedule than the requests they wrap)."""
    async def worker() -> None:
        for job in jobs:
            await job()
            if progress:
                progress(1)

    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))


async def _create(client: Client, path: str, res: ScaleResource, parameters: dict[str, Any], name: str,
                  namespace: str, todo: list[tuple[str, int]], progress: Callable[[int], None] | None) -> int:
    if not todo:
        return 0
    maker = BodyMaker.build(res.template, parameters, namespace, name,
                            lambda n, i: render(res, parameters, n, namespace, i, name), todo)

    def job(obj_name: str, index: int) -> Callable[[], Any]:
        async def create() -> None:
            try:
                await client.request("POST", path, maker.body(obj_name, index), decode=False)
            except ApiError as e:
                if not e.is_already_exists:
                    raise ScaleError(f"creating {obj_name}: {e.message}") from None

        return create

    await _pool((job(n, i) for n, i in todo), progress)
    return len(todo)


async def _delete(client: Client, api: Any, namespace: str | None, existing: list[dict[str, Any]], replicas: int,
                  progress: Callable[[int], None] | None) -> int:
    ordered = sorted(existing, key=lambda o: (o["metadata"].get("creationTimestamp", ""), o["metadata"]["name"]))
    victims = [o["metadata"]["name"] for o in ordered[replicas:]]

    def job(obj_name: str) -> Callable[[], Any]:
        async def delete() -> None:
            try:
                await client.request("DELETE", api.path(namespace, obj_name), decode=False)
            except ApiError as e:
                if not e.is_not_found:
                    raise ScaleError(f"deleting {obj_name}: {e.message}") from None

        return delete

    await _pool((job(n) for n in victims), progress)
    return len(victims)
