"""The simulator under test, in a process of its own.

The benchmarks measure the ccxt client in the parent process and the simulator in a spawned
child, so the CPU time of each side is read from its own process and the two never share an
event loop (or a core, on a machine with two or more). The parent talks to the child over a
``multiprocessing`` pipe: ``stats`` (the server's counters and its process CPU time), ``drive``
(start moving the BTC swap book for the WebSocket benchmark), ``drive_result`` and ``stop``.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import random
import time
from collections.abc import Callable
from decimal import Decimal
from multiprocessing.connection import Connection
from typing import Any, Self

INST = "BTC-USDT-SWAP"
RICH = Decimal(1_000_000_000)  # USDT: margin never limits the benchmark


class ChildProcess:
    """A spawned child speaking the benchmarks' pipe protocol: it first sends a ``ready``
    dict (or ``{"error": traceback}``), then answers ``(cmd, args)`` messages; ``stop`` ends
    it. Shared by every benchmark that keeps the simulator out of the measured process."""

    def __init__(self, target: Callable[[Connection], None], name: str,
                 start_timeout: float = 60) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=target, args=(child,), name=name, daemon=True)
        self._proc.start()
        child.close()
        ready = self._recv(start_timeout)
        if "error" in ready:
            self._proc.join(5)
            raise RuntimeError("simulator process failed to start:\n" + ready["error"])
        self.ready: dict[str, Any] = ready

    def _recv(self, timeout: float) -> Any:
        try:
            if not self._conn.poll(timeout):
                raise TimeoutError("the simulator process did not answer")
            return self._conn.recv()
        except EOFError:
            raise RuntimeError("the simulator process died (see its traceback above)") from None

    def call(self, cmd: str, timeout: float = 60, **arg: Any) -> Any:
        self._conn.send((cmd, arg))
        out = self._recv(timeout)
        if isinstance(out, dict) and "error" in out:
            raise RuntimeError("simulator process: " + out["error"])
        return out

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.call("stop", timeout=15)
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.terminate()  # our own child only
            self._proc.join(5)
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ServerProcess(ChildProcess):
    """A SimServer (rate limiter off) running in a child process."""

    def __init__(self) -> None:
        super().__init__(child_main, "laicai-sim-bench")
        self.rest_url: str = self.ready["rest"]
        self.ws_url: str = self.ready["ws"]

    def ccxt_urls(self) -> dict[str, str]:
        return {"rest": self.rest_url, "ws": self.ws_url}


# ---------------------------------------------------------------------- child side
def child_main(conn: Connection) -> None:
    try:
        asyncio.run(_serve(conn))
    except Exception:  # report, do not hang the parent
        import traceback

        with contextlib.suppress(Exception):
            conn.send({"error": traceback.format_exc()})


def _stats(server: Any) -> dict[str, Any]:
    hub = getattr(server, "ws", None)
    return {
        "server_time_s": server.server_time_s,
        "request_count": server.request_count,
        "cpu_s": time.process_time(),
        "book_updates_sent": getattr(hub, "book_updates_sent", 0),
        "messages_sent": getattr(hub, "messages_sent", 0),
        "slow_drops": getattr(hub, "slow_drops", 0),
    }


async def _serve(conn: Connection) -> None:
    from laicai.sim.clock import ScaledClock
    from laicai.sim.server.app import SimServer
    from laicai.testing.sim import START_MS, make_exchange

    ex = make_exchange(clock=ScaledClock(1.0, start_ms=START_MS), trading={"USDT": RICH})
    server = SimServer(ex, rate_limits=False)
    await server.start()
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: inbox.put_nowait(conn.recv()))
    conn.send({"rest": server.rest_url, "ws": server.ws_url})
    driver: asyncio.Task[dict[str, Any]] | None = None
    try:
        while True:
            cmd, arg = await inbox.get()
            try:
                if cmd == "stats":
                    conn.send(_stats(server))
                elif cmd == "drive":
                    driver = asyncio.create_task(_drive(server, **arg))
                    conn.send("ok")
                elif cmd == "drive_result":
                    assert driver is not None, "no drive running"
                    conn.send(await driver)
                    driver = None
                elif cmd == "stop":
                    break
                else:
                    conn.send({"error": f"unknown command {cmd!r}"})
            except Exception as e:
                conn.send({"error": f"{type(e).__name__}: {e}"})
    finally:
        loop.remove_reader(conn.fileno())
        if driver is not None:
            driver.cancel()
            with contextlib.suppress(BaseException):
                await driver
        await server.stop()
        conn.send("bye")


def _backlog(hub: Any) -> int:
    """Messages queued but not yet written, over every WebSocket connection."""
    total = 0
    for c in list(getattr(hub, "conns", ())):
        if getattr(c, "closed", False):
            continue
        q = getattr(c, "queue", None)
        if q is not None:
            total = max(total, len(q))
    return total


async def _drive(server: Any, seconds: float, mode: str, max_backlog: int = 16,
                 profile: bool = False) -> dict[str, Any]:
    """Change the BTC swap book as fast as the WebSocket pipeline takes the pushes.

    ``price``: the BTC index takes a random one-tick step on every change (a rebuild: every
    level of both sides moves, so each push is a large diff). ``trades``: alternate one-contract
    market buys and sells (each eats into the touch: a small diff). The driver yields to the
    event loop after every change so each change becomes its own push, and waits while the
    connection has more than ``max_backlog`` messages queued: the measured rate is what the
    slower side, server or client, sustains, not how fast a queue can grow.
    """
    from laicai.sim import trading

    ex = server.exchange
    hub = server.ws
    loop = asyncio.get_running_loop()
    rng = random.Random(42)
    tick = ex.instruments[INST].tick_sz
    base = ex.index_px("BTC")
    acct = ex.accounts["main"]
    reqs = [{"instId": INST, "side": s, "ordType": "market", "sz": "1", "tdMode": "cross"}
            for s in ("buy", "sell")]
    px = base
    changes = waits = 0
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    s0 = _stats(server)
    t_end = loop.time() + seconds
    while loop.time() < t_end:
        while _backlog(hub) > max_backlog and loop.time() < t_end:
            waits += 1
            await asyncio.sleep(0.0002)
        if mode == "price":
            step = tick if rng.random() < 0.5 else -tick
            if abs(px + step - base) > 200 * tick:
                step = -step
            px += step
            ex.set_price("BTC", price=px)
            ex.book(INST)  # rebuild now: emits the book event the hub pushes from
        elif mode == "trades":
            trading.place_order(ex, acct, reqs[changes & 1])
        else:
            raise ValueError(f"unknown drive mode {mode!r}")
        changes += 1
        await asyncio.sleep(0)
    await asyncio.sleep(0.2)  # let the last pushes go out
    s1 = _stats(server)
    top = ""
    if prof is not None:
        import io
        import pstats

        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).strip_dirs().sort_stats("tottime").print_stats(25)
        top = out.getvalue()
    return {
        "profile": top,
        "changes": changes,
        "waits": waits,
        "book_updates_sent": s1["book_updates_sent"] - s0["book_updates_sent"],
        "messages_sent": s1["messages_sent"] - s0["messages_sent"],
        "slow_drops": s1["slow_drops"] - s0["slow_drops"],
        "cpu_s": s1["cpu_s"] - s0["cpu_s"],
    }
