"""Every guard alert level reaches the operator, and a critical one is never softened."""

from laicai.engine.core import ALERT_LEVELS
from laicai.risk.commands import AlertLevel


def test_every_level_is_mapped_and_critical_stays_an_error() -> None:
    assert set(ALERT_LEVELS) == set(AlertLevel)
    assert ALERT_LEVELS[AlertLevel.CRITICAL] == "ERROR"
    assert ALERT_LEVELS[AlertLevel.WARNING] == "WARN"
