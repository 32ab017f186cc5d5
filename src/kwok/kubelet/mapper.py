"""Kind -> resource (plural, scope), as client-go's RESTMapper resolves a Stage's resourceRef.

Built-in kinds come from the shipped schema without a request; anything else (CRDs, aggregated
APIs) from the server's discovery document of that group-version, cached per group-version and
refreshed when a kind is not found (a CRD created after start).
"""

from __future__ import annotations

from dataclasses import dataclass

from kwok.api.schema import get_schema
from kwok.client import ApiError, Client


@dataclass(frozen=True)
class Mapping:
    group_version: str
    kind: str
    plural: str
    namespaced: bool


class RESTMapper:
    def __init__(self, client: Client) -> None:
        self._client = client
        self._discovered: dict[str, dict[str, Mapping]] = {}

    async def mapping(self, group_version: str, kind: str) -> Mapping:
        """Raises LookupError when the server does not serve the kind."""
        found = _builtin(group_version, kind)
        if found is not None:
            return found
        kinds = self._discovered.get(group_version)
        if kinds is None or kind.lower() not in kinds:
            kinds = self._discovered[group_version] = await self._discover(group_version)
        try:
            return kinds[kind.lower()]
        except KeyError:
            raise LookupError(f"no matches for kind {kind!r} in version {group_version!r}") from None

    async def _discover(self, group_version: str) -> dict[str, Mapping]:
        path = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        try:
            doc = await self._client.request("GET", path)
        except ApiError as err:
            if err.is_not_found:
                return {}
            raise
        kinds: dict[str, Mapping] = {}
        for res in doc.get("resources") or []:
            name = res.get("name", "")
            if "/" in name:
                continue  # a subresource
            m = Mapping(group_version, res.get("kind", ""), name, bool(res.get("namespaced")))
            # As the RESTMapper: the kind, the plural and the singular all resolve.
            for alias in (m.kind.lower(), name, res.get("singularName") or ""):
                if alias:
                    kinds.setdefault(alias.lower(), m)
        return kinds


def _builtin(group_version: str, kind: str) -> Mapping | None:
    group, _, version = group_version.rpartition("/")
    schema = get_schema()
    info = schema.resource_for_kind(group, version, kind)
    if info is None:
        lowered = kind.lower()
        info = next(
            (
                r
                for r in schema.resources
                if r.group == group and r.version == version and lowered in (r.kind.lower(), r.plural, r.singular)
            ),
            None,
        )
    if info is None:
        return None
    return Mapping(group_version, info.kind, info.plural, info.namespaced)
