"""Orders per second through the matching core alone: no HTTP, no JSON, no ccxt.

Several rounds on fresh venues; the verdict uses the best round, as ``timeit`` advises (other
processes only ever add time), and the median is reported beside it.

``trading.place_order`` on a :class:`~laicai.sim.clock.ManualClock` venue: a repeating cycle of
one-contract market and IOC orders, buys and sells, on the BTC and ETH swaps (so positions stay
bounded and the margin check sees two positions). Every ``refresh_every`` orders the clock
moves on by the venue's book refresh interval and ``exchange.sync()`` runs, as the server's
ticker would: the books are rebuilt and the liquidity taken comes back.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

RICH = Decimal(1_000_000_000)


def _requests() -> list[dict[str, object]]:
    reqs: list[dict[str, object]] = []
    for inst, lo, hi in (("BTC-USDT-SWAP", "59700", "60300"),
                         ("ETH-USDT-SWAP", "2985", "3015")):
        for side in ("buy", "sell"):
            reqs.append({"instId": inst, "side": side, "ordType": "market", "sz": "1",
                         "tdMode": "cross"})
        for side, px in (("buy", hi), ("sell", lo)):  # IOC 0.5% through the touch
            reqs.append({"instId": inst, "side": side, "ordType": "ioc", "px": px,
                         "sz": "1", "tdMode": "cross"})
    return [reqs[i] for i in (0, 1, 4, 5, 2, 3, 6, 7)]  # BTC/ETH interleaved


@dataclass(slots=True)
class CoreRound:
    orders: int
    wall_s: float
    cpu_s: float
    filled: int

    @property
    def orders_per_s(self) -> float:
        return self.orders / self.wall_s

    @property
    def orders_per_cpu_s(self) -> float:
        return self.orders / self.cpu_s


def one_round(orders: int, refresh_every: int = 100, profile: cProfile.Profile | None = None
              ) -> CoreRound:
    from laicai.sim import trading
    from laicai.testing.sim import make_exchange

    ex = make_exchange(trading={"USDT": RICH})
    acct = ex.accounts["main"]
    cycle = _requests()
    n_cycle = len(cycle)
    step = ex.book_refresh_ms
    clock = ex.clock
    place = trading.place_order
    ex.sync()
    for inst in ("BTC-USDT-SWAP", "ETH-USDT-SWAP"):
        ex.book(inst)
    if profile is not None:
        profile.enable()
    c0, w0 = time.process_time(), time.perf_counter()
    for i in range(orders):
        if i % refresh_every == 0 and i:
            clock.advance(step)  # type: ignore[attr-defined]
            ex.sync()
        place(ex, acct, cycle[i % n_cycle])
    w1, c1 = time.perf_counter(), time.process_time()
    if profile is not None:
        profile.disable()
    filled = sum(1 for o in acct.orders.values() if o.state == "filled")
    return CoreRound(orders, w1 - w0, c1 - c0, filled)


def run(orders: int = 50_000, rounds: int = 5) -> dict[str, Any]:
    one_round(2_000)  # warm up imports, caches, the allocator
    results = [one_round(orders) for _ in range(rounds)]
    rates = [r.orders_per_s for r in results]
    cpu_rates = [r.orders_per_cpu_s for r in results]
    return {
        "orders": orders,
        "rounds": rounds,
        "orders_per_s": statistics.median(rates),
        "orders_per_s_best": max(rates),
        "orders_per_s_all": rates,
        "orders_per_cpu_s": statistics.median(cpu_rates),
        "orders_per_cpu_s_best": max(cpu_rates),
        "us_per_order": 1e6 / statistics.median(rates),
        "all_filled": all(r.filled == r.orders for r in results),
    }


def profile(orders: int = 50_000, top: int = 25) -> str:
    """cProfile of one round, hottest functions by own time."""
    prof = cProfile.Profile()
    one_round(orders, profile=prof)
    out = io.StringIO()
    pstats.Stats(prof, stream=out).strip_dirs().sort_stats("tottime").print_stats(top)
    return out.getvalue()
