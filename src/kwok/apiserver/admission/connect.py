"""CONNECT: admission of the streaming subresources (pods/exec, attach, portforward, proxy).

As kube-apiserver's ConnectResource does, the request's query becomes the subresource's options
object (PodExecOptions, PodAttachOptions, PodPortForwardOptions, *ProxyOptions, apiVersion v1),
which goes through the mutating then the validating admission chain with operation CONNECT, no
oldObject and no operation options, before anything is dialled. Mutating webhooks may patch the
options (the stream then uses the patched ones); a denial ends the request with its Status.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kwok.api import errors
from kwok.apiserver.registry import AdmissionPlugin, AdmissionRequest, Lookup, RequestRejected

Obj = dict[str, Any]
Field = Callable[[list[str]], Any]


def _flag(values: list[str]) -> bool:
    # runtime.Convert_Slice_string_To_bool: only absence, "0" and "false" are false ("" is true)
    return bool(values) and values[0] != "0" and values[0].lower() != "false"


def _text(values: list[str]) -> str:
    return values[0] if values else ""


def _ports(values: list[str]) -> list[int]:
    ports = []
    for value in values:
        for part in value.split(","):
            if not part.isdigit() or int(part) > 0xFFFF:
                raise errors.bad_request(f'cannot convert to []int32: strconv.ParseUint: parsing "{part}": '
                                         f"{'value out of range' if part.isdigit() else 'invalid syntax'}")
            ports.append(int(part))
    return ports


_STREAM: dict[str, Field] = {"stdin": _flag, "stdout": _flag, "stderr": _flag, "tty": _flag, "container": _text}
_OPTIONS: dict[tuple[str, str], tuple[str, dict[str, Field]]] = {
    ("pods", "exec"): ("PodExecOptions", {**_STREAM, "command": list}),
    ("pods", "attach"): ("PodAttachOptions", _STREAM),
    ("pods", "portforward"): ("PodPortForwardOptions", {"ports": _ports}),
    ("pods", "proxy"): ("PodProxyOptions", {"path": _text}),
    ("nodes", "proxy"): ("NodeProxyOptions", {"path": _text}),
    ("services", "proxy"): ("ServiceProxyOptions", {"path": _text}),
}
_ALWAYS = frozenset({"command"})        # PodExecOptions.command has no omitempty: null when absent


def is_connect(plural: str, subresource: str) -> bool:
    return (plural, subresource) in _OPTIONS


def connect_options(plural: str, subresource: str, query: Any, path: str = "") -> Obj:
    """The options object of a CONNECT request, decoded from its query (a multidict) as the
    parameter codec does (a proxy's `path` comes from the URL after the subresource)."""
    kind, fields = _OPTIONS[(plural, subresource)]
    options: Obj = {"kind": kind, "apiVersion": "v1"}
    for name, convert in fields.items():
        values = [path] if name == "path" and path else list(query.getall(name, ()))
        value = convert(values) if values else None
        if value or name in _ALWAYS:
            options[name] = value
    return options


async def admit(plugins: Sequence[AdmissionPlugin], lookup: Lookup, req: AdmissionRequest) -> None:
    """The admission chain for a CONNECT (req.obj is the options object, patched in place)."""
    try:
        for plugin in plugins:
            if plugin.handles(req):
                await plugin.admit(req, lookup)
        for plugin in plugins:
            if plugin.handles(req):
                await plugin.validate(req, lookup)
    except RequestRejected as rejected:
        raise errors.ApiError(rejected.status) from None
