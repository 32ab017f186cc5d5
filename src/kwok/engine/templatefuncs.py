"""KWOK's template functions (pkg/utils/gotpl/funcs.go and the controllers' function maps).

Three families:
* static, available everywhere: Quote, YAML, NodeConditions;
* per environment, bound by the caller at render time: Now, now, StartTime, Version, and for the
  node and pod controllers NodeIP, NodeName, NodePort, PodIP, NodeIPWith, NodeIPsWith, PodIPWith,
  PodIPsWith; for `kwokctl scale` templates Name, Namespace, Index, AddCIDR, AddIP;
* the deterministic stubs `kwok stage test --stub-functions` uses in place of the second family.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import orjson
import yaml

from kwok.engine.gotemplate import FunctionMap, TemplateFunc, plain_numbers

ENVIRONMENT = ("Now", "now", "StartTime", "Version")
NODE_FUNCS = ("NodeIP", "NodeName", "NodePort")
POD_FUNCS = ("NodeIP", "PodIP", "NodeIPWith", "NodeIPsWith", "PodIPWith", "PodIPsWith")
SCALE_FUNCS = ("Name", "Namespace", "Index", "AddCIDR", "AddIP")

# Functions the upstream stage tests replace by stubs (see /work/shared/upstream/README.md).
STUBBED_SCALAR = (
    "NodeIP",
    "NodeName",
    "NodePort",
    "PodIP",
    "NodeIPWith",
    "PodIPWith",
    "Now",
    "now",
    "Version",
)
STUBBED_PAIR = ("NodeIPsWith", "PodIPsWith")

_NODE_CONDITIONS = (
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("NetworkUnavailable", "False", "RouteCreated", "RouteController created a route"),
)


def go_json(value: Any) -> str:
    """encoding/json.Marshal: like orjson, but HTML-escaping <, > and & as Go does."""
    text = orjson.dumps(plain_numbers(value), option=orjson.OPT_NON_STR_KEYS).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def quote(value: Any) -> str:
    """Quote: JSON-encode; a non-string result is itself quoted (`3` -> `"3"`, nil -> `"null"`)."""
    try:
        data = go_json(value)
    except TypeError:
        data = str(value)
    if data.startswith('"'):
        return data
    return go_json(data)


def to_yaml(value: Any, indent: int = 0) -> str:
    """YAML x [n]: sigs.k8s.io/yaml output; with n > 0 a leading newline and every line indented 2n."""
    text: str = yaml.dump(
        plain_numbers(value), Dumper=yaml.CSafeDumper, default_flow_style=False, sort_keys=True
    )
    if indent <= 0:
        return text
    prefix = "  " * indent
    return "\n" + "\n".join(prefix + line for line in text.rstrip("\n").split("\n"))


def node_conditions() -> list[dict[str, str]]:
    """The five conditions a healthy kubelet reports."""
    return [{"type": t, "status": s, "reason": r, "message": m} for t, s, r, m in _NODE_CONDITIONS]


STATIC: Mapping[str, TemplateFunc] = {"Quote": quote, "YAML": to_yaml, "NodeConditions": node_conditions}


def rfc3339nano(when: dt.datetime) -> str:
    """Go's time.RFC3339Nano: fraction without trailing zeros, `Z` for UTC."""
    when = when.astimezone(dt.UTC) if when.tzinfo else when.replace(tzinfo=dt.UTC)
    text = (
        f"{when.year:04d}-{when.month:02d}-{when.day:02d}T{when.hour:02d}:{when.minute:02d}:{when.second:02d}"
    )
    if when.microsecond:
        text += ("." + f"{when.microsecond:06d}").rstrip("0")
    return text + "Z"


def environment_funcs(now: dt.datetime, start_time: dt.datetime, version: str) -> dict[str, TemplateFunc]:
    """Now / StartTime / Version bound to the caller's clock and build."""
    # Formatted when first called: the controller binds these for every plan, few templates
    # read StartTime, and a plan on the compiled path may call Now once.
    return {
        "Now": _formatted_once(now),
        "now": lambda: now,
        "StartTime": _formatted_once(start_time),
        "Version": lambda: version,
    }


def _formatted_once(when: dt.datetime) -> Callable[[], str]:
    text: list[str] = []

    def call() -> str:
        if not text:
            text.append(rfc3339nano(when))
        return text[0]

    return call


def function_map_for(api_group: str, kind: str) -> FunctionMap:
    """The functions a Stage for this resource may call, as in KWOK's controllers."""
    dynamic: tuple[str, ...] = ENVIRONMENT
    if api_group == "v1" and kind == "Node":
        dynamic += NODE_FUNCS
    elif api_group == "v1" and kind == "Pod":
        dynamic += POD_FUNCS
    return _cached_map(dynamic)


def scale_funcs(name: str, namespace: str, index: int) -> dict[str, TemplateFunc]:
    """Name, Namespace, Index, AddCIDR, AddIP for one object of `kwokctl scale`."""
    from kwok.engine.ipam import add_cidr, add_ip

    return {
        "Name": lambda: name,
        "Namespace": lambda: namespace,
        "Index": lambda: index,
        "AddCIDR": lambda cidr, i: add_cidr(str(cidr), int(i)),
        "AddIP": lambda ip, i: add_ip(str(ip), int(i)),
    }


def scale_function_map() -> FunctionMap:
    return _cached_map(ENVIRONMENT + SCALE_FUNCS)


_MAPS: dict[tuple[str, ...], FunctionMap] = {}


def _cached_map(dynamic: tuple[str, ...]) -> FunctionMap:
    found = _MAPS.get(dynamic)
    if found is None:
        found = _MAPS[dynamic] = FunctionMap(STATIC, dynamic)
    return found


def go_sharp_v(value: Any) -> str:
    """fmt's %#v for the scalar arguments the stubs show."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return go_json(value).replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&")
    return str(value)


def _call_text(name: str, args: tuple[Any, ...]) -> str:
    if not args:
        return name
    return f"{name}({', '.join(go_sharp_v(a) for a in args)})"


def _scalar_stub(name: str) -> Callable[..., str]:
    return lambda *args: f"<{_call_text(name, args)}>"


def _pair_stub(name: str) -> Callable[..., list[str]]:
    return lambda *args: [f"<{i} of {_call_text(name, args)}>" for i in (0, 1)]


def stub_funcs() -> dict[str, TemplateFunc]:
    """Deterministic stand-ins for the environment-dependent functions (upstream stage tests)."""
    funcs: dict[str, TemplateFunc] = {name: _scalar_stub(name) for name in STUBBED_SCALAR}
    funcs.update({name: _pair_stub(name) for name in STUBBED_PAIR})
    return funcs
