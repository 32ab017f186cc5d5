"""Kubernetes resource quantities (`resource.Quantity`), exact to the string the API server prints.

Public names:

    Quantity(text)                    parse ("100m", "1.5Gi", "1e3"); raises QuantityError
    Quantity.from_int(n, fmt)         resource.NewQuantity;   Quantity.from_milli(n, fmt) NewMilliQuantity
    Quantity.from_scaled(n, scale)    resource.NewScaledQuantity (DecimalSI)
    q.format                          DECIMAL_SI | BINARY_SI | DECIMAL_EXPONENT
    str(q)                            String()/MarshalJSON: the input when it was already canonical,
                                      else the canonical form ("1000m" -> "1", "1024Mi" -> "1Gi")
    q.value(), q.milli_value(), q.scaled_value(scale)   rounded away from zero, like Go's int64 path
    float(q), q.sign, q.is_zero
    + - (Quantity), * (int), unary -, comparisons, hash (by value: 1 == 1000m)
    parse_quantity(text) -> Quantity  same as Quantity(text)
    quantity_from_json(value) -> Quantity | None   a decoded JSON value as UnmarshalJSON takes it:
                                      a string (spaces trimmed) or a number; null gives None
    QuantityError(ValueError)         message as apimachinery's ErrFormatWrong / ErrSuffix / ErrNumeric

The value is kept exactly as `unscaled * 10**exponent` with Python integers (parsing rounds any
sub-nano remainder up to 1n, as the API server does); no float is ever involved.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Final

__all__ = [
    "BINARY_SI",
    "DECIMAL_EXPONENT",
    "DECIMAL_SI",
    "Quantity",
    "QuantityError",
    "parse_quantity",
    "quantity_from_json",
]

DECIMAL_EXPONENT: Final = "DecimalExponent"   # 12e6
BINARY_SI: Final = "BinarySI"                 # 12Mi
DECIMAL_SI: Final = "DecimalSI"               # 12M

_SPLIT_RE = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT = f"quantities must match the regular expression '{_SPLIT_RE}'"
ERR_SUFFIX = "unable to parse quantity's suffix"
ERR_NUMERIC = "unable to parse numeric part of quantity"

_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_BY_EXPONENT = {e: s for s, e in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_EXPONENT = {e: s for s, e in _BINARY_SUFFIXES.items()}
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")
_NANO = -9
_MAX_INT64 = 2**63 - 1
_MIN_INT64 = -(2**63)


class QuantityError(ValueError):
    """Text the real API server would reject as a quantity."""


# ---------------------------------------------------------------------------------------------
# exact decimal helpers: a value is (unscaled, exponent) meaning unscaled * 10**exponent


def _normalize(unscaled: int, exponent: int) -> tuple[int, int]:
    """Move trailing zeros into the exponent, so equal values have one representation."""
    if unscaled == 0:
        return 0, 0
    while unscaled % 10 == 0:
        unscaled //= 10
        exponent += 1
    return unscaled, exponent


def _magnitude(unscaled: int, exponent: int) -> int:
    """Position of the leading digit: values of larger magnitude are larger in absolute value."""
    return len(str(abs(unscaled))) + exponent


def _compare(a: tuple[int, int], b: tuple[int, int]) -> int:
    (ua, ea), (ub, eb) = a, b
    sa, sb = (ua > 0) - (ua < 0), (ub > 0) - (ub < 0)
    if sa != sb or sa == 0:
        return (sa > sb) - (sa < sb)
    ma, mb = _magnitude(ua, ea), _magnitude(ub, eb)
    if ma != mb:
        # Comparing magnitudes first avoids building 10**huge for values like 1e999999999.
        return sa if ma > mb else -sa
    e = min(ea, eb)
    x: int = ua * 10 ** (ea - e)
    y: int = ub * 10 ** (eb - e)
    return (x > y) - (x < y)


def _add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    (ua, ea), (ub, eb) = a, b
    if ua == 0:
        return b
    if ub == 0:
        return a
    e = min(ea, eb)
    return _normalize(ua * 10 ** (ea - e) + ub * 10 ** (eb - e), e)


def _round_away(numerator: int, divisor: int) -> int:
    """numerator / divisor rounded away from zero."""
    q: int = abs(numerator) // divisor
    q += 1 if abs(numerator) % divisor else 0
    return q if numerator >= 0 else -q


# ---------------------------------------------------------------------------------------------
# parsing


def _scan(text: str) -> tuple[bool, str, str, str]:
    """parseQuantityString: (positive, numerator, denominator, suffix); numerator has no leading zeros."""
    end = len(text)
    pos = 0
    positive = True
    if text[0] in "+-":
        positive = text[0] == "+"
        pos = 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "", ""
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    num = text[start:pos] or "0"
    denom = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        denom = text[start:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise QuantityError(ERR_FORMAT)
    return positive, num, denom, text[suffix_start:]


def _interpret_suffix(suffix: str) -> tuple[int, int, str]:
    """(base, exponent, format) of a suffix, as quantitySuffixer.interpret."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[1:]
        body = digits[1:] if digits[0] in "+-" else digits
        if body and body.isdigit() and body.isascii() and int(digits).bit_length() < 64:
            wrapped = (int(digits) + 2**31) % 2**32 - 2**31     # Go keeps it as an int32
            return 10, wrapped, DECIMAL_EXPONENT
    raise QuantityError(ERR_SUFFIX)


def _keeps_input_text(num: str, denom: str, base: int, exponent: int, fmt: str) -> bool:
    """Whether Go's fast path caches the input string as the canonical one.

    Go only does so when the value fits its int64 fast path and the text is already in the form
    String() would produce; a cached string is printed back verbatim (signs, leading zeros and all).
    """
    digits = num + denom
    if fmt == BINARY_SI:
        if exponent < 0 or denom:
            return False
        precision = 15 - len(num) - int(exponent * 3 / 10) - 1
        value = int(digits)
        return precision >= 0 and value << exponent <= _MAX_INT64 and value & 7 != 0
    precision = 18 - len(num) - len(denom)
    scale = exponent - len(denom)
    if precision < 0 or scale < _NANO:
        return False
    return scale % 3 == 0 and not digits.endswith("000") and digits[0] != "0"


def _exact_value(num: str, denom: str, base: int, exponent: int) -> tuple[int, int]:
    digits = int(num + denom)
    if base == 2:
        return _normalize(digits << exponent, -len(denom))
    return _normalize(digits, exponent - len(denom))


def _round_up_to_nano(unscaled: int, exponent: int) -> tuple[int, int]:
    """Any amount below 1n rounds away from zero: asking for some resource gives at least 1n."""
    if exponent >= _NANO or unscaled == 0:
        return unscaled, exponent
    shift = _NANO - exponent
    if shift > len(str(abs(unscaled))):
        return (1 if unscaled > 0 else -1), _NANO
    return _normalize(_round_away(unscaled, 10**shift), _NANO)


@lru_cache(maxsize=4096)
def _parse(text: str) -> tuple[tuple[int, int], str, str | None]:
    """(value, format, cached string) of a quantity string; cached, as the same few strings
    ("100m", "1Gi") come back for every pod."""
    if not text:
        raise QuantityError(ERR_FORMAT)
    if text == "0":
        return (0, 0), DECIMAL_SI, "0"
    positive, num, denom, suffix = _scan(text)
    base, exponent, fmt = _interpret_suffix(suffix)
    cached = text if _keeps_input_text(num, denom, base, exponent, fmt) else None
    unscaled, exp = _round_up_to_nano(*_exact_value(num, denom, base, exponent))
    if fmt == BINARY_SI and cached is None:
        if _compare((unscaled, exp), (_MAX_INT64, 0)) > 0:
            unscaled, exp = _MAX_INT64, 0      # Go caps binary amounts at the int64 maximum
        elif unscaled > 0 and _compare((unscaled, exp), (1, 0)) < 0:
            fmt = DECIMAL_SI                   # an amount below 1 cannot print in binary units
    if not positive:
        unscaled = -unscaled
    return (unscaled, exp), fmt, cached


# ---------------------------------------------------------------------------------------------
# formatting


def _canonical(value: tuple[int, int], fmt: str) -> str:
    """CanonicalizeBytes: the largest suffix that loses no precision, no fraction digits."""
    unscaled, exponent = value
    if unscaled == 0:
        return "0"
    if fmt == BINARY_SI:
        if _compare(value, (-1024, 0)) > 0 and _compare(value, (1024, 0)) < 0:
            fmt = DECIMAL_SI
        elif exponent < 0:
            fmt = DECIMAL_SI                   # not an integer: binary would round
    elif fmt not in (DECIMAL_SI, DECIMAL_EXPONENT):
        fmt = DECIMAL_EXPONENT
    if fmt == BINARY_SI:
        return _canonical_binary(unscaled * 10**exponent)
    shift = exponent % 3                       # lower the exponent to a multiple of 3
    number, exponent = unscaled * 10**shift, exponent - shift
    if fmt == DECIMAL_SI and exponent in _DECIMAL_BY_EXPONENT:
        return f"{number}{_DECIMAL_BY_EXPONENT[exponent]}"
    # DecimalSI has no suffix past E (10^18): exponent notation keeps the value intact.
    return f"{number}e{exponent}" if exponent else str(number)


def _canonical_binary(amount: int) -> str:
    power = 0
    while amount % 1024 == 0:
        amount //= 1024
        power += 10
    return f"{amount}{_BINARY_BY_EXPONENT.get(power, '')}"


# ---------------------------------------------------------------------------------------------


class Quantity:
    """An exact resource amount with the display format it was written in."""

    __slots__ = ("_value", "_format", "_text")

    def __init__(self, text: str = "0") -> None:
        self._value, self._format, self._text = _parse(text)

    @classmethod
    def _make(cls, value: tuple[int, int], fmt: str) -> Quantity:
        q = cls.__new__(cls)
        q._value, q._format, q._text = value, fmt, None
        return q

    @classmethod
    def from_int(cls, value: int, fmt: str = DECIMAL_SI) -> Quantity:
        return cls._make(_normalize(value, 0), fmt)

    @classmethod
    def from_milli(cls, value: int, fmt: str = DECIMAL_SI) -> Quantity:
        return cls._make(_normalize(value, -3), fmt)

    @classmethod
    def from_scaled(cls, value: int, scale: int) -> Quantity:
        return cls._make(_normalize(value, scale), DECIMAL_SI)

    @property
    def format(self) -> str:
        return self._format

    @property
    def sign(self) -> int:
        u = self._value[0]
        return (u > 0) - (u < 0)

    @property
    def is_zero(self) -> bool:
        return self._value[0] == 0

    def scaled_value(self, scale: int) -> int:
        """The value in units of 10**scale, rounded away from zero; saturates at the int64 range
        (Go's result overflows there)."""
        unscaled, exponent = self._value
        if unscaled == 0:
            return 0
        shift = exponent - scale
        if _magnitude(unscaled, shift) > 20:
            return _MAX_INT64 if unscaled > 0 else _MIN_INT64
        if shift >= 0:
            result: int = unscaled * 10**shift
        elif -shift > len(str(abs(unscaled))):
            result = 1 if unscaled > 0 else -1
        else:
            result = _round_away(unscaled, 10**-shift)
        return max(_MIN_INT64, min(_MAX_INT64, result))

    def value(self) -> int:
        return self.scaled_value(0)

    def milli_value(self) -> int:
        return self.scaled_value(-3)

    def __float__(self) -> float:
        unscaled, exponent = self._value
        sign = 1 if unscaled < 0 else 0
        return float(Decimal((sign, tuple(int(d) for d in str(abs(unscaled))), exponent)))

    def __str__(self) -> str:
        if self._text is None:
            self._text = _canonical(self._value, self._format)
        return self._text

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    # --- arithmetic: a new Quantity each time; a zero left operand takes the other's format ---

    def __add__(self, other: Quantity) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        fmt = other._format if self.is_zero else self._format
        return Quantity._make(_add(self._value, other._value), fmt)

    def __sub__(self, other: Quantity) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        fmt = other._format if self.is_zero else self._format
        return Quantity._make(_add(self._value, (-other._value[0], other._value[1])), fmt)

    def __mul__(self, factor: int) -> Quantity:
        if not isinstance(factor, int) or isinstance(factor, bool):
            return NotImplemented
        return Quantity._make(_normalize(self._value[0] * factor, self._value[1]), self._format)

    __rmul__ = __mul__

    def __neg__(self) -> Quantity:
        return Quantity._make((-self._value[0], self._value[1]), self._format)

    # --- comparison by value ---

    def compare(self, other: Quantity) -> int:
        return _compare(self._value, other._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._value == other._value     # normalized, so equal values are equal tuples

    def __hash__(self) -> int:
        return hash(self._value)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return _compare(self._value, other._value) < 0

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return _compare(self._value, other._value) <= 0

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return _compare(self._value, other._value) > 0

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return _compare(self._value, other._value) >= 0


def parse_quantity(text: str) -> Quantity:
    return Quantity(text)


def quantity_from_json(value: object) -> Quantity | None:
    """Quantity.UnmarshalJSON on an already decoded value (numbers are accepted unquoted)."""
    if value is None:
        return None
    if isinstance(value, str):
        return Quantity(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        return Quantity(str(value))
    if isinstance(value, float):
        # repr is the shortest text that reads back as the same float, like the JSON the client sent.
        return Quantity(repr(value).replace("e+", "e"))
    raise QuantityError(ERR_FORMAT)
