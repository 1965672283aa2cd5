"""ccxt REST round trip of an order over loopback, and who spends the CPU on it.

The simulator runs in a child process (:mod:`benchmarks.server_proc`, rate limiter off); the
unmodified ``ccxt.async_support.okx`` client (``enableRateLimit`` off) runs here and sends
``create_order`` market orders on the BTC swap, alternating buy and sell so the position stays
bounded, one at a time. Per order: wall-clock latency (p50/p99), the client process's CPU time
(ccxt signing, building and parsing plus the aiohttp client: everything a bot pays), the
simulator's handler CPU time (``SimServer.server_time_s``: auth, matching, rendering) and the
whole simulator process's CPU time (adds aiohttp's HTTP server and the event loop).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from benchmarks.server_proc import ServerProcess

SYMBOL = "BTC/USDT:USDT"


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


async def _run(server: ServerProcess, orders: int, warmup: int) -> dict[str, Any]:
    import ccxt.async_support as ccxt_async

    from laicai.testing.sim import ccxt_config

    client = ccxt_async.okx(ccxt_config(enableRateLimit=False))
    client.urls["api"] = server.ccxt_urls()
    try:
        await client.load_markets()
        sides = ("buy", "sell")
        for i in range(warmup):
            await client.create_order(SYMBOL, "market", sides[i & 1], 1)
        s0 = server.call("stats")
        lat: list[float] = []
        c0, w0 = time.process_time(), time.perf_counter()
        for i in range(orders):
            t = time.perf_counter()
            await client.create_order(SYMBOL, "market", sides[i & 1], 1)
            lat.append(time.perf_counter() - t)
        w1, c1 = time.perf_counter(), time.process_time()
        s1 = server.call("stats")
    finally:
        await client.close()
    requests = s1["request_count"] - s0["request_count"]
    client_cpu = (c1 - c0) / orders
    handler_cpu = (s1["server_time_s"] - s0["server_time_s"]) / orders
    process_cpu = (s1["cpu_s"] - s0["cpu_s"]) / orders
    return {
        "orders": orders,
        "requests": requests,
        "p50_ms": _pct(lat, 0.50) * 1e3,
        "p99_ms": _pct(lat, 0.99) * 1e3,
        "mean_ms": statistics.fmean(lat) * 1e3,
        "orders_per_s": orders / (w1 - w0),
        "client_cpu_ms": client_cpu * 1e3,
        "server_handler_cpu_ms": handler_cpu * 1e3,
        "server_process_cpu_ms": process_cpu * 1e3,
        "handler_to_client": handler_cpu / client_cpu,
        "process_to_client": process_cpu / client_cpu,
    }


def run(orders: int = 500, warmup: int = 50) -> dict[str, Any]:
    with ServerProcess() as server:
        return asyncio.run(_run(server, orders, warmup))
