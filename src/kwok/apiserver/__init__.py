"""The embedded Kubernetes API server: `kwok apiserver`.

Request flow, by module:

    server.py     process: options, listeners (HTTP, HTTPS with optional client certs, Unix socket), shutdown
    app.py        aiohttp application: non-resource endpoints, errors as Status, identity, metrics, logs
    routing.py    resource URLs -> Target (group, version, resource, namespace, name, subresource)
    resources.py  every verb on collections, objects and subresources (no kind is special-cased)
    flow.py       the write path: server metadata, strategy hooks, admission, managedFields, storage
    listing.py    selectors, limit/continue, resourceVersion semantics
    watch.py      watch streams (shared pre-encoded events, bookmarks, initial events, selectors)
    discovery.py  legacy and aggregated discovery; openapi.py: /openapi/v3 documents
    storage/      the MVCC index (memory.py) and durable backends (sqlite.py)
    catalog.py    served resources (built-in from the schema, custom ones registered by crd.py)
    registry.py   the Strategy / admission / subresource CONTRACT with the per-kind semantics

Start one in-process with `build_app(Server(Store(), Catalog.builtin()))`, or run
`kwok apiserver --port 0 --data-dir DIR` as a process.
"""
