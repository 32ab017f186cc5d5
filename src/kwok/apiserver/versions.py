"""Objects read through another served version than the one they were written with.

Objects are stored once per resource, in the version of their last write. A resource served in
several versions answers in the version of the URL. Without a conversion webhook the real server
changes only `apiVersion` (a CRD with `conversion: None`); HorizontalPodAutoscalers convert between
autoscaling/v1 and v2 as kube-apiserver converts them (see hpaconversion).

Besides reads, the request flow converts the stored object before applying a patch or an update
to it (`as_served`), so that the written object and the one it replaces are in the same version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from kwok.apiserver import hpaconversion
from kwok.apiserver.catalog import Catalog, Served

Rewrite = Callable[[bytes], bytes]
_CONVERTED = {("autoscaling", "HorizontalPodAutoscaler"): hpaconversion.convert}


def rewriter(group_version: str) -> Rewrite:
    marker = f'"apiVersion":"{group_version}"'.encode()

    def rewrite(data: bytes) -> bytes:
        if marker in data[:256]:      # written through this version already: nothing to change
            return data
        return orjson.dumps(convert(orjson.loads(data), group_version))

    return rewrite


def convert(obj: dict[str, Any], group_version: str) -> dict[str, Any]:
    """The object in another version of its resource (the same dict when nothing changes)."""
    if obj.get("apiVersion") == group_version:
        return obj
    group = group_version.rpartition("/")[0]
    conversion = _CONVERTED.get((group, obj.get("kind", "")))
    if conversion is not None:
        return conversion(obj, group_version)
    obj["apiVersion"] = group_version
    return obj


def as_served(catalog: Catalog, served: Served, data: bytes) -> bytes:
    """Stored bytes in the version `served` answers in."""
    return data if catalog.versions_of(served.key) < 2 else rewriter(served.info.group_version)(data)
