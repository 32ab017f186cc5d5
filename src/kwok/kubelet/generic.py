"""GenericController: stages for any kind other than v1 Node and v1 Pod (KWOK's StageController).

One per distinct resourceRef. It resolves the kind to a resource (built-in or discovered CRD),
watches every object of it cluster-wide and plays the stages with a single worker, using merge
patches by default and only the environment template functions (Now, Version, ...).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

from kwok.client import ApiError, Backoff, Client, Informer, object_key
from kwok.engine.gotemplate import TemplateFunc
from kwok.engine.lifecycle import Lifecycle
from kwok.kubelet.actions import ActionRunner
from kwok.kubelet.logonce import LogOnce
from kwok.kubelet.mapper import RESTMapper
from kwok.kubelet.metrics import Metrics
from kwok.kubelet.mirror import strip_managed_fields
from kwok.kubelet.player import StagePlayer

log = logging.getLogger("kwok.kubelet.generic")


class GenericController:
    def __init__(
        self,
        client: Client,
        mapper: RESTMapper,
        api_group: str,
        kind: str,
        lifecycle: Lifecycle,
        runner: ActionRunner,
        metrics: Metrics,
        env: Callable[[dt.datetime], dict[str, TemplateFunc]],
    ) -> None:
        self.api_group = api_group
        self.kind = kind
        self.lifecycle = lifecycle
        self.player: StagePlayer | None = None
        self.informer: Informer | None = None
        self._client = client
        self._mapper = mapper
        self._runner = runner
        self._metrics = metrics
        self._env = env
        self._problems = LogOnce(log)

    def __repr__(self) -> str:
        return f"GenericController({self.api_group} {self.kind})"

    def set_lifecycle(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        if self.player is not None and self.informer is not None:
            self.player.lifecycle = lifecycle
            for obj in list(self.informer.store.values()):
                self.player.preprocess(obj)

    async def run(self) -> None:
        mapping = await self._resolve()
        res = self._client.resource(mapping.group_version, mapping.plural)
        self.player = StagePlayer(
            resource=res,
            api_group=self.api_group,
            kind=self.kind,
            lifecycle=self.lifecycle,
            parallelism=1,
            funcs=self._funcs,
            runner=self._runner,
            metrics=self._metrics,
        )
        self.informer = Informer(res, transform=strip_managed_fields)
        self.informer.add_handler(self._on_event)
        self._metrics.track_queue(self.kind, lambda: len(self.player.queue) if self.player else 0)
        log.info("simulating %s %s (%s)", self.api_group, self.kind, mapping.plural)
        async with asyncio.TaskGroup() as group:
            group.create_task(self.informer.run())
            group.create_task(self.player.run())

    async def _resolve(self) -> Any:
        backoff = Backoff(initial=1.0, cap=60.0)
        while True:
            try:
                return await self._mapper.mapping(self.api_group, self.kind)
            except (LookupError, ApiError) as err:
                self._problems.warning(str(err), "stages for %s %s: %s; waiting for it", self.api_group, self.kind, err)
            await asyncio.sleep(backoff.next_delay())

    def _on_event(self, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        assert self.player is not None
        if kind == "DELETED":
            self.player.forget(object_key(obj))
        else:
            self.player.preprocess(obj)

    def _funcs(self, obj: dict[str, Any], now: dt.datetime) -> Mapping[str, TemplateFunc]:
        return self._env(now)
