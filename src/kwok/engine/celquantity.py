"""KWOK's Quantity value inside CEL, and CEL results as metric numbers, without cel-python.

Kept apart from celfuncs (which needs cel-python's types) so that the metrics fast path
(kwok.engine.celfast) and the metric endpoints can build and read Quantities while celpy stays
unimported: loading it costs kwok ~10 MB and ~0.1 s.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kwok.api.quantity import Quantity, QuantityError


class CELQuantity:
    """A resource.Quantity inside CEL."""

    __slots__ = ("quantity",)

    def __init__(self, quantity: Quantity) -> None:
        self.quantity = quantity

    def __float__(self) -> float:
        return float(self.quantity)

    def __repr__(self) -> str:
        return f"Quantity({str(self.quantity)!r})"

    def __str__(self) -> str:
        return str(self.quantity)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CELQuantity):
            return self.quantity == other.quantity
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.quantity)


def make_quantity(text: Any) -> CELQuantity:
    """CEL's Quantity("100m"); a ValueError (CEL: "return error for overflow") when invalid."""
    try:
        return CELQuantity(Quantity(str(text)))
    except QuantityError as err:
        raise ValueError(f"Quantity({text!r}): {err}") from None


def as_float(value: Any) -> float:
    """A CEL result as a metric value: Quantity -> float, duration -> ns, bool -> 1/0."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, CELQuantity):
        return float(value)
    if isinstance(value, dt.timedelta):
        return value / dt.timedelta(microseconds=1) * 1000
    if isinstance(value, (int, float)):
        return float(value)
    raise TypeError(f"a metric value must be a number, got {type(value).__name__}")
