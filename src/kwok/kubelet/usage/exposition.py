"""Prometheus text exposition (format 0.0.4) as client_golang writes it.

Families are sorted by name and series by their label values, labels within a series by name;
numbers are printed like Go's strconv.FormatFloat(v, 'g', -1, 64) (`1.048576e+06`, `0.001`),
which is what scrapers and golden files compare against.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

Labels = tuple[tuple[str, str], ...]


@dataclass
class Histogram:
    buckets: list[tuple[float, float]]  # (upper bound, cumulative count), without +Inf
    count: float
    sum: float


@dataclass
class Family:
    name: str
    help: str
    kind: str  # gauge | counter | histogram
    samples: dict[Labels, float | Histogram] = field(default_factory=dict)


def go_float(value: float) -> str:
    """strconv.FormatFloat(value, 'g', -1, 64)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    if value.is_integer() and abs(value) < 1e6:
        return str(int(value))  # the common case (counts, bytes below 1e6), without Decimal
    sign, digit_tuple, exponent = Decimal(repr(float(value))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    exp10 = exponent + len(digit_tuple) - 1  # the exponent in d.ddd × 10^exp10
    prefix = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:  # Go: %e when the shortest form's exponent is outside [-4, 6)
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if exp10 < 0:
        return f"{prefix}0.{'0' * (-exp10 - 1)}{digits}"
    whole, frac = digits[: exp10 + 1].ljust(exp10 + 1, "0"), digits[exp10 + 1 :]
    return f"{prefix}{whole}.{frac}" if frac else f"{prefix}{whole}"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _series(name: str, labels: Sequence[tuple[str, str]], value: float) -> str:
    if labels:
        inner = ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels)
        return f"{name}{{{inner}}} {go_float(value)}\n"
    return f"{name} {go_float(value)}\n"


def render(families: Iterable[Family]) -> str:
    out: list[str] = []
    for family in sorted(families, key=lambda f: f.name):
        if not family.samples:
            continue  # client_golang drops families without series
        if family.help:
            out.append(f"# HELP {family.name} {_escape_help(family.help)}\n")
        out.append(f"# TYPE {family.name} {family.kind}\n")
        for labels in sorted(family.samples, key=lambda pairs: [v for _, v in pairs]):
            sample = family.samples[labels]
            if isinstance(sample, Histogram):
                out.extend(_histogram(family.name, labels, sample))
            else:
                out.append(_series(family.name, labels, sample))
    return "".join(out)


def _histogram(name: str, labels: Labels, histogram: Histogram) -> list[str]:
    lines = [_series(f"{name}_bucket", (*labels, ("le", go_float(le))), count) for le, count in histogram.buckets]
    lines.append(_series(f"{name}_bucket", (*labels, ("le", "+Inf")), histogram.count))
    lines.append(_series(f"{name}_sum", labels, histogram.sum))
    lines.append(_series(f"{name}_count", labels, histogram.count))
    return lines
