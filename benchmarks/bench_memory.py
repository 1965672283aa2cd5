"""Memory of a bot over thirty simulated days: after day 1 vs after day 30, in the same run.

The bot is the paper one (``build_bot``: the OKX adapter on the unmodified ccxt client, SQLite
in a temporary directory, the executor, the engine) driven by ``run_simulated`` on a manual
clock with the paper-run test's engine settings (hourly scans, full risk checks and
bookkeeping, equity snapshots every 2 hours; no mark pushes) over the paper-run test's market
(``tests/integration/engine/paper_run_30d.yml``: 30 days of real TON, TRX and BTC funding
history). So that the month churns carries (the history alone opens four and closes one), the
operator closes every open carry at 00:10 each day and the bot reopens what still pays at the
next scans; the circuit breaker's limits are raised so those losing closes do not stop it.

The simulator (``SimServer``) runs in a spawned child process on its manual clock, so its own
growing history (bills, fills, settlements) is not in the figure: the bot's process holds only
the bot. Simulated time moves through the control API (``POST /sim/clock``), for the engine's
timers and the executor's waits alike.

Measured after ``gc.collect()`` at the end of day 1, day 15 and day 30: the resident set size
(``VmRSS``), the Python heap allocated since the bot was built and still alive
(``tracemalloc``, on for the whole run), the number of objects the garbage collector tracks,
and the sizes of the engine's own containers. Growth = day 30 / day 1 - 1 (target <= 10 %);
the second half of the month (day 15 -> 30) tells warm-up from a leak, and the biggest heap
growers by source line are listed for both.

    uv run python benchmarks/bench_memory.py [--days 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from benchmarks.server_proc import ChildProcess

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# the paper-run test's scenario: 30 days of real TON / TRX / BTC funding (a month of strongly
# negative TON and TRX funding, TON's flip, a squeeze at the end)
SCENARIO = ROOT / "tests" / "integration" / "engine" / "paper_run_30d.yml"
DAY_MS = 86_400_000
CHURN_AT_MS = 10 * 60_000  # every day at 00:10 the operator closes what is open


# ---------------------------------------------------------------------- simulator side
def child_main(conn: Connection) -> None:
    try:
        asyncio.run(_serve(conn))
    except Exception:  # report, do not hang the parent
        import traceback

        with contextlib.suppress(Exception):
            conn.send({"error": traceback.format_exc()})


async def _serve(conn: Connection) -> None:
    from laicai.sim.server.app import SimServer, build_exchange

    ex, setup = build_exchange(str(SCENARIO), None, 1.0, manual_clock=True)
    server = SimServer(ex, rate_limits=False)
    await server.start()
    acct = setup.accounts[0]
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: inbox.put_nowait(conn.recv()))
    conn.send({"rest": server.rest_url, "start_ms": setup.start_ms,
               "key": (acct.api_key, acct.secret_key, acct.passphrase)})
    try:
        while True:
            cmd, _ = await inbox.get()
            if cmd == "stop":
                break
            conn.send({"error": f"unknown command {cmd!r}"})
    finally:
        loop.remove_reader(conn.fileno())
        await server.stop()
        conn.send("bye")


class ChildSim(ChildProcess):
    def __init__(self) -> None:
        super().__init__(child_main, "laicai-sim-memory", start_timeout=120)
        self.rest_url: str = self.ready["rest"]
        self.start_ms: int = self.ready["start_ms"]
        self.key: tuple[str, str, str] = tuple(self.ready["key"])


class ControlClock:
    """The simulator's manual clock, seen and moved from the bot's process: ``now`` is the
    time last set, ``sleep`` and ``set`` move the simulator through ``POST /sim/clock``
    (blocking calls: the simulator is another process, nothing here waits for this loop)."""

    def __init__(self, rest_url: str, start_ms: int) -> None:
        self.url = f"{rest_url}/sim/clock"
        self.ms = start_ms

    def _post(self, body: dict[str, int]) -> None:
        req = urllib.request.Request(self.url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            self.ms = int(json.loads(resp.read())["nowMs"])

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.ms / 1000, UTC)

    async def sleep(self, seconds: float) -> None:
        step = int(seconds * 1000)
        if step > 0:
            self._post({"advance_ms": step})
        await asyncio.sleep(0)

    def set(self, ts_ms: int) -> None:
        if ts_ms > self.ms:
            self._post({"set_ms": ts_ms})


# ---------------------------------------------------------------------- bot side
def rss_bytes() -> int:
    with open("/proc/self/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def sample(engine: Any) -> dict[str, Any]:
    gc.collect()
    traced, _ = tracemalloc.get_traced_memory()
    return {
        "rss": rss_bytes(),
        "traced": traced,
        "gc_objects": len(gc.get_objects()),
        "containers": {
            "health.samples": len(engine.health.samples),
            "prices (samples)": sum(len(d) for d in engine.prices.values()),
            "memory.carries": len(engine.memory.carries),
            "last_views": len(engine.last_views),
            "margin_written": len(engine._margin_written),
            "books.fills": len(engine._books._fills),
        },
        "snapshot": tracemalloc.take_snapshot(),
    }


async def measure(days: int) -> dict[str, Any]:
    from laicai.config import load_config
    from laicai.config.sections import DatabaseConfig, OkxConfig
    from laicai.engine.bot import build_bot
    from laicai.engine.core import EngineSettings
    from laicai.engine.runner import run_simulated
    from laicai.engine.schedule import HOUR_MS, MINUTE_MS
    from laicai.execution.events import CarryClosed, CarryOpened, CarryReset
    from laicai.risk import RiskParams
    from laicai.store import open_store
    from laicai.venues.okx import OkxCredentials, create_exchange

    settings = load_config(None, env={"LAICAI_MODE": "paper"})
    # the daily closes by hand lose their fees: the circuit breaker must not stop the churn
    risk = replace(RiskParams.from_settings(settings), max_consecutive_losses=1_000_000,
                   daily_loss_limit_usdt=Decimal(1_000_000))
    es = EngineSettings(mode="paper", scan_interval_ms=HOUR_MS, risk_interval_ms=HOUR_MS,
                        equity_interval_ms=2 * HOUR_MS, heartbeat_ms=6 * HOUR_MS,
                        scan_delay_ms=5 * MINUTE_MS)
    counts = {"opened": 0, "closed": 0, "resets": 0}

    def count(e: Any) -> None:  # counters only: the benchmark keeps no event
        if isinstance(e, CarryOpened):
            counts["opened"] += 1
        elif isinstance(e, CarryClosed):
            counts["closed"] += 1
        elif isinstance(e, CarryReset):
            counts["resets"] += 1

    with ChildSim() as sim, tempfile.TemporaryDirectory(prefix="laicai-memory-") as tmp:
        clock = ControlClock(sim.rest_url, sim.start_ms)
        store = await open_store(DatabaseConfig(path=Path(tmp) / "memory.db"), None)
        try:
            async with create_exchange(
                    OkxConfig(rest_url=sim.rest_url, sandbox_mode=False,
                              enable_rate_limit=False),
                    OkxCredentials.plain(*sim.key)) as okx:
                bot = await build_bot(settings, venue=okx, store=store, clock=clock,
                                      ws_prices=False, engine_settings=es, risk=risk)
                engine = bot.engine
                bot.bus.listen(count)
                tracemalloc.start()
                t0 = time.perf_counter()
                await engine.start()

                async def day(n: int) -> None:  # run day n, closing what is open at 00:10
                    churn = sim.start_ms + (n - 1) * DAY_MS + CHURN_AT_MS
                    await run_simulated(engine, churn, clock.set)
                    for pos in await store.list_open_positions():
                        await engine.operator_close(pos.id, "benchmark")
                    await run_simulated(engine, sim.start_ms + n * DAY_MS, clock.set)

                mid_day = max(2, days // 2)
                await day(1)
                day1 = sample(engine)
                t1 = time.perf_counter()
                for n in range(2, days + 1):
                    await day(n)
                    if n == mid_day:
                        mid = sample(engine)
                last = sample(engine)
                t2 = time.perf_counter()
                positions = len(await store.list_open_positions())
                await engine.stop("benchmark over")
                tracemalloc.stop()
        finally:
            await store.close()
    late = last["snapshot"].compare_to(mid.pop("snapshot"), "lineno")
    growers = last.pop("snapshot").compare_to(day1.pop("snapshot"), "lineno")
    top = [(str(s.traceback[0]), s.size_diff, s.count_diff) for s in growers[:8]]
    top_late = [(str(s.traceback[0]), s.size_diff, s.count_diff) for s in late[:8]]
    return {
        "scenario": SCENARIO.stem,
        "days": days,
        "mid_day": mid_day,
        "day1": day1,
        "mid": mid,
        "last": last,
        "late_growth": last["traced"] / mid["traced"] - 1,
        "top_late": top_late,
        "rss_growth": last["rss"] / day1["rss"] - 1,
        "traced_growth": last["traced"] / day1["traced"] - 1,
        "objects_growth": last["gc_objects"] / day1["gc_objects"] - 1,
        "top_growers": top,
        "counts": counts,
        "open_at_end": positions,
        "day1_s": t1 - t0,
        "wall_s": t2 - t0,
    }


def run(days: int = 30) -> dict[str, Any]:
    return asyncio.run(measure(days))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=30)
    args = ap.parse_args(argv)
    r = run(args.days)
    mb = 1024 * 1024
    d1, dn = r["day1"], r["last"]
    print(f"{r['scenario']}, {r['days']} simulated days in {r['wall_s']:.0f} s "
          f"({r['counts']}, {r['open_at_end']} open at the end)")
    print(f"RSS {d1['rss'] / mb:.1f} -> {dn['rss'] / mb:.1f} MiB ({r['rss_growth']:+.1%}); "
          f"Python heap since start {d1['traced'] / mb:.2f} -> {dn['traced'] / mb:.2f} MiB "
          f"({r['traced_growth']:+.1%}); gc objects {d1['gc_objects']:,} -> "
          f"{dn['gc_objects']:,} ({r['objects_growth']:+.1%})")
    dm = r["mid"]
    print(f"Python heap at day {r['mid_day']}: {dm['traced'] / mb:.2f} MiB (day "
          f"{r['mid_day']} -> {r['days']}: {r['late_growth']:+.1%}); RSS "
          f"{dm['rss'] / mb:.1f} MiB")
    print(f"engine containers day 1: {d1['containers']}\n  day {r['days']}: {dn['containers']}")
    print(f"biggest heap growers, day 1 -> {r['days']}:")
    for where, size, n in r["top_growers"]:
        print(f"  {size / 1024:+9.1f} KiB {n:+7d} objects  {where}")
    print(f"biggest heap growers, day {r['mid_day']} -> {r['days']}:")
    for where, size, n in r["top_late"]:
        print(f"  {size / 1024:+9.1f} KiB {n:+7d} objects  {where}")


if __name__ == "__main__":
    from benchmarks.bench_memory import main as _main  # the child process imports it by name

    _main()
