"""Events (core/v1 and events.k8s.io/v1): the field selectors `kubectl describe` lists them by."""

from __future__ import annotations

from kwok.apiserver.registry import Obj, register
from kwok.apiserver.strategies.base import KindStrategy

_INVOLVED = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")


@register("", "events")
class EventStrategy(KindStrategy):
    bumps_generation = False

    def field_values(self, obj: Obj) -> dict[str, str]:
        out = super().field_values(obj)
        involved = obj.get("involvedObject") or {}
        for key in _INVOLVED:
            out[f"involvedObject.{key}"] = str(involved.get(key, ""))
        out["reason"] = obj.get("reason", "")
        out["reportingComponent"] = obj.get("reportingComponent", "")
        out["source"] = (obj.get("source") or {}).get("component", "") or obj.get("reportingComponent", "")
        out["type"] = obj.get("type", "")
        return out


@register("events.k8s.io", "events")
class EventsV1Strategy(KindStrategy):
    bumps_generation = False

    def field_values(self, obj: Obj) -> dict[str, str]:
        out = super().field_values(obj)
        regarding = obj.get("regarding") or {}
        for key in _INVOLVED:
            out[f"regarding.{key}"] = str(regarding.get(key, ""))
        out["reason"] = obj.get("reason", "")
        out["reportingController"] = obj.get("reportingController", "")
        out["type"] = obj.get("type", "")
        return out
