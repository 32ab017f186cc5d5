"""Configuration and identity kinds: ConfigMaps, Secrets, ServiceAccounts."""

from __future__ import annotations

import re

from kwok.apiserver.registry import Cause, Obj, register
from kwok.apiserver.strategies.base import KindStrategy
from kwok.apiserver.strategies.fielderrors import forbidden, immutable, invalid, required

_CONFIG_KEY = "[-._a-zA-Z0-9]+"
_CONFIG_KEY_RE = re.compile(f"^{_CONFIG_KEY}$")
MAX_DATA_BYTES = 1024 * 1024
_SA_TOKEN = "kubernetes.io/service-account-token"


def config_key_errors(key: str) -> list[str]:
    """IsConfigMapKey: the keys of ConfigMap and Secret data (they become file names)."""
    errs = []
    if len(key) > 253:
        errs.append("must be no more than 253 characters")
    if not _CONFIG_KEY_RE.match(key):
        errs.append("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
                    f"'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '{_CONFIG_KEY}')")
    if key in (".", ".."):
        errs.append(f"must not be '{key}'")
    elif key.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def _validate_data_keys(obj: Obj, fields: tuple[str, ...]) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[str] = set()
    size = 0
    for field in fields:
        for key, value in (obj.get(field) or {}).items():
            causes += [invalid(field, key, m) for m in config_key_errors(key)]
            if key in seen:
                causes.append(invalid(field, key, "duplicate of key present in " + fields[0]))
            seen.add(key)
            size += len(value or "")
    if size > MAX_DATA_BYTES:
        causes.append(Cause("FieldValueTooLong", f"Too long: must have at most {MAX_DATA_BYTES} bytes", ""))
    return causes


def _validate_immutable(new: Obj, old: Obj, fields: tuple[str, ...]) -> list[Cause]:
    causes: list[Cause] = []
    if old.get("immutable") and not new.get("immutable"):
        causes.append(forbidden("immutable", "field is immutable when `immutable` is set"))
    if old.get("immutable"):
        for field in fields:
            if (new.get(field) or {}) != (old.get(field) or {}):
                causes.append(forbidden(field, "field is immutable when `immutable` is set"))
    return causes


@register("", "configmaps")
class ConfigMapStrategy(KindStrategy):
    bumps_generation = False

    def validate_spec(self, obj: Obj) -> list[Cause]:
        return _validate_data_keys(obj, ("data", "binaryData"))

    def validate_spec_update(self, new: Obj, old: Obj) -> list[Cause]:
        return _validate_immutable(new, old, ("data", "binaryData"))


@register("", "secrets")
class SecretStrategy(KindStrategy):
    bumps_generation = False

    def default(self, obj: Obj) -> None:
        obj.setdefault("type", "Opaque")

    def validate_spec(self, obj: Obj) -> list[Cause]:
        causes = _validate_data_keys(obj, ("data",))
        kind, data = obj.get("type"), obj.get("data") or {}
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        if kind == _SA_TOKEN and not annotations.get("kubernetes.io/service-account.name"):
            causes.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
        if kind == "kubernetes.io/dockerconfigjson" and ".dockerconfigjson" not in data:
            causes.append(required("data[.dockerconfigjson]"))
        if kind == "kubernetes.io/dockercfg" and ".dockercfg" not in data:
            causes.append(required("data[.dockercfg]"))
        if kind == "kubernetes.io/basic-auth" and not ({"username", "password"} & set(data)):
            causes.append(required("data[username]"))
        if kind == "kubernetes.io/ssh-auth" and "ssh-privatekey" not in data:
            causes.append(required("data[ssh-privatekey]"))
        if kind == "kubernetes.io/tls":
            causes += [required(f"data[{k}]") for k in ("tls.crt", "tls.key") if k not in data]
        return causes

    def validate_spec_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = _validate_immutable(new, old, ("data",))
        if new.get("type") != old.get("type"):
            causes.append(immutable("type", new.get("type")))
        return causes

    def field_values(self, obj: Obj) -> dict[str, str]:
        out = super().field_values(obj)
        out["type"] = obj.get("type", "")
        return out


@register("", "serviceaccounts")
class ServiceAccountStrategy(KindStrategy):
    bumps_generation = False
    returns_deleted_object = True
