"""The engine's timers, on whatever clock drives it (wall, accelerated or simulated).

A :class:`Job` is due every ``period_ms``, either counted from the start (``aligned=False``:
the scan, the risk check) or on the clock's boundaries plus an offset (``aligned=True``: the
bookkeeping a minute after every hour, where all funding settlements fall; the daily report
after 00:00 UTC). :class:`Schedule` answers "what is due now" and "when is the next one";
a driver sleeps until then. Pure: no clock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    period_ms: int
    aligned: bool = False
    offset_ms: int = 0

    def __post_init__(self) -> None:
        if self.period_ms <= 0:
            raise ValueError(f"job {self.name}: period_ms must be > 0")

    def first_due(self, start_ms: int) -> int:
        if not self.aligned:
            return start_ms + self.offset_ms
        return self._slot_at_or_after(start_ms)

    def _slot_at_or_after(self, t_ms: int) -> int:
        """The earliest boundary + offset at or after ``t_ms`` (any offset, even one of a
        period or more: an hourly job offset by 90 min runs at every HH:30)."""
        due = t_ms - (t_ms - self.offset_ms) % self.period_ms
        return due if due >= t_ms else due + self.period_ms

    def after(self, due_ms: int, now_ms: int) -> int:
        """The next due time after one at ``due_ms`` ran at ``now_ms`` (missed ticks are
        skipped, not replayed: a late scan is not worth three scans). An aligned job comes
        back to its boundaries even when it was brought forward off them (``run_soon``)."""
        if self.aligned:
            return self._slot_at_or_after(max(due_ms, now_ms) + 1)
        nxt = due_ms + self.period_ms
        if nxt <= now_ms:
            behind = (now_ms - nxt) // self.period_ms + 1
            nxt += behind * self.period_ms
        return nxt


@dataclass(slots=True)
class Schedule:
    jobs: list[Job]
    start_ms: int
    due: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [j.name for j in self.jobs]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate job names in {names}")
        self.due = {j.name: j.first_due(self.start_ms) for j in self.jobs}

    def next_due_ms(self) -> int:
        return min(self.due.values())

    def pop_due(self, now_ms: int) -> list[str]:
        """The jobs due at ``now_ms``, in due-time order (ties: the order they were given),
        each moved to its next due time."""
        order = {j.name: i for i, j in enumerate(self.jobs)}
        ready = sorted((n for n, t in self.due.items() if t <= now_ms),
                       key=lambda n: (self.due[n], order[n]))
        by_name = {j.name: j for j in self.jobs}
        for name in ready:
            self.due[name] = by_name[name].after(self.due[name], now_ms)
        return ready

    def run_soon(self, name: str, now_ms: int) -> None:
        """Make ``name`` due now (e.g. a risk check right after a pushed price)."""
        self.due[name] = min(self.due[name], now_ms)
