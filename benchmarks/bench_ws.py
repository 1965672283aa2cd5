"""WebSocket order-book updates per second delivered to one ccxt.pro watcher.

The simulator (child process) changes the BTC swap book as fast as the pipeline takes it (see
``server_proc._drive``); the unmodified ``ccxt.pro.okx`` client here has one
``watch_order_book`` on the ``books`` channel (snapshot, then incremental updates chained by
``seqId``). Delivered updates are counted where ccxt applies them (``handle_order_book``, one
per ``update`` message) over a window that starts after a warm-up; ``watch_order_book``
returns are counted too (fewer: several messages can land before the watcher resumes). A
broken ``seqId`` chain would surface as ccxt's InvalidNonce and is counted as an error.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from benchmarks.server_proc import ServerProcess

SYMBOL = "BTC/USDT:USDT"


def _counting_client(urls: dict[str, str]) -> Any:
    import ccxt.pro as ccxtpro

    from laicai.testing.sim import ccxt_config

    class CountingOkx(ccxtpro.okx):  # type: ignore[misc,name-defined]
        def __init__(self, config: dict[str, Any]) -> None:
            super().__init__(config)
            self.update_times: list[float] = []
            self.update_levels = 0
            self.snapshots = 0

        def handle_order_book(self, client: Any, message: Any) -> Any:
            action = message.get("action") if isinstance(message, dict) else None
            if action == "update":
                self.update_times.append(time.perf_counter())
                for d in message.get("data") or ():
                    self.update_levels += len(d.get("asks") or ()) + len(d.get("bids") or ())
            elif action == "snapshot":
                self.snapshots += 1
            return super().handle_order_book(client, message)

    c = CountingOkx(ccxt_config(enableRateLimit=False))
    c.urls["api"] = urls
    return c


async def _run(server: ServerProcess, mode: str, seconds: float, warmup: float,
               profile: bool = False) -> dict[str, Any]:
    from ccxt.base.errors import InvalidNonce

    client = _counting_client(server.ccxt_urls())
    errors = 0
    returns = 0
    stalled = False
    try:
        await client.load_markets()
        await client.watch_order_book(SYMBOL)  # subscribed, snapshot in hand
        server.call("drive", mode=mode, seconds=warmup + seconds + 0.3, profile=profile)
        t0 = time.perf_counter()
        w_start, w_end = t0 + warmup, t0 + warmup + seconds
        c0 = c1 = None
        while True:
            now = time.perf_counter()
            if now >= w_end:
                break
            if c0 is None and now >= w_start:
                c0 = time.process_time()
            try:
                await asyncio.wait_for(client.watch_order_book(SYMBOL), timeout=2)
            except InvalidNonce:
                errors += 1
                continue
            except TimeoutError:  # nothing for 2 s: the stream stalled
                stalled = True
                break
            if w_start <= time.perf_counter() < w_end:
                returns += 1
        c1 = time.process_time()
        drive = server.call("drive_result", timeout=60)
    finally:
        await client.close()
    in_window = sum(1 for t in client.update_times if w_start <= t < w_end)
    client_cpu = (c1 - c0) if c0 is not None else float("nan")
    return {
        "mode": mode,
        "seconds": seconds,
        "updates": in_window,
        "updates_per_s": in_window / seconds,
        "returns_per_s": returns / seconds,
        "total_updates_seen": len(client.update_times),
        "levels_per_update": (client.update_levels / len(client.update_times)
                              if client.update_times else float("nan")),
        "server_updates_sent": drive["book_updates_sent"],
        "book_changes": drive["changes"],
        "snapshots": client.snapshots,
        "nonce_errors": errors,
        "stalled": stalled,
        "slow_drops": drive["slow_drops"],
        "client_cpu_ms_per_update": client_cpu / in_window * 1e3 if in_window else float("nan"),
        "drive": drive,
        "server_cpu_ms_per_update": (drive["cpu_s"] / drive["book_updates_sent"] * 1e3
                                     if drive["book_updates_sent"] else float("nan")),
    }


def run(mode: str = "price", seconds: float = 5.0, warmup: float = 1.0,
        profile: bool = False) -> dict[str, Any]:
    with ServerProcess() as server:
        return asyncio.run(_run(server, mode, seconds, warmup, profile))
