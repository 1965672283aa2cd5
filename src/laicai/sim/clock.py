"""Clocks for the simulator: the same core runs on real, accelerated or manual time.

The core never reads the wall clock itself; it asks its clock, so a test or a backtest
controls time exactly and a demo can run a day of funding in minutes.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Milliseconds since the Unix epoch, as OKX timestamps are."""

    def now_ms(self) -> int: ...


class ManualClock:
    """Time moves only when told to: tests and backtests."""

    def __init__(self, start_ms: int) -> None:
        self._now_ms = start_ms

    def now_ms(self) -> int:
        return self._now_ms

    def set(self, ts_ms: int) -> None:
        if ts_ms < self._now_ms:
            raise ValueError(f"clock cannot go backwards: {ts_ms} < {self._now_ms}")
        self._now_ms = ts_ms

    def advance(self, delta_ms: int) -> None:
        if delta_ms < 0:
            raise ValueError(f"clock cannot go backwards: advance by {delta_ms} ms")
        self._now_ms += delta_ms


class ScaledClock:
    """Real time multiplied by ``speed`` from a chosen start: ``speed=1`` is real time.

    ``start_ms`` is the simulated time at the moment of construction (default: now). The speed
    can change while running without a jump in simulated time.
    """

    def __init__(self, speed: float = 1.0, start_ms: int | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be > 0, got {speed}")
        self._speed = speed
        self._anchor_real = time.monotonic()
        self._anchor_sim_ms = start_ms if start_ms is not None else int(time.time() * 1000)
        self._offset_ms = 0

    @property
    def speed(self) -> float:
        return self._speed

    def now_ms(self) -> int:
        elapsed = time.monotonic() - self._anchor_real
        return self._anchor_sim_ms + int(elapsed * 1000 * self._speed) + self._offset_ms

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be > 0, got {speed}")
        now = self.now_ms()
        self._anchor_real = time.monotonic()
        self._anchor_sim_ms = now - self._offset_ms
        self._speed = speed

    def advance(self, delta_ms: int) -> None:
        """Jump forward (e.g. to the next funding settlement) without waiting."""
        if delta_ms < 0:
            raise ValueError(f"clock cannot go backwards: advance by {delta_ms} ms")
        self._offset_ms += delta_ms
