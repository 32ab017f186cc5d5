"""Objects read through another served version than the one they were written with.

Objects are stored once per resource, in the version of their last write. A resource served in
several versions (a CRD with `conversion: None`, autoscaling v1/v2) answers in the version of the
URL; without a conversion webhook the real server changes only `apiVersion`, which is what this does.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson

Rewrite = Callable[[bytes], bytes]


def rewriter(group_version: str) -> Rewrite:
    marker = f'"apiVersion":"{group_version}"'.encode()

    def rewrite(data: bytes) -> bytes:
        if marker in data[:256]:      # written through this version already: nothing to change
            return data
        obj = orjson.loads(data)
        obj["apiVersion"] = group_version
        return orjson.dumps(obj)

    return rewrite
