"""Storage of the API server: one interface (`Store`), an in-memory MVCC index, durable backends.

`Store` keeps every object once as JSON bytes plus the few indexed fields, assigns resourceVersions
from one cluster-wide counter, keeps a window of recent events for watches, and writes through to a
`Backend` (SQLite file, or nothing) before a write is acknowledged.
"""

from kwok.apiserver.storage.base import Backend, Entry, Event, Expired, PreconditionFailed
from kwok.apiserver.storage.memory import Store

__all__ = ["Backend", "Entry", "Event", "Expired", "PreconditionFailed", "Store"]
