"""Price paths for scenarios: replayed history, seeded random walks, and market events.

Every path is a pure function of time (and of its seed): ``price_at(ts)`` returns the same value
whatever was asked before, in any process. Time is cut into buckets (1 s by default) and the
price is constant within a bucket; each bucket's price is computed once and cached, so the
simulator can call ``price_at`` on every book rebuild (a cached call costs well under a
microsecond, an uncached one a few microseconds).

Randomness comes from :class:`BrownianMotion`, a standard Brownian motion sampled on the bucket
grid and generated lazily, chunk by chunk, from counter-based seeds (coarse chunk endpoints,
then a Brownian bridge inside each chunk), so any time can be evaluated without generating
everything before it.
"""

from __future__ import annotations

import math
import random
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal
from itertools import accumulate
from typing import Protocol

from laicai.sim.market import PricePath
from laicai.sim.scenario._rng import derive_seed

MS_PER_HOUR = 3_600_000
MS_PER_YEAR = 365 * 24 * MS_PER_HOUR

PRICE_DIGITS = 10  # significant digits of generated (non-replayed) prices
_PRICE_CTX = Context(prec=PRICE_DIGITS)
_MIN_LOG = -690.0  # keeps exp() away from float underflow: prices stay > 0
_MAX_LOG = 690.0

_CACHE_LIMIT = 200_000  # cached buckets per path before the cache is dropped and refilled
_SQRT12 = math.sqrt(12.0)
_CHUNK_CACHE_LIMIT = 256  # generated chunks of Brownian motion kept per path


def to_price(x: float) -> Decimal:
    """A float price as a Decimal of :data:`PRICE_DIGITS` significant digits."""
    return _PRICE_CTX.create_decimal_from_float(x)


def _exp(log_price: float) -> float:
    return math.exp(min(max(log_price, _MIN_LOG), _MAX_LOG))


class BrownianMotion:
    """Standard Brownian motion ``W`` (time in years), sampled every ``bucket_ms``.

    ``W`` is 0 at the start of the chunk that holds ``anchor_ms``. The grid is cut into chunks
    of :attr:`CHUNK` buckets; chunk endpoints form a coarse Gaussian random walk (one seeded
    block of normals per :attr:`COARSE_BLOCK` chunks) and each chunk's interior is a Brownian
    bridge between them (unit-variance uniform steps, pinned to the endpoints), generated from
    its own seed on first use. So ``at(ts)`` is a pure
    function of ``(seed, key, bucket_ms, anchor chunk, ts)``.
    """

    CHUNK = 1024
    COARSE_BLOCK = 1024

    def __init__(self, seed: int, key: str, anchor_ms: int, bucket_ms: int = 1000) -> None:
        if bucket_ms <= 0:
            raise ValueError(f"bucket_ms must be > 0, got {bucket_ms}")
        self.seed = seed
        self.key = key
        self.bucket_ms = bucket_ms
        self._step_sd = math.sqrt(bucket_ms / MS_PER_YEAR)
        self._chunk_sd = math.sqrt(self.CHUNK * bucket_ms / MS_PER_YEAR)
        self._k0 = (anchor_ms // bucket_ms) // self.CHUNK
        self._up: list[float] = [0.0]  # _up[j] = W at the start of chunk k0 + j
        self._down: list[float] = [0.0]  # _down[j] = W at the start of chunk k0 - j
        self._blocks: dict[int, list[float]] = {}
        self._chunks: dict[int, array[float]] = {}

    def _coarse_step(self, k: int) -> float:
        """Standard normal step from chunk ``k``'s start to chunk ``k + 1``'s start."""
        blk, i = divmod(k, self.COARSE_BLOCK)
        normals = self._blocks.get(blk)
        if normals is None:
            rng = random.Random(derive_seed(self.seed, self.key, "coarse", blk))
            normals = [rng.gauss(0.0, 1.0) for _ in range(self.COARSE_BLOCK)]
            self._blocks[blk] = normals
        return normals[i]

    def _chunk_start(self, k: int) -> float:
        j = k - self._k0
        if j >= 0:
            up = self._up
            while len(up) <= j:
                up.append(up[-1] + self._chunk_sd * self._coarse_step(self._k0 + len(up) - 1))
            return up[j]
        down = self._down
        while len(down) <= -j:
            down.append(down[-1] - self._chunk_sd * self._coarse_step(self._k0 - len(down)))
        return down[-j]

    def _build(self, k: int) -> array[float]:
        n = self.CHUNK
        a = self._chunk_start(k)
        b = self._chunk_start(k + 1)
        rng = random.Random(derive_seed(self.seed, self.key, "chunk", k))
        uniform = rng.random
        # unit-variance uniform steps: ~10x cheaper than gauss(), and Gaussian in distribution
        # over tens of steps (central limit theorem); chunk endpoints are exactly Gaussian.
        free = list(accumulate((_SQRT12 * (uniform() - 0.5) for _ in range(n)), initial=0.0))
        end = free[n]
        sd = self._step_sd
        slope = (b - a) / n
        chunk = array("d", (a + slope * i + sd * (free[i] - end * i / n) for i in range(n + 1)))
        if len(self._chunks) >= _CHUNK_CACHE_LIMIT:
            del self._chunks[next(iter(self._chunks))]
        self._chunks[k] = chunk
        return chunk

    def at_bucket(self, bucket: int) -> float:
        k, i = divmod(bucket, self.CHUNK)
        chunk = self._chunks.get(k)
        if chunk is None:
            chunk = self._build(k)
        return chunk[i]

    def at(self, ts_ms: int) -> float:
        """``W`` at the start of the bucket holding ``ts_ms`` (in sqrt-years)."""
        return self.at_bucket(ts_ms // self.bucket_ms)


class _Bucketed:
    """Caches one Decimal price per time bucket; subclasses compute it from the bucket start."""

    bucket_ms: int

    def __init__(self, bucket_ms: int) -> None:
        if bucket_ms <= 0:
            raise ValueError(f"bucket_ms must be > 0, got {bucket_ms}")
        self.bucket_ms = bucket_ms
        self._cache: dict[int, Decimal] = {}

    def price_at(self, ts_ms: int) -> Decimal:
        b = ts_ms // self.bucket_ms
        p = self._cache.get(b)
        if p is None:
            p = self._compute(b * self.bucket_ms)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[b] = p
        return p

    def float_at(self, ts_ms: int) -> float:
        """The price as a float (for composing paths)."""
        return float(self.price_at(ts_ms))

    def _compute(self, ts_ms: int) -> Decimal:
        raise NotImplementedError


class RandomWalk(_Bucketed):
    """Geometric Brownian motion from ``start_price`` at ``start_ms``.

    ``vol`` and ``drift`` are annual (0.6 = 60 %/year); ``log S(t) = log S0 + (drift - vol²/2)
    t + vol (W(t) - W(t0))``. The walk is defined before ``start_ms`` too. Deterministic in
    ``(seed, key)``; prices have :data:`PRICE_DIGITS` significant digits and equal
    ``start_price`` exactly in the start bucket.
    """

    def __init__(
        self,
        start_price: Decimal,
        vol: float,
        *,
        seed: int,
        key: str,
        start_ms: int,
        drift: float = 0.0,
        bucket_ms: int = 1000,
    ) -> None:
        super().__init__(bucket_ms)
        if start_price <= 0:
            raise ValueError(f"start_price must be > 0, got {start_price}")
        if vol < 0:
            raise ValueError(f"vol must be >= 0, got {vol}")
        self.start_price = start_price
        self.vol = vol
        self.drift = drift
        self.start_ms = start_ms
        self._start_bucket = start_ms // bucket_ms
        self._bm = BrownianMotion(seed, key, start_ms, bucket_ms)
        self._log0 = math.log(start_price)
        self._w0 = self._bm.at(start_ms)
        self._mu_per_ms = (drift - vol * vol / 2) / MS_PER_YEAR

    def float_at(self, ts_ms: int) -> float:
        ts_ms -= ts_ms % self.bucket_ms
        if ts_ms // self.bucket_ms == self._start_bucket:
            return float(self.start_price)
        w = self._bm.at(ts_ms) - self._w0
        return _exp(self._log0 + self._mu_per_ms * (ts_ms - self.start_ms) + self.vol * w)

    def _compute(self, ts_ms: int) -> Decimal:
        if ts_ms // self.bucket_ms == self._start_bucket:
            return self.start_price
        return to_price(self.float_at(ts_ms))


class ReplayedPrice(_Bucketed):
    """Historical prices at known times, interpolated in between.

    Between two knots the log price is interpolated linearly; with ``bridge_vol > 0`` a seeded
    Brownian bridge of that annual volatility is added, pinned to zero at both knots, so the
    price wanders realistically (and books move every bucket) yet passes exactly through every
    historical point. At a knot the price is the historical Decimal itself. Before the first
    and after the last knot the price holds (``bridge_vol = 0``) or walks driftlessly away from
    it with ``bridge_vol``. Knot times are snapped to the nearest ``snap_ms`` (venues stamp
    settlements a few ms after the hour).
    """

    def __init__(
        self,
        knots: Iterable[tuple[int, Decimal]],
        *,
        seed: int = 0,
        key: str = "",
        bridge_vol: float = 0.0,
        bucket_ms: int = 1000,
        snap_ms: int = 60_000,
    ) -> None:
        super().__init__(bucket_ms)
        if bridge_vol < 0:
            raise ValueError(f"bridge_vol must be >= 0, got {bridge_vol}")
        merged: dict[int, Decimal] = {}
        for ts, price in knots:
            if price <= 0:
                raise ValueError(f"replayed price must be > 0, got {price} at {ts}")
            snapped = (ts + snap_ms // 2) // snap_ms * snap_ms if snap_ms > 1 else ts
            merged[snapped] = price
        if not merged:
            raise ValueError("ReplayedPrice needs at least one (ts, price) knot")
        self._ts = sorted(merged)
        self._px = [merged[t] for t in self._ts]
        self._logs = [math.log(p) for p in self._px]
        self._exact = dict(merged)
        self.bridge_vol = bridge_vol
        self._bm = (
            BrownianMotion(seed, key, self._ts[0], bucket_ms) if bridge_vol > 0 else None
        )

    @property
    def knot_times(self) -> Sequence[int]:
        return tuple(self._ts)

    def float_at(self, ts_ms: int) -> float:
        ts_ms -= ts_ms % self.bucket_ms
        exact = self._exact.get(ts_ms)
        if exact is not None:
            return float(exact)
        return _exp(self._log_at(ts_ms))

    def _log_at(self, ts: int) -> float:
        tss = self._ts
        i = bisect_right(tss, ts)
        bm = self._bm
        vol = self.bridge_vol
        if i == 0 or i == len(tss):
            j = 0 if i == 0 else -1
            if bm is None:
                return self._logs[j]
            return self._logs[j] + vol * (bm.at(ts) - bm.at(tss[j]))
        t0, t1 = tss[i - 1], tss[i]
        frac = (ts - t0) / (t1 - t0)
        log = self._logs[i - 1] + (self._logs[i] - self._logs[i - 1]) * frac
        if bm is not None:
            w0 = bm.at(t0)
            log += vol * (bm.at(ts) - w0 - frac * (bm.at(t1) - w0))
        return log

    def _compute(self, ts_ms: int) -> Decimal:
        exact = self._exact.get(ts_ms)
        if exact is not None:
            return exact
        return to_price(_exp(self._log_at(ts_ms)))


class PriceEvent(Protocol):
    """A multiplicative shock applied on top of a base path."""

    def factor(self, ts_ms: int) -> float: ...


@dataclass(frozen=True, slots=True)
class _Move:
    """The price moves by ``pct`` percent linearly over ``duration_ms`` from ``at_ms``, then
    stays moved, drifting by ``drift_pct_per_hour`` percent per hour (compounded)."""

    at_ms: int
    pct: float
    duration_ms: int
    drift_pct_per_hour: float = 0.0

    def __post_init__(self) -> None:
        if self.pct <= -100:
            raise ValueError(f"a move cannot be {self.pct}% (price would reach 0)")
        if self.duration_ms < 0:
            raise ValueError(f"duration_ms must be >= 0, got {self.duration_ms}")
        if self.drift_pct_per_hour <= -100:
            raise ValueError(f"drift_pct_per_hour must be > -100, got {self.drift_pct_per_hour}")

    def factor(self, ts_ms: int) -> float:
        dt = ts_ms - self.at_ms
        if dt < 0:
            return 1.0
        if dt < self.duration_ms:
            return 1.0 + self.pct / 100.0 * dt / self.duration_ms
        f = 1.0 + self.pct / 100.0
        if self.drift_pct_per_hour:
            hours = (dt - self.duration_ms) / MS_PER_HOUR
            f *= _exp(math.log1p(self.drift_pct_per_hour / 100.0) * hours)
        return f


@dataclass(frozen=True, slots=True)
class Squeeze(_Move):
    """A short squeeze: +``pct`` % (e.g. +40) over ``duration_ms`` (e.g. 30 min) from
    ``at_ms``, then holds (optionally drifting ``drift_pct_per_hour``)."""

    def __post_init__(self) -> None:
        _Move.__post_init__(self)
        if self.pct <= 0:
            raise ValueError(f"a squeeze needs pct > 0, got {self.pct}")


@dataclass(frozen=True, slots=True)
class Crash(_Move):
    """A crash: ``pct`` % (negative, > -100, e.g. -35) over ``duration_ms`` from ``at_ms``,
    then drifts ``drift_pct_per_hour`` (e.g. +0.5 for a slow recovery)."""

    def __post_init__(self) -> None:
        _Move.__post_init__(self)
        if self.pct >= 0:
            raise ValueError(f"a crash needs pct < 0, got {self.pct}")


@dataclass(frozen=True, slots=True)
class SpikeAndRevert:
    """An instant jump of ``pct`` % at ``at_ms`` that reverts linearly within ``revert_ms``."""

    at_ms: int
    pct: float
    revert_ms: int

    def __post_init__(self) -> None:
        if self.pct <= -100:
            raise ValueError(f"a spike cannot be {self.pct}% (price would reach 0)")
        if self.revert_ms <= 0:
            raise ValueError(f"revert_ms must be > 0, got {self.revert_ms}")

    def factor(self, ts_ms: int) -> float:
        dt = ts_ms - self.at_ms
        if dt < 0 or dt >= self.revert_ms:
            return 1.0
        return 1.0 + self.pct / 100.0 * (1.0 - dt / self.revert_ms)


class WithEvents(_Bucketed):
    """A base path with events multiplied on top (``price = base × Π factor``).

    Where every factor is 1 the base path's own Decimal is returned unchanged (so replayed
    prices stay exact outside events).
    """

    def __init__(
        self, base: PricePath, events: Sequence[PriceEvent], bucket_ms: int = 1000
    ) -> None:
        super().__init__(bucket_ms)
        self.base = base
        self.events = tuple(events)

    def _compute(self, ts_ms: int) -> Decimal:
        f = 1.0
        for ev in self.events:
            f *= ev.factor(ts_ms)
        if f == 1.0:
            return self.base.price_at(ts_ms)
        base = self.base
        b = base.float_at(ts_ms) if isinstance(base, _Bucketed) else float(base.price_at(ts_ms))
        return to_price(max(b * f, 1e-300))


def with_events(base: PricePath, events: Sequence[PriceEvent], bucket_ms: int = 1000) -> PricePath:
    """``base`` itself when there are no events, else a :class:`WithEvents` over it."""
    return WithEvents(base, events, bucket_ms) if events else base
