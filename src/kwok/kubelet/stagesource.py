"""Where Stages come from: fixed from --config, or watched live from the cluster (--enable-crds=Stage).

With the CRD, every change of a Stage recompiles the set and hands it to the controller, which
re-evaluates the objects of the kinds concerned: a Stage applied while running takes effect
without a restart. A Stage that does not compile is reported once and left out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kwok.client import Client, Informer
from kwok.engine.lifecycle import StageSet
from kwok.engine.stage import Stage, StageError
from kwok.kubelet.logonce import LogOnce

log = logging.getLogger("kwok.kubelet.stages")


class WatchedStages:
    def __init__(self, client: Client, on_change: Callable[[StageSet], None]) -> None:
        self.informer = Informer(client.resource("kwok.x-k8s.io/v1alpha1", "stages"))
        self.informer.add_handler(self._changed)
        self._on_change = on_change
        self._compiled: dict[str, tuple[str, Stage | None]] = {}  # name -> (resourceVersion, stage)
        self._problems = LogOnce(log)

    async def run(self) -> None:
        await self.informer.run()

    def _changed(self, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        name = obj["metadata"]["name"]
        if kind == "DELETED":
            self._compiled.pop(name, None)
            log.info("stage %s deleted", name)
        else:
            self._compiled[name] = (obj["metadata"].get("resourceVersion", ""), self._compile(obj))
        self._on_change(StageSet(s for _, s in self._compiled.values() if s is not None))

    def _compile(self, obj: dict[str, Any]) -> Stage | None:
        name = obj["metadata"]["name"]
        try:
            stage = Stage.compile(obj)
        except (StageError, ValueError) as err:
            self._problems.error(("stage", name, str(err)), "stage %s is invalid and ignored: %s", name, err)
            return None
        log.info("stage %s loaded (%s %s)", name, stage.api_group, stage.kind)
        return stage
