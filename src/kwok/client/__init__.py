"""Async Kubernetes client: kubeconfig, transport, REST on raw JSON dicts, informers.

CONTRACT (kubelet, controlplane and ctl code against exactly this; the implementation lives in
private modules of this package and is re-exported here):

    from kwok.client import ClientConfig, Client, ApiError, Informer

    cfg = ClientConfig.load(kubeconfig=None, context=None, master=None)
        # kubeconfig file (~ expanded; $KUBECONFIG; ~/.kube/config), in-cluster service account,
        # client certs, bearer tokens, exec credential plugins (via kubernetes_asyncio's loader);
        # `master` overrides the server; a server "unix:///path/to/sock" talks HTTP over a Unix socket.
    client = Client(cfg)                 # keep-alive connections; `async with Client(cfg) as client:` or await client.close()
    res = client.resource("v1", "pods")  # group_version, plural  (e.g. "apps/v1", "deployments")
    await res.get(name, namespace=None, subresource=None) -> dict
    await res.list(namespace=None, label_selector=None, field_selector=None, limit=None,
                   continue_=None, resource_version=None) -> dict          # the List object
    async for event_type, obj in res.watch(namespace=None, label_selector=None, field_selector=None,
                                           resource_version=None, timeout_seconds=None,
                                           allow_bookmarks=True): ...
    await res.create(obj, namespace=None, subresource=None, dry_run=False, field_manager=None) -> dict
    await res.update(obj, namespace=None, subresource=None, field_manager=None) -> dict
    await res.patch(name, patch, patch_type="merge", namespace=None, subresource=None,
                    field_manager=None, force=None, impersonate=None) -> dict
        # patch_type: "json" | "merge" | "strategic" | "apply"; patch: dict/list (or bytes)
    await res.delete(name, namespace=None, grace_period_seconds=None, propagation_policy=None,
                     preconditions=None) -> dict
    await client.request(method, path, body=None, params=None, content_type=None) -> dict | bytes

    ApiError(status: int, reason: str, message: str, body: dict)   # raised on any non-2xx reply
        .is_not_found / .is_conflict / .is_already_exists / .is_retryable (conn errors, 429, 503, timeouts)

    inf = Informer(res, namespace=None, label_selector=None, field_selector=None)
    inf.add_handler(on_event)            # on_event(type: "ADDED"|"MODIFIED"|"DELETED", obj, old) ; sync or async
    task = asyncio.create_task(inf.run())   # list, then watch from the list RV; re-list on 410; backoff
    await inf.wait_synced()
    inf.store: dict[str, dict]           # key "ns/name" or "name" -> latest object

Beyond the contract (additive): ClientConfig(server=..., token=..., ca_file=...) can be built
directly; ClientConfig.load raises ConfigError; a watch ERROR event raises ApiError (410 ->
.is_gone); ApiError.status == 0 means no reply (reason ConnectionError or Timeout);
Informer(..., page_size=500, transform=fn, store_transform=fn) (transform trims objects before
handlers and store see them; store_transform shrinks only what the store keeps);
Backoff is the exponential backoff with jitter the informers use; object_key(obj) is the store key.
res.patch(..., decode=False) and client.request(..., decode=False) skip decoding a successful
reply (patch returns {}, request None): for writes whose result an informer delivers anyway.
The transport is the project's own HTTP/1.1 client (`_http11` framing, `_connection` pool), not
aiohttp's: see `_connection` for why.
"""

from kwok.client._backoff import Backoff
from kwok.client._client import PATCH_CONTENT_TYPES, Client, Resource
from kwok.client._config import ClientConfig, ConfigError, Credentials
from kwok.client._errors import ApiError
from kwok.client._http11 import Headers
from kwok.client._informer import Informer, object_key
from kwok.client._transport import HTTPTransport, Response, Transport

__all__ = [
    "PATCH_CONTENT_TYPES",
    "ApiError",
    "Backoff",
    "Client",
    "ClientConfig",
    "ConfigError",
    "Credentials",
    "HTTPTransport",
    "Headers",
    "Informer",
    "Resource",
    "Response",
    "Transport",
    "object_key",
]
