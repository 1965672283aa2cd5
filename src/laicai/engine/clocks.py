"""Engine clocks beyond :class:`~laicai.execution.orders.WallClock`: the time of an
in-process simulator running faster than real time, with waits shortened to match."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Protocol


class MsClock(Protocol):
    def now_ms(self) -> int: ...


class AcceleratedClock:
    """``now`` is the simulator's (accelerated) time; ``sleep(s)`` waits s / speed real
    seconds, so a 45 s scan interval passes in 45 / speed seconds of the demo."""

    def __init__(self, clock: MsClock, speed: float) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.clock = clock
        self.speed = speed

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now_ms() / 1000, UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)
