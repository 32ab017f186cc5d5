"""Starts the CRD controller from the first admitted request, for a server that does not start it
itself at start-up (kwok.apiserver.crd.ensure_started is idempotent, so both may). Refuses nothing."""

from __future__ import annotations

from kwok.apiserver.registry import AdmissionPlugin, AdmissionRequest, Lookup


class CustomResourceServing(AdmissionPlugin):
    name = "CustomResourceServing"

    def __init__(self) -> None:
        self.started = False

    def handles(self, req: AdmissionRequest) -> bool:
        return not self.started

    async def admit(self, req: AdmissionRequest, lookup: Lookup) -> None:
        flow = getattr(lookup, "flow", None)
        if flow is None:
            return
        from kwok.apiserver.crd import ensure_started

        ensure_started(flow, flow.catalog)
        self.started = True
