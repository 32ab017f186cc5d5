"""What the controllers' informers keep of the objects they watch."""

from __future__ import annotations

from typing import Any


def strip_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """Informer transform: managedFields are large and never read by stages.

    Writing back an object without them (a lease renewal) leaves the server's record as it is:
    an update that omits managedFields keeps the existing ones.
    """
    meta = obj.get("metadata")
    if meta and "managedFields" in meta:
        del meta["managedFields"]
    return obj
