"""How long one scan of the pure opportunity model takes: ``find_opportunities`` over 300
swap/spot pairs, both legs with 400-level books, on one core (target: <= 50 ms a scan).

    uv run python benchmarks/bench_opportunities.py            # both scenarios
    uv run python benchmarks/bench_opportunities.py --profile  # plus a cProfile of 'typical'

Two scenarios on the same universe (every pair passes the cheap checks, so all 300 are sized,
walked four times - entry and exit of both legs - and costed; a fifth of them are LONGs):

- ``typical``: 100,000 USDT per trade capped at 10,000 of leg notional; each level holds about
  1,000 USDT, so a walk takes about ten levels before it stops.
- ``deep``: a stress case with no target - position caps lifted and levels of about 170 USDT,
  so every walk runs through nearly all 400 levels (and most carries then fail the slippage
  check). Its cost is the Decimal arithmetic of ~480,000 level steps a scan.

Not a test: nothing asserts on timings. Prints wall and CPU time per scan (one thread: the CPU
time is the one-core figure when the machine is shared); ``run()`` returns them. The verdict
(``typical`` only) is on the best of the repeats, as ``timeit`` advises - the figure least
disturbed by other processes; the median and p90 show how much they disturbed it.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import pstats
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "src") not in sys.path:  # `python benchmarks/bench_opportunities.py` anywhere
    sys.path.insert(0, str(ROOT / "src"))

from laicai.domain.enums import InstKind  # noqa: E402
from laicai.domain.instrument import Instrument  # noqa: E402
from laicai.domain.market import (  # noqa: E402
    BorrowTerms,
    EarnRate,
    FeeRates,
    FundingRate,
    OrderBook,
    Ticker,
)
from laicai.strategy import MarketSnapshot, ScanParams, find_opportunities  # noqa: E402

PAIRS = 300
LEVELS = 400
TARGET_MS = 50.0
NOW_MS = 1_767_225_600_000
FEES = FeeRates(spot_maker=Decimal("0.0008"), spot_taker=Decimal("0.001"),
                swap_maker=Decimal("0.0002"), swap_taker=Decimal("0.0005"))


def _pow10(exp: int) -> Decimal:
    return Decimal(1).scaleb(exp)


def _ladder(best: Decimal, tick: Decimal, size: Decimal, rng: random.Random,
            up: bool) -> tuple[tuple[Decimal, Decimal], ...]:
    step = tick if up else -tick
    levels = []
    px = best
    for _ in range(LEVELS):
        jitter = Decimal(rng.randint(50, 150)) / 100
        levels.append((px, (size * jitter).quantize(size)))
        px += step
    return tuple(levels)


def build_snapshot(level_usdt: int, seed: int = 7) -> MarketSnapshot:
    """300 pairs with prices from 0.05 to 60,000 USDT, 1 bp ticks, 400 levels a side."""
    rng = random.Random(seed)
    instruments: list[Instrument] = []
    books: list[OrderBook] = []
    tickers: list[Ticker] = []
    funding: list[FundingRate] = []
    earn: list[EarnRate] = []
    borrow: list[BorrowTerms] = []
    for i in range(PAIRS):
        base = f"C{i:03d}"
        price = Decimal(str(round(10 ** rng.uniform(math.log10(0.05), math.log10(60000)), 6)))
        mag = math.floor(math.log10(price))
        tick = _pow10(mag - 4)
        mid = price.quantize(tick)
        ct_val = _pow10(round(math.log10(10 / float(price))))  # a contract ~ 10 USDT
        spot = Instrument(f"{base}-USDT", InstKind.SPOT, base, "USDT", tick,
                          lot_size=_pow10(-8), min_size=_pow10(-6))
        swap = Instrument(f"{base}-USDT-SWAP", InstKind.SWAP, base, "USDT", tick,
                          lot_size=Decimal("0.01"), min_size=Decimal("0.01"),
                          contract_value=ct_val, max_leverage=50)
        instruments += [spot, swap]
        spot_size = (Decimal(level_usdt) / mid).quantize(_pow10(-6))
        perp_size = (Decimal(level_usdt) / mid / ct_val).quantize(Decimal("0.01"))
        basis = tick * rng.randint(-3, 5)
        for inst, centre, size in ((spot, mid, spot_size), (swap, mid + basis, perp_size)):
            books.append(OrderBook(inst.inst_id,
                                   bids=_ladder(centre - tick, tick, size, rng, up=False),
                                   asks=_ladder(centre + tick, tick, size, rng, up=True),
                                   ts_ms=NOW_MS))
            tickers.append(Ticker(inst.inst_id, centre, centre - tick, centre + tick,
                                  Decimal(50_000_000), NOW_MS))
        rate = Decimal(rng.randint(1, 30)) / 10_000  # 0.01% .. 0.3% per interval
        if i % 5 == 0:
            rate = -rate
            borrow.append(BorrowTerms(base, Decimal("0.000002"), Decimal(10**12)))
        else:
            earn.append(EarnRate(base, Decimal("0.02")))
        funding.append(FundingRate(swap.inst_id, rate, NOW_MS + 3_600_000,
                                   rng.choice([8, 8, 8, 4, 1]), NOW_MS))
    return MarketSnapshot.of(
        instruments=instruments, funding_rates=funding, order_books=books, tickers=tickers,
        fee_rates=FEES, earn_rates=earn, borrow_terms=borrow,
        total_capital_usdt=Decimal(1_000_000), free_capital_usdt=Decimal(1_000_000),
        open_positions_count=0,
    )


SCENARIOS: dict[str, tuple[int, ScanParams]] = {
    "typical": (1_000, ScanParams(max_open_positions=100)),
    "deep": (170, ScanParams(max_open_positions=100, max_position_value=Decimal(10**9))),
}


def _levels_walked(snapshot: MarketSnapshot, params: ScanParams) -> float:
    """About how many levels a spot entry walk takes: its quantity / the first level's size
    (levels hold 0.5x to 1.5x that size)."""
    result = find_opportunities(snapshot, params, NOW_MS)
    taken = []
    for o in result.opportunities:
        if o.base_qty is None or o.spot_entry_vwap is None:
            continue
        book = snapshot.order_books[f"{o.base}-USDT"]
        size = book.asks[0][1]
        qty = o.spot_entry_qty if o.spot_entry_qty is not None else o.base_qty
        taken.append(float(qty / size))
    return statistics.mean(taken) if taken else 0.0


def run(repeats: int = 30) -> dict[str, Any]:
    out: dict[str, Any] = {"pairs": PAIRS, "levels": LEVELS, "target_ms": TARGET_MS}
    for name, (level_usdt, params) in SCENARIOS.items():
        snapshot = build_snapshot(level_usdt)
        result = find_opportunities(snapshot, params, NOW_MS)  # warm up
        wall, cpu = [], []
        for _ in range(repeats):
            c0, w0 = time.process_time(), time.perf_counter()
            find_opportunities(snapshot, params, NOW_MS)
            wall.append((time.perf_counter() - w0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        out[name] = {
            "median_ms": statistics.median(wall),
            "min_ms": min(wall),
            "p90_ms": sorted(wall)[int(0.9 * (len(wall) - 1))],
            "cpu_median_ms": statistics.median(cpu),
            "costed": sum(1 for o in result.opportunities if o.net_apr is not None),
            "accepted": len(result.accepted),
            "reasons": {str(k): v for k, v in result.reasons().items()},
            "levels_per_walk": _levels_walked(snapshot, params),
        }
    return out


def profile() -> str:
    level_usdt, params = SCENARIOS["typical"]
    snapshot = build_snapshot(level_usdt)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(20):
        find_opportunities(snapshot, params, NOW_MS)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(15)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    res = run(args.repeats)
    print(f"find_opportunities: {PAIRS} pairs, {LEVELS}-level books on both legs, one core "
          f"(target <= {TARGET_MS:.0f} ms a scan)")
    for name in SCENARIOS:
        r = res[name]
        if name == "typical":
            verdict = "PASS" if r["min_ms"] <= TARGET_MS else "FAIL"
        else:
            verdict = "stress case, no target"
        print(f"  {name:8s} best {r['min_ms']:7.2f} ms  median {r['median_ms']:7.2f}  "
              f"p90 {r['p90_ms']:7.2f}  CPU median {r['cpu_median_ms']:7.2f} ms  [{verdict}]")
        print(f"           costed {r['costed']}, accepted {r['accepted']}, "
              f"~{r['levels_per_walk']:.0f} levels per entry walk, rejections {r['reasons']}")
    if args.profile:
        print(profile())


if __name__ == "__main__":
    main()
