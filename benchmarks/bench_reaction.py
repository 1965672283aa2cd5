"""Reaction time: from a mark-price push that crosses the reset threshold to the first
protective order arriving at the simulator.

The bot is the live one: ``build_bot`` (the OKX adapter on the unmodified ccxt / ccxt.pro
client, SQLite, the executor, the engine) run by ``BotRunner`` on the wall clock, with its
ccxt.pro ``mark-price`` watcher on the held swap feeding ``Engine.on_mark`` through the
runner's queue; the full risk check runs every minute (the default) beside it. The simulator
(``SimServer``, rate limiter off) runs in a spawned child process on a real-time clock, so its
WebSocket poller and the bot never share an event loop.

One trial: a SHORT BTC carry is open at price P (entry margin ratio 1/leverage = 0.5). The
benchmark moves the BTC index to 1.33 x P through the simulator's control API
(``POST /sim/price``); the carry's margin ratio at that mark is (0.5 - 0.33) / 1.33 = 0.128,
under ``risk.margin_reset_threshold`` (0.15) and above the emergency ratio (0.10), so the
protective action is a reset (close both legs, reopen). Inside the simulator two stamps are
taken with ``time.perf_counter_ns()``: when the ``mark-price`` push carrying the new mark was
written to the bot's connection (a wrapper around the WebSocket hub's push), and when the first
order after it was booked (a ``SimExchange`` listener on ``order`` events, as in the leg-skew
benchmark). Reaction = order - push: the bot's share only (the simulator's poll interval
between the price move and the push is not counted). Then the reset carry is closed, the price
put back and a fresh carry opened for the next trial.

Simple Earn is off (``strategy.enable_spot_earning: false``): with the coin in Earn the close
waits for the redemption first, which measures the venue, not the bot. The spike guard's
threshold is raised (``risk.spike_pct`` 0.9) so the 33 % jumps do not pause the re-opens, and
the circuit breaker's limits so the closes by hand that end each trial do not trip it.

Baseline: the seed's 45 s polling. A crossing at a uniformly random moment waits for the next
poll: U(0, 45 s), i.e. 22.5 s on average, 44.55 s at p99, plus the cycle's own work.

    uv run python benchmarks/bench_reaction.py [--trials 100]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from benchmarks.server_proc import ChildProcess

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COIN = "BTC"
SWAP = "BTC-USDT-SWAP"
JUMP = Decimal("1.33")  # the mark move of a trial: margin ratio 0.5 -> 0.128
POLL_S = 45.0  # the seed's polling interval (the baseline)
RICH = Decimal(1_000_000)


# ---------------------------------------------------------------------- simulator side
def make_venue() -> Any:
    """BTC only, paying strongly positive funding (a SHORT carry), on a real-time clock."""
    from laicai.sim.clock import ScaledClock
    from laicai.sim.market import CurrencyTerms
    from laicai.testing.sim import make_exchange

    return make_exchange(
        clock=ScaledClock(1.0, start_ms=int(time.time() * 1000)),
        prices={COIN: Decimal(60000)},
        funding={SWAP: (Decimal("0.0005"), 8)},
        trading={"USDT": RICH},
        currencies={COIN: CurrencyTerms(earn_apr=Decimal("0.02")),
                    "USDT": CurrencyTerms(earn_apr=Decimal("0.05"))})


class Stamps:
    """Inside the simulator: when each mark-price push left, when each order arrived."""

    def __init__(self, server: Any) -> None:
        self.pushes: list[tuple[int, str]] = []  # (ns, markPx) of mark-price pushes sent
        self.orders: list[tuple[int, str]] = []  # (ns, clOrdId) of the first event per order
        self._seen: set[str] = set()
        self.ex = server.exchange
        hub = server.ws
        push = hub._push_simple

        def stamped_push(channel: str, inst_id: str, sf: Any, now_t: float,
                         force: bool = False) -> None:
            before = sf.last_push
            push(channel, inst_id, sf, now_t, force)
            if channel == "mark-price" and sf.last_push != before and sf.subs:
                self.pushes.append((time.perf_counter_ns(), str(sf.key)))

        hub._push_simple = stamped_push
        self.ex.listeners.append(self.on_event)

    def on_event(self, ev: Any) -> None:
        if ev.kind != "order":
            return
        t = time.perf_counter_ns()
        order = self.ex.accounts[ev.account].orders.get(ev.key)
        if order is not None and order.cl_ord_id and order.cl_ord_id not in self._seen:
            self._seen.add(order.cl_ord_id)
            self.orders.append((t, order.cl_ord_id))

    def take(self) -> dict[str, Any]:
        out = {"pushes": self.pushes, "orders": self.orders}
        self.pushes, self.orders = [], []
        return out


def child_main(conn: Connection) -> None:
    try:
        asyncio.run(_serve(conn))
    except Exception:  # report, do not hang the parent
        import traceback

        with contextlib.suppress(Exception):
            conn.send({"error": traceback.format_exc()})


async def _serve(conn: Connection) -> None:
    from laicai.sim.server.app import SimServer

    server = SimServer(make_venue(), rate_limits=False)
    await server.start()
    stamps = Stamps(server)
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: inbox.put_nowait(conn.recv()))
    conn.send({"rest": server.rest_url, "ws": server.ws_url,
               "poll_s": server.ws.poll_interval_s})
    try:
        while True:
            cmd, _ = await inbox.get()
            if cmd == "take":
                conn.send(stamps.take())
            elif cmd == "stop":
                break
            else:
                conn.send({"error": f"unknown command {cmd!r}"})
    finally:
        loop.remove_reader(conn.fileno())
        await server.stop()
        conn.send("bye")


class ChildSim(ChildProcess):
    def __init__(self) -> None:
        super().__init__(child_main, "laicai-sim-reaction")
        self.rest_url: str = self.ready["rest"]
        self.ws_url: str = self.ready["ws"]
        self.poll_s: float = self.ready["poll_s"]

    def take(self) -> dict[str, Any]:
        return dict(self.call("take", timeout=30))

    def set_price(self, price: Decimal) -> None:
        """Through the control API, as an operator or a chaos run would."""
        body = json.dumps({"coin": COIN, "price": str(price)}).encode()
        req = urllib.request.Request(f"{self.rest_url}/sim/price", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()


# ---------------------------------------------------------------------- bot side
def _pct(xs: Sequence[float], q: float) -> float:
    s = sorted(xs)
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


async def _wait(cond: Any, within_s: float, what: str) -> None:
    end = time.perf_counter() + within_s
    while not cond():
        if time.perf_counter() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


class Trial:
    """One bot and its simulator; :meth:`once` runs one trial and returns what it saw."""

    def __init__(self, sim: ChildSim, bot: Any, store: Any) -> None:
        from laicai.execution.events import CarryClosed, CarryReset

        self.sim, self.bot, self.store = sim, bot, store
        self.protective: list[str] = []  # the protective actions seen in this trial
        bot.bus.listen(lambda e: self.protective.append(type(e).__name__)
                       if isinstance(e, CarryReset | CarryClosed) else None)

    async def once(self, i: int) -> tuple[str, float | None]:
        """(action, push -> first order in ms; None when a periodic check acted first)."""
        sim, engine, runner = self.sim, self.bot.engine, self.bot.runner
        # a fresh carry, watched: open it, let a full check see it (the runner then
        # watches its swap), and wait until a push reaches the bot
        await runner.submit(engine.scan)
        await runner.submit(engine.manage)
        held = await self.store.list_open_positions()
        if len(held) != 1:
            scan = engine.last_scan
            why = scan.result.reasons() if scan is not None else "no scan"
            raise RuntimeError(f"trial {i}: expected one open carry, got {len(held)} "
                               f"(scan: {why})")
        pos = held[0]
        seen = runner.marks_received
        sim.set_price(pos.entry_swap_price + Decimal("0.1"))  # its push shows the watcher
        await _wait(lambda: runner.marks_received > seen, 30, "a mark-price push")
        sim.take()
        self.protective.clear()
        target = (pos.entry_swap_price * JUMP).quantize(Decimal("0.1"))
        sim.set_price(target)
        await _wait(lambda: bool(self.protective), 30, "the protective action")
        await _wait(lambda: not engine.state.busy, 30, "the engine to rest")
        got = sim.take()
        pushes = [t for t, px in got["pushes"] if Decimal(px) == target]
        orders = [t for t, _ in got["orders"]]
        if not pushes or not orders:
            raise RuntimeError(f"trial {i}: pushes {pushes}, orders {orders}")
        after = [t for t in orders if t >= pushes[0]]
        latency = (after[0] - pushes[0]) / 1e6 if after else None
        # back to where a trial starts: no carry, the price back
        for p in await self.store.list_open_positions():
            await runner.submit(partial(engine.operator_close, p.id, "benchmark"))
        sim.set_price(pos.entry_swap_price)
        await asyncio.sleep(2 * sim.poll_s)  # the bot sees the price back
        return self.protective[0], latency


async def measure(trials: int, warmup: int) -> dict[str, Any]:
    from laicai.config import load_config
    from laicai.config.sections import DatabaseConfig, OkxConfig
    from laicai.engine.bot import build_bot
    from laicai.engine.core import EngineSettings
    from laicai.engine.schedule import HOUR_MS, MINUTE_MS
    from laicai.execution.orders import WallClock
    from laicai.risk import RiskParams
    from laicai.store import open_store
    from laicai.testing.sim import API_KEY, PASSPHRASE, SECRET
    from laicai.venues.okx import OkxCredentials, create_exchange

    base = load_config(None, env={"LAICAI_MODE": "paper"})
    settings = base.model_copy(update={"strategy": base.strategy.model_copy(
        update={"enable_spot_earning": False})})
    # every trial ends with a losing close by hand: the circuit breaker must not count them
    risk = replace(RiskParams.from_settings(settings), spike_pct=Decimal("0.9"),
                   max_consecutive_losses=1_000_000, daily_loss_limit_usdt=RICH)
    es = EngineSettings(mode="paper", ws_prices=True, scan_interval_ms=HOUR_MS,
                        risk_interval_ms=MINUTE_MS, scan_delay_ms=HOUR_MS)
    creds = OkxCredentials.plain(API_KEY, SECRET, PASSPHRASE)
    latencies: list[float] = []
    by_poll = 0  # trials where a periodic check acted before the push was even sent
    actions: dict[str, int] = {}
    with ChildSim() as sim, tempfile.TemporaryDirectory(prefix="laicai-reaction-") as tmp:
        store = await open_store(DatabaseConfig(path=Path(tmp) / "reaction.db"), None)
        try:
            async with create_exchange(
                    OkxConfig(rest_url=sim.rest_url, ws_url=sim.ws_url, sandbox_mode=False,
                              enable_rate_limit=False), creds) as okx:
                bot = await build_bot(settings, venue=okx, store=store, clock=WallClock(),
                                      ws_prices=True, engine_settings=es, risk=risk)
                trial = Trial(sim, bot, store)
                task = asyncio.create_task(bot.runner.run(), name="laicai-bot")
                try:
                    await _wait(lambda: bot.engine.schedule is not None, 30, "the bot")
                    t_start = time.perf_counter()
                    for i in range(warmup + trials):
                        action, latency = await trial.once(i)
                        if i < warmup:
                            continue
                        actions[action] = actions.get(action, 0) + 1
                        if latency is None:
                            by_poll += 1
                        else:
                            latencies.append(latency)
                    wall_s = time.perf_counter() - t_start
                finally:
                    bot.runner.request_stop()
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(task, 30)
        finally:
            await store.close()
    if not latencies:
        raise RuntimeError("no trial measured")
    mean = sum(latencies) / len(latencies)
    return {
        "trials": trials,
        "measured": len(latencies),
        "by_poll": by_poll,
        "actions": actions,
        "p50_ms": _pct(latencies, 0.50),
        "p99_ms": _pct(latencies, 0.99),
        "max_ms": max(latencies),
        "mean_ms": mean,
        "baseline_mean_s": POLL_S / 2,
        "baseline_p50_s": POLL_S * 0.5,
        "baseline_p99_s": POLL_S * 0.99,
        "speedup_mean": POLL_S / 2 * 1000 / mean,
        "sim_poll_ms": sim.poll_s * 1000,
        "wall_s": wall_s,
    }


def run(trials: int = 100, warmup: int = 5) -> dict[str, Any]:
    return asyncio.run(measure(trials, warmup))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args(argv)
    r = run(args.trials, args.warmup)
    print(f"{r['measured']} of {r['trials']} trials ({r['wall_s']:.0f} s; actions "
          f"{r['actions']}; {r['by_poll']} caught by the periodic check first): push -> first "
          f"protective order p50 / p99 / max {r['p50_ms']:.1f} / {r['p99_ms']:.1f} / "
          f"{r['max_ms']:.1f} ms (mean {r['mean_ms']:.1f}); 45 s polling: mean "
          f"{r['baseline_mean_s']:.1f} s, p99 {r['baseline_p99_s']:.2f} s "
          f"({r['speedup_mean']:,.0f}x the mean)")


if __name__ == "__main__":
    from benchmarks.bench_reaction import main as _main  # the child process imports it by name

    _main()
