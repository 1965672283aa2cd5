"""End-to-end scan against the simulator with OKX's real rate limits enforced, versus the naive
sequential fetch a simple bot does (one request at a time: every swap's funding, ticker and
both books in turn).

Both run through the same adapter (so neither can trip 50011) against the same venue; a
``delay`` fault adds a fixed latency to every request to stand in for the network between a
bot and OKX (loopback has none, which would hide what concurrency buys).

    uv run python benchmarks/bench_scan.py [--coins 60] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from laicai.config import load_config  # noqa: E402
from laicai.config.sections import OkxConfig  # noqa: E402
from laicai.engine.scan import scan_once  # noqa: E402
from laicai.sim.faults import Fault  # noqa: E402
from laicai.sim.server.app import SimServer  # noqa: E402
from laicai.strategy import ScanParams  # noqa: E402
from laicai.testing.sim import API_KEY, PASSPHRASE, SECRET, make_exchange  # noqa: E402
from laicai.venues.okx import OkxCredentials, OkxExchange, create_exchange  # noqa: E402


def venue(coins: int) -> Any:
    names = {f"C{n:03d}": Decimal(10 + n) for n in range(coins)}
    return make_exchange(prices=names,
                         funding={f"{c}-USDT-SWAP": (Decimal("0.0004"), 8) for c in names},
                         currencies={})


async def naive(okx: OkxExchange) -> int:
    """What a simple bot does: everything one request after another."""
    requests = 0
    for _ in await okx.instruments():
        pass
    funding = await okx.funding_rates()
    await okx.tickers()
    await okx.fee_rates()
    await okx.balances()
    requests += 5
    for f in funding:
        base = f.inst_id.removesuffix("-SWAP")
        await okx.order_book(base)
        await okx.order_book(f.inst_id)
        requests += 2
    return requests


async def measure(coins: int, latency_ms: int) -> dict[str, Any]:
    params = ScanParams.from_settings(load_config(None, env={}))
    creds = OkxCredentials.plain(API_KEY, SECRET, PASSPHRASE)
    out: dict[str, Any] = {"coins": coins, "latency_ms": latency_ms}
    for label in ("laicai", "naive"):
        ex = venue(coins)
        if latency_ms:
            ex.faults.add(Fault("delay", delay_ms=latency_ms, count=None))
        async with SimServer(ex, rate_limits=True) as srv, create_exchange(
                OkxConfig(rest_url=srv.rest_url, sandbox_mode=False), creds) as okx:
            await okx.instruments()  # load markets outside the timing, for both
            t0 = time.perf_counter()
            if label == "laicai":
                report = await scan_once(okx, params)
                out["books"] = report.books_fetched
                out["accepted"] = len(report.result.accepted)
            else:
                await naive(okx)
            out[f"{label}_s"] = time.perf_counter() - t0
            out[f"{label}_50011"] = srv.error_counts.get("50011", 0)
            out[f"{label}_requests"] = srv.request_count
    out["speedup"] = out["naive_s"] / out["laicai_s"]
    return out


def run(coins: int = 60, latency_ms: int = 50) -> dict[str, Any]:
    return asyncio.run(measure(coins, latency_ms))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--coins", type=int, default=60)
    ap.add_argument("--latency-ms", type=int, default=50)
    args = ap.parse_args(argv)
    r = run(args.coins, args.latency_ms)
    print(f"{r['coins']} swaps ({r['books']} books), {r['latency_ms']} ms added per request, "
          f"real OKX rate limits: laicai scan {r['laicai_s']:.2f} s, naive sequential "
          f"{r['naive_s']:.2f} s -> {r['speedup']:.1f}x; 50011 seen: "
          f"{r['laicai_50011']} / {r['naive_50011']}")


if __name__ == "__main__":
    main()
