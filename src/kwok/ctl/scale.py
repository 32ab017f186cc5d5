"""`kwokctl scale`: bring the number of objects made from a KwokctlResource template to N.

Objects are named `<name>-<serial>` (zero-padded to --serial-length), labelled
`kwok.x-k8s.io/kwokctl-scale=<name>`; scaling down deletes the newest first and keeps the oldest
(creationTimestamp, then name), as KWOK does. `--param` are jq assignments applied in order to the
template's parameters (`.nodeName="fake-node-000000"`).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jq
import yaml

from kwok.client import ApiError, Client
from kwok.engine.gotemplate import GoTemplate
from kwok.engine.ipam import add_cidr, add_ip
from kwok.engine.templatefuncs import scale_function_map

SCALE_LABEL = "kwok.x-k8s.io/kwokctl-scale"
IN_FLIGHT = 64


class ScaleError(Exception):
    pass


@dataclass
class ScaleResource:
    kind: str
    parameters: dict[str, Any]
    template: GoTemplate


def builtin_resource(kind: str) -> dict[str, Any] | None:
    try:
        text = resources.files("kwok.ctl").joinpath(f"resources/{kind}.yaml").read_text()
    except FileNotFoundError:
        return None
    doc = yaml.load(text, Loader=yaml.CSafeLoader)
    return doc if isinstance(doc, dict) else None


def load_resource(kind: str, documents: list[dict[str, Any]]) -> ScaleResource:
    """A KwokctlResource named `kind` from the config, else the built-in node/pod one."""
    doc = next((d for d in documents if d.get("kind") == "KwokctlResource"
                and (d.get("metadata") or {}).get("name") == kind), None) or builtin_resource(kind)
    if doc is None:
        raise ScaleError(f"no KwokctlResource named {kind!r} (built in: node, pod; add one with --config)")
    template = GoTemplate(doc.get("template") or "", f"KwokctlResource/{kind}", scale_function_map())
    return ScaleResource(kind, copy.deepcopy(doc.get("parameters") or {}), template)


def apply_params(parameters: dict[str, Any], params: list[str]) -> dict[str, Any]:
    for expr in params:
        try:
            parameters = jq.compile(expr).input_value(parameters).first()
        except ValueError as e:
            raise ScaleError(f"--param {expr!r}: {e}") from None
    return parameters


def render(res: ScaleResource, parameters: dict[str, Any], name: str, namespace: str, index: int) -> dict[str, Any]:
    funcs: dict[str, Callable[..., Any]] = {
        "Name": lambda: name,
        "Namespace": lambda: namespace,
        "Index": lambda: index,
        "AddCIDR": add_cidr,
        "AddIP": add_ip,
    }
    text = res.template.render(parameters, funcs)
    obj = yaml.load(text, Loader=yaml.CSafeLoader)
    if not isinstance(obj, dict) or "kind" not in obj or "apiVersion" not in obj:
        raise ScaleError(f"KwokctlResource {res.kind!r} rendered no object with apiVersion and kind")
    labels = obj.setdefault("metadata", {}).setdefault("labels", {}) or {}
    labels[SCALE_LABEL] = name.rsplit("-", 1)[0] if "-" in name else name
    obj["metadata"]["labels"] = labels
    return obj


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


async def scale(client: Client, res: ScaleResource, name: str, replicas: int, namespace: str,
                params: list[str], serial_length: int, progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Returns (created, deleted)."""
    if replicas > 1 and serial_length <= 0:
        raise ScaleError("--serial-length must be greater than 0 when --replicas is greater than 1")
    parameters = apply_params(res.parameters, params)
    sample = render(res, parameters, serial_name(name, 0, serial_length), namespace, 0)
    target = await discover(client, sample["apiVersion"], sample["kind"])
    api = client.resource(target.group_version, target.plural)
    ns = (sample["metadata"].get("namespace") or namespace or "default") if target.namespaced else None
    existing = (await api.list(namespace=ns, label_selector=f"{SCALE_LABEL}={name}")).get("items") or []
    if replicas >= len(existing):
        return await _create(api, res, parameters, name, ns or "", existing, replicas, serial_length, progress), 0
    return 0, await _delete(api, ns, existing, replicas, progress)


async def _bounded(jobs: list[Any], progress: Callable[[int], None] | None) -> None:
    sem = asyncio.Semaphore(IN_FLIGHT)

    async def run(job: Any) -> None:
        async with sem:
            await job
        if progress:
            progress(1)

    await asyncio.gather(*(run(j) for j in jobs))


async def _create(api: Any, res: ScaleResource, parameters: dict[str, Any], name: str, namespace: str,
                  existing: list[dict[str, Any]], replicas: int, serial_length: int,
                  progress: Callable[[int], None] | None) -> int:
    taken = {o["metadata"]["name"] for o in existing}
    todo: list[tuple[str, int]] = []
    serial = 0
    while len(todo) + len(existing) < replicas:
        candidate = serial_name(name, serial, serial_length)
        if candidate not in taken:
            todo.append((candidate, serial))
        serial += 1

    async def create(obj_name: str, index: int) -> None:
        obj = render(res, parameters, obj_name, namespace, index)
        obj["metadata"]["labels"][SCALE_LABEL] = name
        try:
            await api.create(obj, namespace=namespace or None)
        except ApiError as e:
            if not e.is_already_exists:
                raise ScaleError(f"creating {obj_name}: {e.message}") from None

    await _bounded([create(n, i) for n, i in todo], progress)
    return len(todo)


async def _delete(api: Any, namespace: str | None, existing: list[dict[str, Any]], replicas: int,
                  progress: Callable[[int], None] | None) -> int:
    ordered = sorted(existing, key=lambda o: (o["metadata"].get("creationTimestamp", ""), o["metadata"]["name"]))
    victims = ordered[replicas:]

    async def delete(obj: dict[str, Any]) -> None:
        try:
            await api.delete(obj["metadata"]["name"], namespace=namespace)
        except ApiError as e:
            if not e.is_not_found:
                raise ScaleError(f"deleting {obj['metadata']['name']}: {e.message}") from None

    await _bounded([delete(o) for o in victims], progress)
    return len(victims)
