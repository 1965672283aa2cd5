"""Fixtures of the dashboard tests; the operators live in ``web_operator_support``."""

from __future__ import annotations

import pytest
from web_operator_support import RecordingOperator, ScriptedOperator


@pytest.fixture
def scripted() -> ScriptedOperator:
    return ScriptedOperator.sample()


@pytest.fixture
def operator(scripted: ScriptedOperator) -> RecordingOperator:
    """The Operator under the dashboard, recording every control call."""
    return RecordingOperator(scripted)
