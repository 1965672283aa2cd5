"""Funding series for scenarios: replayed history and generated schedules.

All implement :class:`laicai.sim.market.FundingSeries`: ``interval_hours_at(ts)`` is the
interval in force at ``ts`` — the length of the interval that ends at the next settlement after
``ts`` — and ``rate_at(settle_ts)`` the rate that settles at ``settle_ts`` (before then, the
predicted rate for it; generated and replayed series "predict" perfectly). Settlements fall on
multiples of the interval counted from 00:00 UTC, as on OKX (8h: 00:00/08:00/16:00 UTC; 4h:
every 4 hours; 1h: every hour), see :func:`next_settlement_ms`. Everything is a pure function
of time and seed.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from laicai.sim.market import FundingSeries
from laicai.sim.scenario._rng import counter_normal

MS_PER_HOUR = 3_600_000
FUNDING_INTERVALS = (1, 2, 4, 8)  # hours; what OKX uses
RATE_QUANTUM = Decimal("0.00000001")  # generated rates are rounded to 1e-8 (OKX publishes ~1e-8+)


def next_settlement_ms(funding: FundingSeries, ts_ms: int) -> int:
    """The first settlement strictly after ``ts_ms``: the next multiple (from the epoch, i.e.
    00:00 UTC) of the interval in force at ``ts_ms``."""
    step = funding.interval_hours_at(ts_ms) * MS_PER_HOUR
    return (ts_ms // step + 1) * step


def settlements(funding: FundingSeries, start_ms: int, end_ms: int) -> Iterator[int]:
    """Settlement times in ``(start_ms, end_ms]``, following interval changes."""
    ts = next_settlement_ms(funding, start_ms)
    while ts <= end_ms:
        yield ts
        ts = next_settlement_ms(funding, ts)


def _check_interval(hours: int) -> int:
    if hours not in FUNDING_INTERVALS:
        raise ValueError(f"funding interval must be one of {FUNDING_INTERVALS} hours, got {hours}")
    return hours


@dataclass(frozen=True, slots=True)
class IntervalSchedule:
    """``initial_hours`` until the first change; ``changes`` are ``(from_ts_ms, hours)``.

    A change at ``T`` means the interval ending at the first settlement after ``T`` has the new
    length; put ``T`` on a settlement of the old schedule to switch cleanly.
    """

    initial_hours: int = 8
    changes: tuple[tuple[int, int], ...] = ()
    _times: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_interval(self.initial_hours)
        for _, h in self.changes:
            _check_interval(h)
        ordered = tuple(sorted(self.changes))
        object.__setattr__(self, "changes", ordered)
        object.__setattr__(self, "_times", tuple(t for t, _ in ordered))

    def hours_at(self, ts_ms: int) -> int:
        i = bisect_right(self._times, ts_ms)
        return self.initial_hours if i == 0 else self.changes[i - 1][1]


def _schedule(interval: int | IntervalSchedule) -> IntervalSchedule:
    return interval if isinstance(interval, IntervalSchedule) else IntervalSchedule(interval)


class FixedFunding:
    """The same rate every settlement, on a (possibly changing) interval schedule."""

    def __init__(self, rate: Decimal, interval: int | IntervalSchedule = 8) -> None:
        self.rate = rate
        self.schedule = _schedule(interval)

    def interval_hours_at(self, ts_ms: int) -> int:
        return self.schedule.hours_at(ts_ms)

    def rate_at(self, settle_ts_ms: int) -> Decimal:
        return self.rate


class FlippingFunding:
    """``before`` for settlements before ``flip_at_ms``, ``after`` from then on.

    With ``transition_ms > 0`` the rate moves linearly from ``before`` (at ``flip_at_ms``) to
    ``after`` (at ``flip_at_ms + transition_ms``).
    """

    def __init__(
        self,
        before: Decimal,
        after: Decimal,
        flip_at_ms: int,
        interval: int | IntervalSchedule = 8,
        transition_ms: int = 0,
    ) -> None:
        if transition_ms < 0:
            raise ValueError(f"transition_ms must be >= 0, got {transition_ms}")
        self.before = before
        self.after = after
        self.flip_at_ms = flip_at_ms
        self.transition_ms = transition_ms
        self.schedule = _schedule(interval)

    def interval_hours_at(self, ts_ms: int) -> int:
        return self.schedule.hours_at(ts_ms)

    def rate_at(self, settle_ts_ms: int) -> Decimal:
        dt = settle_ts_ms - self.flip_at_ms
        if dt < 0:
            return self.before
        if dt >= self.transition_ms:
            return self.after
        frac = Decimal(dt) / Decimal(self.transition_ms)
        return (self.before + (self.after - self.before) * frac).quantize(RATE_QUANTUM)


class NoisyFunding:
    """Mean-reverting (Ornstein-Uhlenbeck) rates around ``mean``, deterministic per settlement.

    The latent level is an hourly AR(1) process with stationary standard deviation ``sigma``
    and half-life ``half_life_hours``; the rate settling at ``T`` is the level at ``T``'s hour,
    rounded to 1e-8 and clamped to ``±cap`` if given. Each hour's shock is a counter-based draw
    from ``(seed, key, hour)`` and the level is an exponentially weighted sum of past shocks
    (truncated at weight 1e-6), so ``rate_at`` does not depend on call order.
    """

    _MAX_TERMS = 5000

    def __init__(
        self,
        mean: Decimal,
        sigma: Decimal,
        *,
        half_life_hours: float,
        seed: int,
        key: str,
        interval: int | IntervalSchedule = 8,
        cap: Decimal | None = None,
    ) -> None:
        if sigma < 0:
            raise ValueError(f"sigma must be >= 0, got {sigma}")
        if half_life_hours <= 0:
            raise ValueError(f"half_life_hours must be > 0, got {half_life_hours}")
        if cap is not None and cap <= 0:
            raise ValueError(f"cap must be > 0, got {cap}")
        self.mean = mean
        self.sigma = sigma
        self.half_life_hours = half_life_hours
        self.cap = cap
        self.schedule = _schedule(interval)
        self._seed = seed
        self._key = key
        self._phi = 0.5 ** (1.0 / half_life_hours)
        self._shock_sd = float(sigma) * math.sqrt(1.0 - self._phi**2)
        self._terms = min(self._MAX_TERMS, math.ceil(math.log(1e-6) / math.log(self._phi)) + 1)
        self._shocks: dict[int, float] = {}
        self._rates: dict[int, Decimal] = {}

    def interval_hours_at(self, ts_ms: int) -> int:
        return self.schedule.hours_at(ts_ms)

    def _shock(self, hour: int) -> float:
        z = self._shocks.get(hour)
        if z is None:
            if len(self._shocks) > 100_000:
                self._shocks.clear()
            z = counter_normal(self._seed, self._key, "funding", hour)
            self._shocks[hour] = z
        return z

    def rate_at(self, settle_ts_ms: int) -> Decimal:
        cached = self._rates.get(settle_ts_ms)
        if cached is not None:
            return cached
        hour = settle_ts_ms // MS_PER_HOUR
        level = 0.0
        weight = 1.0
        for j in range(self._terms):
            level += weight * self._shock(hour - j)
            weight *= self._phi
        rate = (self.mean + Decimal(repr(self._shock_sd * level))).quantize(RATE_QUANTUM)
        if self.cap is not None:
            rate = min(max(rate, -self.cap), self.cap)
        if len(self._rates) > 100_000:
            self._rates.clear()
        self._rates[settle_ts_ms] = rate
        return rate


class ReplayedFunding:
    """Funding replayed from history: ``(settlement_ts_ms, rate, interval_hours)`` rows.

    ``rate_at(T)`` is the rate of the first historical settlement at or after ``T``;
    ``interval_hours_at(t)`` the interval of the first settlement strictly after ``t`` (so the
    history's own interval changes come through). Settlement times are snapped to the nearest
    ``snap_ms`` (venues stamp them a few ms after the hour) and may be moved by ``shift_ms``
    (a whole number of days keeps them on the 00:00 UTC grid). After the last row the last
    rate and interval hold; before the first, the first.
    """

    def __init__(
        self,
        rows: Iterable[tuple[int, Decimal, int]],
        *,
        snap_ms: int = 60_000,
        shift_ms: int = 0,
    ) -> None:
        merged: dict[int, tuple[Decimal, int]] = {}
        for ts, rate, hours in rows:
            snapped = (ts + snap_ms // 2) // snap_ms * snap_ms if snap_ms > 1 else ts
            merged[snapped + shift_ms] = (rate, _check_interval(hours))
        if not merged:
            raise ValueError("ReplayedFunding needs at least one settlement")
        self._ts: Sequence[int] = sorted(merged)
        self._rates = [merged[t][0] for t in self._ts]
        self._hours = [merged[t][1] for t in self._ts]

    @property
    def settlement_times(self) -> Sequence[int]:
        return tuple(self._ts)

    def interval_hours_at(self, ts_ms: int) -> int:
        i = bisect_right(self._ts, ts_ms)
        return self._hours[min(i, len(self._hours) - 1)]

    def rate_at(self, settle_ts_ms: int) -> Decimal:
        i = bisect_left(self._ts, settle_ts_ms)
        return self._rates[min(i, len(self._rates) - 1)]
