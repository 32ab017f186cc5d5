"""ServiceAccount controller: every active namespace has a `default` ServiceAccount.

It is created when the namespace appears and again if someone deletes it; terminating namespaces
are left alone (the API server would refuse the create anyway).
"""

from __future__ import annotations

from typing import Any

from kwok.client import ApiError
from kwok.controlplane.controllers.base import Controller

DEFAULT_ACCOUNTS = ("default",)


class ServiceAccountController(Controller):
    name = "serviceaccount"
    component = "service-account-controller"

    def setup(self) -> None:
        self.namespaces = self.ctx.informer("v1", "namespaces")
        self.accounts = self.ctx.informer("v1", "serviceaccounts")
        self.namespaces.add_handler(self._on_namespace)
        self.accounts.add_handler(self._on_account)

    def _on_namespace(self, kind: str, ns: dict[str, Any], old: dict[str, Any] | None) -> None:
        if kind != "DELETED":
            self.queue.add(ns["metadata"]["name"])

    def _on_account(self, kind: str, sa: dict[str, Any], old: dict[str, Any] | None) -> None:
        if kind == "DELETED" and sa["metadata"]["name"] in DEFAULT_ACCOUNTS:
            self.queue.add(sa["metadata"].get("namespace", ""))

    async def sync(self, namespace: str) -> None:
        ns = self.namespaces.store.get(namespace)
        if ns is None or ns["metadata"].get("deletionTimestamp") or (ns.get("status") or {}).get("phase") == "Terminating":
            return
        res = self.client.resource("v1", "serviceaccounts")
        for name in DEFAULT_ACCOUNTS:
            if f"{namespace}/{name}" in self.accounts.store:
                continue
            body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}}
            try:
                await res.create(body, namespace)
            except ApiError as err:
                if not (err.is_already_exists or err.is_not_found or err.status == 403):
                    raise
