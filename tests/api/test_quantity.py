"""resource.Quantity: parsing, canonical strings and arithmetic, with the cases of apimachinery's
own quantity tests (TestQuantityParse, TestQuantityString, TestQuantityParseEmit, TestNewSet, ...)."""

from __future__ import annotations

import pytest

from kwok.api.quantity import (
    BINARY_SI,
    DECIMAL_EXPONENT,
    DECIMAL_SI,
    ERR_FORMAT,
    ERR_SUFFIX,
    Quantity,
    QuantityError,
    quantity_from_json,
)

# input -> (String(), Format)
PARSE_EMIT = [
    ("0", "0", DECIMAL_SI),
    ("0n", "0", DECIMAL_SI),
    ("0Ki", "0", BINARY_SI),
    ("0Ti", "0", BINARY_SI),
    ("-0", "0", DECIMAL_SI),
    ("00", "0", DECIMAL_SI),
    ("1", "1", DECIMAL_SI),
    ("1Ki", "1Ki", BINARY_SI),
    ("8Ki", "8Ki", BINARY_SI),
    ("7Mi", "7Mi", BINARY_SI),
    ("3Ei", "3Ei", BINARY_SI),
    ("100Ti", "100Ti", BINARY_SI),
    ("1024Mi", "1Gi", BINARY_SI),
    ("1536Mi", "1536Mi", BINARY_SI),
    ("307200Ki", "300Mi", BINARY_SI),
    ("1025024Mi", "1001Gi", BINARY_SI),
    ("1.5Gi", "1536Mi", BINARY_SI),
    ("0.5Mi", "512Ki", BINARY_SI),
    ("100.035Ki", "102435840m", BINARY_SI),     # not an integer: printed as DecimalSI, format kept
    (".001Ki", "1024m", BINARY_SI),
    (".000001Ki", "1024u", DECIMAL_SI),
    (".000000001Ki", "1024n", DECIMAL_SI),
    (".000000000001Ki", "2n", DECIMAL_SI),       # rounds up and changes format
    ("9Ei", "9223372036854775807", BINARY_SI),   # capped at the int64 maximum
    ("9223372036854775807Ki", "9223372036854775807", BINARY_SI),
    ("5n", "5n", DECIMAL_SI),
    ("4u", "4u", DECIMAL_SI),
    ("3m", "3m", DECIMAL_SI),
    ("8k", "8k", DECIMAL_SI),
    ("50k", "50k", DECIMAL_SI),
    ("300T", "300T", DECIMAL_SI),
    ("2P", "2P", DECIMAL_SI),
    ("1E", "1E", DECIMAL_SI),
    ("12E", "12E", DECIMAL_SI),
    ("1000E", "1e21", DECIMAL_SI),               # no SI suffix past E: exponent notation
    ("1000M", "1G", DECIMAL_SI),
    ("0.001T", "1G", DECIMAL_SI),
    ("1000m", "1", DECIMAL_SI),
    ("1000u", "1m", DECIMAL_SI),
    ("1.08", "1080m", DECIMAL_SI),
    ("1080000000n", "1080m", DECIMAL_SI),
    ("0.5", "500m", DECIMAL_SI),
    ("5000m", "5", DECIMAL_SI),
    ("1000", "1k", DECIMAL_SI),
    ("100", "100", DECIMAL_SI),
    ("100.035k", "100.035k", DECIMAL_SI),         # scale 0, canonical digits: kept
    ("10.035M", "10.035M", DECIMAL_SI),
    ("7.123456M", "7.123456M", DECIMAL_SI),
    ("6.987654321G", "6.987654321G", DECIMAL_SI),
    ("5.444T", "5.444T", DECIMAL_SI),
    ("1.5k", "1500", DECIMAL_SI),                # scale 2: recomputed
    ("1.01E", "1010P", DECIMAL_SI),
    ("0.0005k", "500m", DECIMAL_SI),
    ("0.00500", "5m", DECIMAL_SI),
    ("3.001n", "4n", DECIMAL_SI),                # sub-nano remainders round up
    ("0.0000000001", "1n", DECIMAL_SI),
    ("0.0000000005", "1n", DECIMAL_SI),
    ("0.9n", "1n", DECIMAL_SI),
    ("0.00000012345", "124n", DECIMAL_SI),
    ("12345678901234567890", "12345678901234567890", DECIMAL_SI),
    ("123456789012345678901000", "123456789012345678901k", DECIMAL_SI),
    ("1e3", "1e3", DECIMAL_EXPONENT),
    ("1E6", "1E6", DECIMAL_EXPONENT),            # already canonical: the input text is kept
    ("1e-3", "1e-3", DECIMAL_EXPONENT),
    ("1E-3", "1E-3", DECIMAL_EXPONENT),
    (".001e12", "1e9", DECIMAL_EXPONENT),
    ("0.001e0", "1e-3", DECIMAL_EXPONENT),
    ("1000e-12", "1e-9", DECIMAL_EXPONENT),
    ("1.2e3", "1200", DECIMAL_EXPONENT),
    ("1.3E+6", "1300e3", DECIMAL_EXPONENT),
    ("1.5e-3", "1500e-6", DECIMAL_EXPONENT),
    ("1.1E-9", "2e-9", DECIMAL_EXPONENT),
    ("0.5e-9", "1e-9", DECIMAL_EXPONENT),
    ("5000e-3", "5", DECIMAL_EXPONENT),
    ("-1.5", "-1500m", DECIMAL_SI),
    ("-1Ki", "-1Ki", BINARY_SI),
    ("-1024Mi", "-1Gi", BINARY_SI),
    ("-.000000000001Ki", "-2n", DECIMAL_SI),
    # Go keeps the input verbatim when its fast path finds it canonical, quirks included.
    ("+1", "+1", DECIMAL_SI),
    ("01", "01", DECIMAL_SI),
    ("1.", "1.", DECIMAL_SI),
    ("1.G", "1.G", DECIMAL_SI),
    (".", "0", DECIMAL_SI),
    ("+", "0", DECIMAL_SI),
]


@pytest.mark.parametrize(("text", "canonical", "fmt"), PARSE_EMIT)
def test_parse_and_emit(text: str, canonical: str, fmt: str) -> None:
    q = Quantity(text)
    assert str(q) == canonical
    assert q.format == fmt
    assert Quantity(canonical) == q                    # the printed form reads back as the same value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", ERR_FORMAT),
        ("1.1.M", ERR_FORMAT),
        ("1+1.0M", ERR_FORMAT),
        ("0.1am", ERR_FORMAT),
        ("aoeu", ERR_FORMAT),
        (" 1", ERR_FORMAT),
        ("1 ", ERR_FORMAT),
        ("1KiB", ERR_FORMAT),
        ("0.1mi", ERR_SUFFIX),
        (".5i", ERR_SUFFIX),
        ("1i", ERR_SUFFIX),
        ("-3.01i", ERR_SUFFIX),
        ("-3.01e-", ERR_SUFFIX),
        ("1K", ERR_SUFFIX),
        ("1e", ERR_SUFFIX),
        ("1Mi3", ERR_SUFFIX),
    ],
)
def test_invalid_quantities(text: str, message: str) -> None:
    with pytest.raises(QuantityError) as err:
        Quantity(text)
    assert str(err.value) == message


def test_format_error_quotes_the_regular_expression() -> None:
    assert ERR_FORMAT == (
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )


@pytest.mark.parametrize(
    ("value", "fmt", "canonical"),
    [(1, DECIMAL_SI, "1"), (1000, DECIMAL_SI, "1k"), (1234000, DECIMAL_SI, "1234k"), (1024, BINARY_SI, "1Ki"),
     (1000000, "invalidFormatDefaultsToExponent", "1e6"), (1024 * 1024, BINARY_SI, "1Mi")],
)
def test_from_int(value: int, fmt: str, canonical: str) -> None:
    q = Quantity.from_int(value, fmt)
    assert str(q) == canonical
    assert Quantity(canonical).value() == value


@pytest.mark.parametrize(
    ("value", "fmt", "canonical"),
    [(1, DECIMAL_SI, "1m"), (1000, DECIMAL_SI, "1"), (1234000, DECIMAL_SI, "1234"), (1024, BINARY_SI, "1024m"),
     (1000000, "invalidFormatDefaultsToExponent", "1e3"), (1024 * 1024, BINARY_SI, "1048576m")],
)
def test_from_milli(value: int, fmt: str, canonical: str) -> None:
    assert str(Quantity.from_milli(value, fmt)) == canonical


@pytest.mark.parametrize(("value", "scale", "canonical"),
                         [(1, -9, "1n"), (1000, -9, "1u"), (1, -6, "1u"), (1000, -6, "1m"), (1, -3, "1m"),
                          (1000, -3, "1"), (1, 0, "1"), (1, 3, "1k"), (1000, 3, "1M")])
def test_from_scaled(value: int, scale: int, canonical: str) -> None:
    assert str(Quantity.from_scaled(value, scale)) == canonical


@pytest.mark.parametrize(
    ("text", "value", "milli"),
    [("1", 1, 1000), ("1.5", 2, 1500), ("100m", 1, 100), ("1n", 1, 1), ("1Ki", 1024, 1024000),
     ("0", 0, 0), ("-1.5", -2, -1500), ("2.0001m", 1, 3), ("1e30", 2**63 - 1, 2**63 - 1)],
)
def test_value_and_milli_value_round_away_from_zero(text: str, value: int, milli: int) -> None:
    q = Quantity(text)
    assert (q.value(), q.milli_value()) == (value, milli)


def test_comparisons_are_exact() -> None:
    assert Quantity("100m") > Quantity("50m")
    assert Quantity("10000T") > Quantity("100Gi")
    assert Quantity("1") == Quantity("1000m") and hash(Quantity("1")) == hash(Quantity("1000m"))
    assert Quantity("1Ki") == Quantity("1024")
    assert Quantity("0.1") + Quantity("0.2") == Quantity("300m")        # no float drift
    assert Quantity("-1") < Quantity("0") < Quantity("1n")
    assert Quantity("1e999999999") > Quantity("9Ei")                    # huge exponents stay cheap
    assert Quantity("-1e999999999") < Quantity("-9Ei")
    assert Quantity("1e-999999999") == Quantity("1n")
    assert sorted([Quantity("1Gi"), Quantity("1G"), Quantity("900M")]) == [
        Quantity("900M"), Quantity("1G"), Quantity("1Gi")]


def test_arithmetic_keeps_the_left_format_unless_it_is_zero() -> None:
    assert str(Quantity("100m") + Quantity("0")) == "100m"
    assert str(Quantity("0") + Quantity("1Gi")) == "1Gi"
    assert str(Quantity("0") - Quantity("1Gi")) == "-1Gi"
    assert str(Quantity("1Gi") - Quantity("512Mi")) == "512Mi"
    assert str(Quantity("100m") + Quantity("1Gi")) == "1073741824100m"
    assert str(Quantity("1Gi") * 3) == "3Gi"
    assert str(2 * Quantity("250m")) == "500m"
    assert str(-Quantity("9.01")) == "-9010m"
    assert str(Quantity("1") - Quantity("1000m")) == "0"


def test_float_conversion() -> None:
    assert float(Quantity("1.5")) == 1.5
    assert float(Quantity("100m")) == 0.1
    assert float(Quantity("1Gi")) == 1073741824.0
    assert float(Quantity("1e400")) == float("inf")


@pytest.mark.parametrize(("value", "canonical"),
                         [(" 1", "1"), ("1 ", "1"), (1, "1"), (10, "10"), (-1, "-1"), (0.5, "500m"), (1e21, "1e21"),
                          ("100m", "100m")])
def test_from_json_accepts_numbers_and_padded_strings(value: object, canonical: str) -> None:
    q = quantity_from_json(value)
    assert q is not None and str(q) == canonical


def test_from_json_null_and_bad_types() -> None:
    assert quantity_from_json(None) is None
    for bad in (True, [1], {"a": 1}):
        with pytest.raises(QuantityError):
            quantity_from_json(bad)
