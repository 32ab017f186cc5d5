"""Storage of the API server: one interface (`Store`), an in-memory MVCC index, durable backends.

`Store` keeps every object once as JSON bytes plus the few indexed fields, assigns resourceVersions
from one cluster-wide counter, keeps a window of recent events for watches, and writes through to a
`Backend` (SQLite file, or nothing) before a write is acknowledged.

An etcd backend fits the same `Backend` protocol for a single API server (etcd's revision becomes
the resourceVersion); several API servers on one etcd would additionally feed each index from
etcd's watch instead of from their own writes.
"""

from kwok.apiserver.storage.base import Backend, Entry, Event, Expired, PreconditionFailed
from kwok.apiserver.storage.memory import Store

__all__ = ["Backend", "Entry", "Event", "Expired", "PreconditionFailed", "Store"]
