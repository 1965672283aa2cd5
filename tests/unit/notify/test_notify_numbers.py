"""Numbers as a trader reads them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D

import pytest

from laicai.notify import numbers as n


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("65432.1"), "65,432.10"),
        (D("1000"), "1,000.00"),
        (D("3456.785"), "3,456.79"),  # half-up, not banker's rounding
        (D("3.456789"), "3.4568"),
        (D("1"), "1.0000"),
        (D("0.123456"), "0.12346"),
        (D("0.000123456"), "0.00012346"),
        (D("0.00000001234"), "0.000000012340"),
        (D("0"), "0.00"),
        (None, "—"),
    ],
)
def test_price_precision_follows_magnitude(value: D | None, text: str) -> None:
    assert n.price(value) == text


@pytest.mark.parametrize(
    ("value", "signed", "text"),
    [
        (D("1234.565"), False, "1,234.57"),
        (D("-1234.565"), False, "-1,234.57"),
        (D("12.3"), True, "+12.30"),
        (D("-0.004"), True, "0.00"),  # never "-0.00" nor "+0.00"
        (D("-5"), True, "-5.00"),
        (D("0"), True, "0.00"),
    ],
)
def test_usdt_two_decimals(value: D, signed: bool, text: str) -> None:
    assert n.usdt(value, signed=signed) == text


def test_percentages_and_funding_rates() -> None:
    assert n.pct(D("0.1523")) == "15.23%"
    assert n.pct(D("1.5")) == "150.00%"
    assert n.pct(D("0.00043"), 3, signed=True) == "+0.043%"
    assert n.funding_rate(D("0.0001")) == "0.0100%"
    assert n.funding_rate(D("-0.00025")) == "-0.0250%"
    assert n.ratio_pct(D("9.5")) == "950.00%"
    assert n.pct(None) == "—"


@pytest.mark.parametrize(
    ("value", "signed", "text"),
    [
        (D("0.150"), False, "0.15"),
        (D("1500.50"), False, "1,500.5"),
        (D("25"), False, "25"),
        (D("1E+3"), False, "1,000"),
        (D("0.000000015"), False, "0.00000002"),
        (D("-0.0012"), True, "-0.0012"),
        (D("0.0012"), True, "+0.0012"),
        (D("0.0000"), True, "0"),
    ],
)
def test_quantities_without_trailing_zeros(value: D, signed: bool, text: str) -> None:
    assert n.qty(value, signed=signed) == text


def test_utc_time() -> None:
    assert n.utc_time(datetime(2026, 1, 2, 8, 0)) == "2026-01-02 08:00 UTC"
    assert n.utc_time(None) == "—"
