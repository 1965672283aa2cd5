"""Pure parts of the store: amount quantization and the state tables."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from laicai.store.states import (
    JOURNAL_TRANSITIONS,
    POSITION_TRANSITIONS,
    JournalStatus,
    PositionStatus,
    can_transition,
)
from laicai.store.types import quantize_amount


@given(
    st.decimals(
        min_value=Decimal("-999999999999999999.999999999999999999"),
        max_value=Decimal("999999999999999999.999999999999999999"),
        places=18,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_values_that_fit_are_kept_exactly(value: Decimal) -> None:
    assert quantize_amount(value, 36, 18) == value


@pytest.mark.parametrize(
    ("value", "precision", "scale", "expected"),
    [
        ("1.00000000005", 20, 10, "1.0000000001"),  # half away from zero, like PostgreSQL
        ("-1.00000000005", 20, 10, "-1.0000000001"),
        ("1.00000000004", 20, 10, "1.0000000000"),
        ("0.0000000000000000000001", 36, 18, "0E-18"),
        ("9999999999.99999999994", 20, 10, "9999999999.9999999999"),
        ("3", 5, 2, "3.00"),
    ],
)
def test_rounding_to_the_scale(value: str, precision: int, scale: int, expected: str) -> None:
    result = quantize_amount(Decimal(value), precision, scale)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("value", "precision", "scale"),
    [("12345678901", 20, 10), ("9999999999.99999999995", 20, 10), ("1e18", 36, 18)],
)
def test_too_many_integer_digits_are_refused(value: str, precision: int, scale: int) -> None:
    with pytest.raises(ValueError, match="does not fit"):
        quantize_amount(Decimal(value), precision, scale)


@pytest.mark.parametrize("bad", [0.1, True, "1.5"])
def test_only_decimals_and_ints(bad: object) -> None:
    with pytest.raises(TypeError, match="Decimal"):
        quantize_amount(bad, 36, 18)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_amounts_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="finite"):
        quantize_amount(Decimal(bad), 36, 18)


def test_position_moves_follow_the_architecture() -> None:
    assert set(POSITION_TRANSITIONS) == set(PositionStatus)
    path = [
        PositionStatus.OPENING,
        PositionStatus.OPEN,
        PositionStatus.RESETTING,
        PositionStatus.OPEN,
        PositionStatus.REDEEMING,
        PositionStatus.CLOSING,
        PositionStatus.CLOSED,
    ]
    assert all(can_transition(a, b) for a, b in pairwise(path))
    assert can_transition(PositionStatus.OPENING, PositionStatus.FAILED)
    for status in PositionStatus:
        assert (POSITION_TRANSITIONS[status] == frozenset()) == status.is_final
    assert set(JOURNAL_TRANSITIONS) == set(JournalStatus)
