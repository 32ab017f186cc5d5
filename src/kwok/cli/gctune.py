"""Garbage-collector settings of the long-running components (API server, kwok, control plane).

CPython's defaults (a young-generation collection every 700 net allocations of containers) suit
short scripts. These processes decode and drop thousands of JSON objects a second while holding
large, long-lived caches (the API server's store, the informers' and kwok's mirrors): with the
defaults a request's temporaries are scanned before they die, get promoted, and full collections
walk the caches again and again; measured on the API server under a create/patch/delete load,
the collector took 14 % of its CPU. Reference counting frees almost all of this garbage anyway
(decoded JSON has no cycles); the collector is only needed for the rare cycles, which a larger
young generation still collects, and memory stays bounded by the threshold.
"""

from __future__ import annotations

import gc

YOUNG = 20_000        # net container allocations between young collections (CPython: 700)
MIDDLE = 20           # young collections per middle one (CPython: 10)
OLD = 10              # middle collections per full one, which CPython also holds back until 25 % growth


def tune() -> None:
    """Freeze what start-up imported (never garbage, never scanned again) and raise the thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, OLD)
