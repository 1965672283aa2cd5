"""Leg skew of a carry open: how far apart the two legs reach the simulator.

laicai: ``CarryExecutor.open`` of a SHORT BTC carry (buy spot + short perp) through the real
OKX adapter; ``HedgeDriver`` sends both legs of a round with ``asyncio.gather``. Baseline: the
same two orders sent one after the other (``await place_order(spot)`` then
``await place_order(perp)``, the adapter's call, which returns after OKX's answer and the
read-back by client order id). Skew = |arrival(perp) - arrival(spot)| of the first round.

Arrival is stamped by a listener on the ``SimExchange``: ``time.perf_counter_ns()`` at the first
``order`` event of each clOrdId, which the simulator emits synchronously inside the request
handler once the order is booked (after matching: tens of microseconds, alike for both legs).
Both stamps come from the simulator's process, so no clock is compared across processes.

By default the simulator (``SimServer``, rate limiter off) runs in a child process, as in the
REST and WebSocket benchmarks: in one process the server's handling of the first leg shares the
event loop with the client still sending the second and would be billed to the skew
(``--in-process`` measures that way, for comparison). The client's per-endpoint rate limiter is
off too: at full speed ``account/balance`` (10 per 2 s, read three times per open and three per
close) would make every figure a limiter wait. Simple Earn is disabled and the orders are
market orders (``ExecutionParams(enable_spot_earning=False, order_style="taker")``), so an open
is just the two legs: leverage, exposure reads, the journaled round (each leg's ``pending`` row
is written before it is sent), a last exposure read and the store updates.

Each iteration: open (timed) and close the carry, then send the baseline pair (its skew
measured) and flatten it, on one venue with plenty of USDT, the store on SQLite in a temporary
directory; simulated time moves one book-refresh interval (1 s) before each of the four steps
so the books are whole again. Laicai and the baseline alternate, so machine noise hits both.

    uv run python benchmarks/bench_legs.py [--opens 1000] [--in-process]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import sys
import tempfile
import time
from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RICH = Decimal(1_000_000_000)  # USDT: the account never runs short over 1,000 round trips
STEP_MS = 1000  # simulated time between steps: the default book refresh interval


# ---------------------------------------------------------------------- simulator side
def make_venue() -> Any:
    """BTC only, paying strongly positive funding: a SHORT carry (buy spot + short perp)."""
    from laicai.sim.market import CurrencyTerms
    from laicai.testing.sim import make_exchange

    return make_exchange(
        prices={"BTC": Decimal(60000)},
        funding={"BTC-USDT-SWAP": (Decimal("0.0005"), 8)},
        trading={"USDT": RICH},
        currencies={"BTC": CurrencyTerms(earn_apr=Decimal("0.02")),
                    "USDT": CurrencyTerms(earn_apr=Decimal("0.05"))})


class Recorder:
    """Listener on the venue: perf_counter_ns() of the first ``order`` event of each clOrdId."""

    def __init__(self, ex: Any) -> None:
        self.ex = ex
        self.first: dict[str, int] = {}
        ex.listeners.append(self)

    def __call__(self, ev: Any) -> None:
        if ev.kind != "order":
            return
        t = time.perf_counter_ns()
        order = self.ex.accounts[ev.account].orders.get(ev.key)
        if order is not None and order.cl_ord_id and order.cl_ord_id not in self.first:
            self.first[order.cl_ord_id] = t

    def take(self, ids: Sequence[str]) -> list[int | None]:
        out = [self.first.get(i) for i in ids]
        self.first.clear()
        return out

    def advance(self) -> None:
        """One book-refresh interval later; books rebuilt now, not inside the next order."""
        self.ex.clock.advance(STEP_MS)
        self.ex.sync()
        for inst_id in self.ex.books:
            self.ex.book(inst_id)


class LocalSim:
    """Simulator in this process (``--in-process``)."""

    async def __aenter__(self) -> LocalSim:
        from laicai.sim.server.app import SimServer

        self.rec = Recorder(make_venue())
        self.server = SimServer(self.rec.ex, rate_limits=False)
        await self.server.start()
        self.rest_url: str = self.server.rest_url
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.stop()

    def advance(self) -> None:
        self.rec.advance()

    def take(self, ids: Sequence[str]) -> list[int | None]:
        return self.rec.take(ids)


class ChildSim:
    """Simulator in a spawned child process, driven over a pipe (outside the timed parts)."""

    async def __aenter__(self) -> ChildSim:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=child_main, args=(child,), name="laicai-sim-legs",
                                 daemon=True)
        self._proc.start()
        child.close()
        ready = self._recv(60)
        if "error" in ready:
            self._proc.join(5)
            raise RuntimeError("simulator process failed to start:\n" + ready["error"])
        self.rest_url = ready["rest"]
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self._call("stop")
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.terminate()  # our own child only
            self._proc.join(5)
        self._conn.close()

    def _recv(self, timeout: float) -> Any:
        try:
            if not self._conn.poll(timeout):
                raise TimeoutError("the simulator process did not answer")
            return self._conn.recv()
        except EOFError:
            raise RuntimeError("the simulator process died (see its traceback above)") from None

    def _call(self, cmd: str, **arg: Any) -> Any:
        self._conn.send((cmd, arg))
        out = self._recv(60)
        if isinstance(out, dict) and "error" in out:
            raise RuntimeError("simulator process: " + out["error"])
        return out

    def advance(self) -> None:
        self._call("advance")

    def take(self, ids: Sequence[str]) -> list[int | None]:
        return list(self._call("take", ids=list(ids)))


def child_main(conn: Connection) -> None:
    try:
        asyncio.run(_serve(conn))
    except Exception:  # report, do not hang the parent
        import traceback

        with contextlib.suppress(Exception):
            conn.send({"error": traceback.format_exc()})


async def _serve(conn: Connection) -> None:
    from laicai.sim.server.app import SimServer

    rec = Recorder(make_venue())
    server = SimServer(rec.ex, rate_limits=False)
    await server.start()
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: inbox.put_nowait(conn.recv()))
    conn.send({"rest": server.rest_url})
    try:
        while True:
            cmd, arg = await inbox.get()
            try:
                if cmd == "advance":
                    rec.advance()
                    conn.send("ok")
                elif cmd == "take":
                    conn.send(rec.take(arg["ids"]))
                elif cmd == "stop":
                    break
                else:
                    conn.send({"error": f"unknown command {cmd!r}"})
            except Exception as e:
                conn.send({"error": f"{type(e).__name__}: {e}"})
    finally:
        loop.remove_reader(conn.fileno())
        await server.stop()
        conn.send("bye")


# ---------------------------------------------------------------------- client side
def _pct(xs: Sequence[float], q: float) -> float:
    s = sorted(xs)
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def _skew_ms(stamps: list[int | None], what: str) -> float:
    a, b = stamps
    if a is None or b is None:
        raise RuntimeError(f"{what}: a leg never reached the simulator ({stamps})")
    return (b - a) / 1e6  # perp - spot, signed


async def measure(opens: int, warmup: int, in_process: bool) -> dict[str, Any]:
    from laicai.config import load_config
    from laicai.config.sections import DatabaseConfig, OkxConfig
    from laicai.domain.enums import Side
    from laicai.domain.instrument import round_to_step
    from laicai.domain.orders import OrderRequest, OrderType
    from laicai.engine.scan import scan_once
    from laicai.execution.carry import CarryExecutor, ExecutionParams
    from laicai.execution.events import ExecutionEvent, LegRepaired
    from laicai.execution.ids import client_order_id
    from laicai.execution.orders import WallClock
    from laicai.store import open_store
    from laicai.store.states import PositionStatus
    from laicai.strategy import ScanParams
    from laicai.testing.sim import API_KEY, PASSPHRASE, SECRET
    from laicai.venues.okx import OkxCredentials, create_exchange

    creds = OkxCredentials.plain(API_KEY, SECRET, PASSPHRASE)
    sim: LocalSim | ChildSim = LocalSim() if in_process else ChildSim()
    repairs = 0

    def on_event(e: ExecutionEvent) -> None:
        nonlocal repairs
        repairs += isinstance(e, LegRepaired)

    laicai_skew: list[float] = []
    seq_skew: list[float] = []
    open_ms: list[float] = []
    with tempfile.TemporaryDirectory(prefix="laicai-legs-") as tmp:
        store = await open_store(DatabaseConfig(path=Path(tmp) / "legs.db"), None)
        try:
            async with sim, create_exchange(
                    OkxConfig(rest_url=sim.rest_url, sandbox_mode=False,
                              enable_rate_limit=False), creds) as okx:
                instruments = {i.inst_id: i for i in await okx.instruments()}
                fees = await okx.fee_rates()
                params = ExecutionParams(enable_spot_earning=False, order_style="taker")
                executor = CarryExecutor(okx, store, WallClock(), instruments=instruments,
                                         spot_fee_rate=fees.spot_taker, params=params,
                                         on_event=on_event)
                settings = load_config(None, env={})
                report = await scan_once(okx, ScanParams.from_settings(settings))
                opp = next((o for o in report.result.accepted if o.base == "BTC"), None)
                if opp is None or opp.base_qty is None or opp.spot_inst_id is None:
                    raise RuntimeError(f"no accepted BTC carry: {report.result.reasons()}")
                spot, swap = instruments[opp.spot_inst_id], instruments[opp.swap_inst_id]
                # the baseline sends what the driver's first round sends
                contracts = round_to_step(opp.base_qty / swap.contract_value, swap.lot_size,
                                          ROUND_DOWN)
                base = contracts * swap.contract_value
                spot_buy = round_to_step(base / (1 - fees.spot_taker), spot.lot_size,
                                         ROUND_CEILING)
                spot_sell = round_to_step(base, spot.lot_size, ROUND_DOWN)
                t_start = time.perf_counter()
                for i in range(warmup + opens):
                    sim.advance()
                    t0 = time.perf_counter_ns()
                    pos = await executor.open(opp)
                    t1 = time.perf_counter_ns()
                    if pos.status is not PositionStatus.OPEN:
                        raise RuntimeError(f"open {i} ended {pos.status}: {pos.close_reason}")
                    ids = [client_order_id(pos.id, "open", 0, leg) for leg in ("spot", "perp")]
                    skew = _skew_ms(sim.take(ids), f"laicai open {i}")
                    sim.advance()
                    await executor.close(pos.id, "benchmark")

                    sim.advance()
                    s_id, p_id = f"bq{i}s", f"bq{i}p"
                    await okx.place_order(OrderRequest(s_id, spot.inst_id, Side.BUY,
                                                       OrderType.MARKET, spot_buy, "cash"))
                    await okx.place_order(OrderRequest(p_id, swap.inst_id, Side.SELL,
                                                       OrderType.MARKET, contracts, "cross"))
                    base_skew = _skew_ms(sim.take([s_id, p_id]), f"sequential pair {i}")
                    sim.advance()
                    await asyncio.gather(
                        okx.place_order(OrderRequest(f"bx{i}s", spot.inst_id, Side.SELL,
                                                     OrderType.MARKET, spot_sell, "cash")),
                        okx.place_order(OrderRequest(f"bx{i}p", swap.inst_id, Side.BUY,
                                                     OrderType.MARKET, contracts, "cross",
                                                     reduce_only=True)))
                    sim.take([])
                    if i >= warmup:
                        laicai_skew.append(skew)
                        seq_skew.append(base_skew)
                        open_ms.append((t1 - t0) / 1e6)
                wall_s = time.perf_counter() - t_start
        finally:
            await store.close()
    lai = [abs(x) for x in laicai_skew]
    seq = [abs(x) for x in seq_skew]
    out: dict[str, Any] = {
        "opens": opens,
        "warmup": warmup,
        "mode": "in-process" if in_process else "child process",
        "spot_size": str(spot_buy),
        "contracts": str(contracts),
        "laicai_p50_ms": _pct(lai, 0.50),
        "laicai_p99_ms": _pct(lai, 0.99),
        "laicai_max_ms": max(lai),
        "laicai_perp_first": sum(x < 0 for x in laicai_skew) / len(laicai_skew),
        "seq_p50_ms": _pct(seq, 0.50),
        "seq_p99_ms": _pct(seq, 0.99),
        "open_p50_ms": _pct(open_ms, 0.50),
        "open_p99_ms": _pct(open_ms, 0.99),
        "repairs": repairs,
        "wall_s": wall_s,
    }
    out["ratio_p50"] = out["seq_p50_ms"] / out["laicai_p50_ms"]
    out["ratio_p99"] = out["seq_p99_ms"] / out["laicai_p99_ms"]
    return out


def run(opens: int = 1000, warmup: int = 20, in_process: bool = False) -> dict[str, Any]:
    return asyncio.run(measure(opens, warmup, in_process))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--opens", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--in-process", action="store_true",
                    help="run the simulator in this process (its handlers share the loop)")
    args = ap.parse_args(argv)
    r = run(args.opens, args.warmup, args.in_process)
    print(f"{r['opens']} opens ({r['mode']} simulator, {r['wall_s']:.0f} s): leg skew p50 / p99 "
          f"laicai {r['laicai_p50_ms']:.3f} / {r['laicai_p99_ms']:.3f} ms (max "
          f"{r['laicai_max_ms']:.3f}, perp first {r['laicai_perp_first']:.0%}), sequential "
          f"{r['seq_p50_ms']:.3f} / {r['seq_p99_ms']:.3f} ms, ratio {r['ratio_p50']:.1f}x / "
          f"{r['ratio_p99']:.1f}x; open latency p50 / p99 {r['open_p50_ms']:.2f} / "
          f"{r['open_p99_ms']:.2f} ms; legs repaired: {r['repairs']}")


if __name__ == "__main__":
    from benchmarks.bench_legs import main as _main  # the child process imports it by name

    _main()
