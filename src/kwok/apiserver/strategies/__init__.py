"""Per-kind strategies: importing this package registers every built-in kind's strategy in
kwok.apiserver.registry.STRATEGIES (one module per kind family)."""

from kwok.apiserver.strategies import (  # noqa: F401  (registration side effects)
    autoscaling,
    batch,
    cluster,
    config,
    events,
    generic,  # noqa: F401  (last: fills only what is still missing)
    pods,
    policy,
    services,
    storage,
    workloads,
)
