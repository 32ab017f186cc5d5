"""Functions of kwok.api modules that other engineers may still be writing.

The server looks them up at call time so that it runs (with a simpler fallback) before they land
and uses them as soon as they do, without a restart of development.
"""

from __future__ import annotations

import importlib
from typing import Any


def optional(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
