"""The rig of ``test_bot_sigkill.py``: ``laicai sim`` and ``laicai run`` as real processes, a
driver that steers the simulator so the bot opens, resets and closes, kills the bot with
SIGKILL at seeded random moments, restarts it, and finally checks that the database and the
exchange agree. (Its own module name: test modules import it by a name no other test
directory uses.)

One *pair* is one simulator and one bot on it (their own port, database, config and logs);
the test runs a few pairs side by side. A pair lives through *lifetimes* of the bot:

1. between lifetimes (the bot is dead) the driver reads the database and chooses a stimulus:
   a coin without a carry gets its strong funding back (the bot opens it at its first scan,
   5 s after the start); when every carry is at rest and some are OPEN, it either moves their
   prices so their margin ratio falls to 0.125 (between ``margin_emergency_ratio`` and
   ``margin_reset_threshold``: the first risk check resets them) or flips their funding past
   ``profit_close_threshold`` (the first risk check closes them); with a carry in flight it
   does nothing: recovery finishes it;
2. the bot is started (``laicai run --skip-check``: the self-check refuses a start while the
   killed engine's heartbeat is fresh);
3. the *trigger* is the first request of a burst of activity that one of the simulator's
   ``delay`` faults holds (every order, transfer, Earn and loan request is held 100-400 ms,
   so that a kill often falls while a request is on its way and is carried out after the
   bot is dead); the bot is killed a seeded random delay into the burst, or the burst is left
   to finish and the next one awaited (the carries must get somewhere now and then; after a
   close's recovery the bot opens again); with no burst for a while it is killed idle;
4. the kill is classified by what it left for recovery to finish: a position between two
   states (OPENING = open, RESETTING = reset, REDEEMING or CLOSING = close), a journal
   intent not finished, or a SHORT carry's Simple Earn subscription (the last step of an open
   or of a reset's reopen) not finished; nothing = idle. The pairs kill until the test's
   budget (:class:`Budget`) says stop.

At the end the bot is started once more with no stimulus, no faults and no new entries
(``min_annualized_return`` 10), left to settle, stopped with SIGTERM, and compared with the
exchange: :func:`convergence_problems`.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp

HERE = Path(__file__).resolve().parent
ZYGOTE = HERE / "sigkill_zygote.py"
SCENARIO = HERE / "sigkill_scenario.yml"
D = Decimal
ZERO = D(0)

STARTED = "bot state STARTING -> "  # logged when start() (crash recovery included) is done
IN_FLIGHT = {"OPENING": "open", "RESETTING": "reset", "REDEEMING": "close", "CLOSING": "close"}
JOURNAL_OPS = {"open": "open", "unwind": "open", "reset": "reset", "close": "close",
               "flatten": "close"}  # the operation of an intent (its first word)
AT_REST = ("OPEN", "CLOSED", "FAILED")
FINAL = ("CLOSED", "FAILED")
SIM_TO_DB_STATE = {"live": "open", "partially_filled": "open"}  # OKX's order states -> ours
TARGET_RATIO = D("0.125")  # between margin_emergency_ratio 0.1 and margin_reset_threshold 0.15


@dataclass(frozen=True)
class Coin:
    name: str
    price: Decimal  # the scenario's price (restored when the coin is flat)

    @property
    def swap(self) -> str:
        return f"{self.name}-USDT-SWAP"

    @property
    def spot(self) -> str:
        return f"{self.name}-USDT"


# BTC's funding makes the bot open a SHORT carry, DOGE's a LONG one (sigkill_scenario.yml);
# a flipped funding can make it open the other direction on a coin now and then
COINS = (Coin("BTC", D(60000)), Coin("DOGE", D("0.2")))
FLIPPED_RATE = {"SHORT": D("-0.001"), "LONG": D("0.001")}  # makes the exit rule close a carry


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def write_config(path: Path, *, port: int, db: Path, log: Path, final: bool) -> None:
    """The bot's config: paper mode on the pair's simulator, SQLite, a 2 s scan; breaker,
    spike pause, stop loss and take profit out of the way (the test forces losses on
    purpose); ``final``: no new entries."""
    path.write_text(f"""\
mode: paper
okx:
  rest_url: http://127.0.0.1:{port}
  enable_rate_limit: false
database:
  path: {db}
strategy:
  scan_interval_seconds: 2
  min_volume_24h_usdt: 0
  min_annualized_return: {10 if final else 0.15}
risk:
  spike_pct: 0.9
  stop_loss: -0.9
  take_profit: 1
  circuit_breaker:
    max_consecutive_losses: 100
    daily_loss_limit_usdt: 100000000
    max_drawdown: 0.9
execution:
  redeem_timeout_seconds: 20
web:
  enabled: false
logging:
  level: INFO
  file: {log}
""")


# ---------------------------------------------------------------------- the fork server
def _append(path: Path) -> BinaryIO:
    return path.open("ab")


class Zygote:
    """Client of ``sigkill_zygote.py``: spawns ``laicai ...`` processes, reaps them."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lock = asyncio.Lock()
        self.live: set[int] = set()
        self.cpu: dict[int, float] = {}  # CPU seconds of each child that ended

    @classmethod
    @asynccontextmanager
    async def running(cls, cwd: Path) -> AsyncIterator[Zygote]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAICAI_")}
        with _append(cwd / "zygote.err") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(ZYGOTE), stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=err, cwd=cwd, env=env)
        z = cls(proc)
        try:
            assert proc.stdout is not None
            ready = await asyncio.wait_for(proc.stdout.readline(), 120)
            assert json.loads(ready or b"{}") == {"ready": True}, (
                f"the fork server did not start: {(cwd / 'zygote.err').read_text()[-2000:]}")
            yield z
        finally:
            for pid in list(z.live):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()

    async def _call(self, req: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        async with self.lock:
            self.proc.stdin.write((json.dumps(req) + "\n").encode())
            await self.proc.stdin.drain()
            line = await asyncio.wait_for(self.proc.stdout.readline(), 30)
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    async def spawn(self, argv: list[str], out: Path, cwd: Path) -> int:
        pid = int((await self._call({"cmd": "spawn", "argv": argv, "log": str(out),
                                      "cwd": str(cwd)}))["pid"])
        self.live.add(pid)
        return pid

    async def poll(self, pid: int) -> int | None:
        """The exit code (``-signal`` when killed), or None while it runs."""
        answer = await self._call({"cmd": "reap", "pid": pid})
        code = answer["exit"]
        if code is not None:
            self.live.discard(pid)
            self.cpu[pid] = float(answer["cpu"])
        return None if code is None else int(code)

    async def stop(self, pid: int, sig: int = signal.SIGKILL, grace_s: float = 20.0) -> int:
        """Signal ``pid`` and reap it (SIGKILL after ``grace_s``); its exit code."""
        with suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + grace_s
        while True:
            code = await self.poll(pid)
            if code is not None:
                return code
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + grace_s
            await asyncio.sleep(0.02)


# ---------------------------------------------------------------------- the simulator
class SimControl:
    """The simulator's /sim control API and two public reads."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url

    async def _get(self, path: str) -> Any:
        async with self.http.get(self.url + path) as r:
            r.raise_for_status()
            return await r.json()

    async def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        async with self.http.request(method, self.url + path, json=body) as r:
            data = await r.json()
            assert r.status == 200, f"{method} {path} {body}: {r.status} {data}"
            return data

    async def state(self) -> dict[str, Any]:
        data: dict[str, Any] = await self._get("/sim/state")
        return data

    async def orders(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = await self._get("/sim/orders")
        return data

    async def instruments(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for kind in ("SPOT", "SWAP"):
            for row in (await self._get(f"/api/v5/public/instruments?instType={kind}"))["data"]:
                out[row["instId"]] = row
        return out

    async def activity(self) -> int:
        """How many requests the delay faults have held so far."""
        return sum(int(f["fired"]) for f in await self._get("/sim/faults")
                   if f["kind"] == "delay")

    async def add_fault(self, fault: dict[str, Any]) -> None:
        await self._send("POST", "/sim/faults", fault)

    async def clear_faults(self) -> None:
        await self._send("DELETE", "/sim/faults")

    async def set_price(self, coin: str, price: Decimal) -> None:
        await self._send("POST", "/sim/price", {"coin": coin, "price": str(price)})

    async def set_funding(self, inst_id: str, rate: Decimal | None) -> None:
        body: dict[str, Any] = {"instId": inst_id}
        if rate is not None:
            body["rate"] = str(rate)
        await self._send("POST", "/sim/funding", body)


HELD_S = 0.5  # longer than any delay below


def delay_faults(rng: random.Random) -> list[dict[str, Any]]:
    """Every order, transfer, Earn and loan request is held a seeded 100-400 ms before the
    simulator acts on it (while the kills go on): a kill then often falls while a request is
    on its way, and the request is carried out after the bot is dead. Reads are not held."""
    endpoints = ("trade/order", "asset/transfer", "finance/savings/purchase-redempt",
                 "account/spot-manual-borrow-repay", "account/borrow-repay")
    return [{"kind": "delay", "endpoint": e, "method": "POST", "count": None,
             "delay_ms": rng.randint(100, 400)} for e in endpoints]


# ---------------------------------------------------------------------- the database
@dataclass(frozen=True)
class Pos:
    id: int
    symbol: str
    direction: str
    status: str
    amount: Decimal
    contracts: Decimal
    entry_swap: Decimal
    notional: Decimal
    leverage: Decimal
    earn_status: str
    earn_amount: Decimal
    borrowed: Decimal
    resets: int


def _db(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, timeout=10)
    con.row_factory = sqlite3.Row
    return con


def _has_schema(path: Path) -> bool:
    if not path.exists():
        return False
    con = _db(path)
    try:
        row = con.execute("select 1 from sqlite_master where name='positions'").fetchone()
    finally:
        con.close()
    return row is not None


def read_positions(path: Path) -> list[Pos]:
    if not _has_schema(path):
        return []
    con = _db(path)
    try:
        rows = con.execute("select * from positions order by id").fetchall()
    finally:
        con.close()
    return [Pos(r["id"], r["symbol"], r["direction"], r["status"], D(r["position_amount"]),
                D(r["swap_contracts"] or 0), D(r["entry_swap_price"]), D(r["notional_usdt"] or 0),
                D(r["leverage"]), r["spot_earning_status"], D(r["earn_amount"]),
                D(r["borrowed_amount"]), int(r["resets_count"])) for r in rows]


def read_rows(path: Path, sql: str) -> list[dict[str, Any]]:
    if not _has_schema(path):
        return []
    con = _db(path)
    try:
        return [dict(r) for r in con.execute(sql).fetchall()]
    finally:
        con.close()


def margin_budget(path: Path, pos: Pos) -> Decimal:
    """The carry's margin budget as the engine will see it at its next start: its memory in
    bot_state, unless that is from before the carry's last reset (then, like a carry without
    one, the initial budget: perp notional / leverage)."""
    rows = read_rows(path, "select value from bot_state where key='engine_memory'")
    if rows:
        mem = (json.loads(rows[0]["value"]).get("carries") or {}).get(str(pos.id))
        if mem is not None and mem.get("resets") in (None, pos.resets):
            return D(mem["budget"])
    notional = pos.notional or pos.amount * pos.entry_swap
    return notional / (pos.leverage or D(1))


# ---------------------------------------------------------------------- one pair
@dataclass
class Kill:
    life: int
    stimulus: str
    trigger: str  # "activity [(2nd)] +N ms": into a burst | "idle": no burst came
    at_s: float  # seconds since the pair started
    phase: str  # open | reset | close (joined by + when several) | idle (also: any idle kill)
    states: str
    lived_s: float = 0.0
    started_s: float | None = None  # when start() was done (recovery included)
    cpu_s: float = 0.0

    def line(self) -> str:
        up = "-" if self.started_s is None else f"{self.started_s:3.1f}"
        return (f"life {self.life:2d} at {self.at_s:5.1f} s (lived {self.lived_s:4.1f} s, up "
                f"at {up:>4s}, cpu {self.cpu_s:3.1f} s)  stimulus {self.stimulus:7s} kill "
                f"{self.trigger:26s} -> {self.phase:10s} [{self.states}]")


@dataclass
class Budget:
    """When the pairs stop killing: at ``target`` kills in flight in all with at least
    ``per_phase`` of each of open, reset and close; after ``soft_deadline`` (monotonic) as
    soon as there are ``minimum`` of them (and ``per_phase`` each); at ``hard_deadline``."""

    target: int
    minimum: int
    per_phase: int
    soft_deadline: float
    hard_deadline: float
    runs: list[PairRun] = field(default_factory=list)

    def phases(self) -> Counter[str]:
        c: Counter[str] = Counter()
        for r in self.runs:
            c.update(r.phases())
        return c

    def kills(self) -> int:
        return sum(len(r.in_flight_kills) for r in self.runs)

    def more(self) -> bool:
        now, kills = time.monotonic(), self.kills()
        spread = all(self.phases()[p] >= self.per_phase for p in ("open", "reset", "close"))
        if spread and (kills >= self.target or (kills >= self.minimum
                                                and now >= self.soft_deadline)):
            return False
        return now < self.hard_deadline


@dataclass
class PairRun:
    index: int
    seed: int
    root: Path
    port: int = 0
    kills: list[Kill] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    diff: str = ""
    lives: int = 0
    seconds: float = 0.0

    @property
    def db(self) -> Path:
        return self.root / "bot.db"

    @property
    def log(self) -> Path:
        return self.root / "bot.log"

    @property
    def config(self) -> Path:
        return self.root / "bot.yml"

    @property
    def in_flight_kills(self) -> list[Kill]:
        return [k for k in self.kills if k.phase != "idle"]

    def phases(self) -> Counter[str]:
        c: Counter[str] = Counter()
        for k in self.in_flight_kills:
            c.update(k.phase.split("+"))
        return c

    def report(self) -> str:
        head = (f"pair {self.index}: seed {self.seed}, port {self.port}, {self.lives} lives, "
                f"{len(self.in_flight_kills)} kills in flight {dict(self.phases())}, "
                f"{self.seconds:.1f} s; files in {self.root}")
        return "\n".join([head, *("  " + k.line() for k in self.kills),
                          *("  note: " + n for n in self.notes),
                          *("  PROBLEM: " + p for p in self.problems),
                          *(["  DB vs exchange:", self.diff] if self.diff else [])])


def _tail(path: Path, n: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


def _log_since(path: Path, offset: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")
    except OSError:
        return ""


async def _stimulus(run: PairRun, ctl: SimControl, want: str) -> str:
    """Steer the market for the next lifetime (the bot is dead): see the module docstring."""
    positions = read_positions(run.db)
    live = [p for p in positions if p.status not in FINAL]
    held = {p.symbol for p in live}
    closing = {p.symbol for p in live if IN_FLIGHT.get(p.status) == "close"}
    for coin in COINS:
        if coin.name not in held:  # flat: back to the scenario's price and strong funding
            await ctl.set_price(coin.name, coin.price)
        if coin.name not in held or coin.name in closing:  # (a close goes on regardless)
            await ctl.set_funding(coin.swap, None)
    if any(p.status in IN_FLIGHT for p in live):
        return "recover"
    open_ = [p for p in live if p.status == "OPEN"]
    if not open_:
        return "open"
    if want == "reset":
        sim = (await ctl.state())["accounts"]["main"]["positions"]
        for p in open_:  # (a close's flipped funding, if the close never began, goes)
            await ctl.set_funding(f"{p.symbol}-USDT-SWAP", None)
            swap = f"{p.symbol}-USDT-SWAP"
            perp = sim.get(swap)
            if perp is None:
                run.notes.append(f"OPEN #{p.id} has no perp on the exchange; no reset stimulus")
                continue
            q, entry, budget = p.amount, D(perp["avgPx"]), margin_budget(run.db, p)
            # laicai's ratio (budget + upl) / (q x mark) = TARGET_RATIO at this mark
            if p.direction == "SHORT":
                mark = (budget + entry * q) / (q * (1 + TARGET_RATIO))
            else:
                mark = (entry * q - budget) / (q * (1 - TARGET_RATIO))
            await ctl.set_price(p.symbol, mark.quantize(D("0.00001")))
            run.notes.append(f"life {run.lives + 1}: reset stimulus: {p.symbol} to "
                             f"{mark:.5f} (perp at {entry}, budget {budget:.2f})")
        return "reset"
    for p in open_:
        await ctl.set_funding(f"{p.symbol}-USDT-SWAP", FLIPPED_RATE[p.direction])
    return "close"


async def _classify(db: Path, ctl: SimControl) -> tuple[str, str]:
    """What the kill interrupted, from what it left for recovery: positions between two
    states, journal intents not finished, or a SHORT carry's Simple Earn subscription (the
    last step of an open or a reset's reopen) not finished: not recorded, or its coin not (all)
    in Earn. Called once the requests the dead bot had on their way have been carried out."""
    positions = read_positions(db)
    phases = {IN_FLIGHT[p.status] for p in positions if p.status in IN_FLIGHT}
    for row in read_rows(db, "select operation from journal where status in ('pending', "
                             "'sent')"):
        op = JOURNAL_OPS.get(str(row["operation"]).split(".")[0])
        if op is not None:
            phases.add(op)
    shorts = [p for p in positions if p.status == "OPEN" and p.direction == "SHORT"]
    if shorts:
        acct = (await ctl.state())["accounts"]["main"]
        for p in shorts:
            if p.earn_status != "SUBSCRIBED" or D(acct["savings"].get(p.symbol, "0")) <= 0 \
                    or D(acct["funding"].get(p.symbol, "0")) > 0:
                phases.add("reset" if p.resets else "open")
    states = ", ".join(f"#{p.id} {p.symbol} {p.status}" for p in positions
                       if p.status not in FINAL)
    return ("+".join(sorted(phases)) or "idle"), states


# How long after the first held request of a burst the kill may come (at most, seconds) and
# the chance that the burst is left to finish instead (the lifetime goes on to the next one):
# the carries must get somewhere now and then. A reset's recovery closes and reopens again
# from the start (a long burst); after a close's recovery the bot opens again (worth waiting).
KILL_WINDOW = {"open": 0.8, "reset": 2.0, "close": 1.3, "recover open": 1.0,
               "recover reset": 2.5, "recover close": 1.0}
LET_FINISH = {"open": 0.1, "reset": 0.15, "close": 0.15, "recover open": 0.2,
              "recover reset": 0.35, "recover close": 0.5}


def _opens_expected(live: list[Pos]) -> bool:
    """Whether the bot will open a carry (at its first scan, 5 s after the start, or at a later
    one): some coin has none, or only one its recovery is closing (the funding of both is
    strong again)."""
    staying = {p.symbol for p in live if IN_FLIGHT.get(p.status) != "close"}
    return any(c.name not in staying for c in COINS)


async def _lifetime(run: PairRun, zyg: Zygote, ctl: SimControl, rng: random.Random,
                    life: int, stimulus: str, t0: float) -> None:
    """Start the bot, wait for a burst of activity, kill it a random moment into it (or let
    the burst finish and wait for the next one); with no activity for a while, kill it idle.
    """
    offset = run.log.stat().st_size if run.log.exists() else 0
    out = run.root / f"run{life:02d}.out"
    pid = await zyg.spawn(["run", "--config", str(run.config), "--skip-check"], out, run.root)
    spawned = time.monotonic()
    base = await ctl.activity()
    started: float | None = None
    quiet_from: float | None = None  # when the last burst that was let finish went quiet
    # an open comes with the first scan, 5 s after the start (for a coin without a carry, or
    # one whose close recovery finishes: their funding is strong again); the rest at once
    live = [p for p in read_positions(run.db) if p.status not in FINAL]
    opens = _opens_expected(live)
    idle_after = 6.0 if opens else 2.0
    in_flight = sorted({IN_FLIGHT[p.status] for p in live if p.status in IN_FLIGHT})
    kind = f"recover {in_flight[-1]}" if stimulus == "recover" else stimulus  # reset > open
    finish = LET_FINISH[kind]
    trigger = "idle"
    polls = 0
    while True:
        await asyncio.sleep(0.08)
        polls += 1
        now = time.monotonic()
        if started is None and STARTED in _log_since(run.log, offset):
            started = now
        if polls % 10 == 0 and (code := await zyg.poll(pid)) is not None:
            run.problems.append(f"life {life}: the bot exited by itself with {code}; its "
                                f"output:\n{_tail(out)}\nlog:\n"
                                f"{_log_since(run.log, offset)[-3000:]}")
            return
        if started is None and now - spawned > 30:
            run.problems.append(f"life {life}: the bot did not start within 30 s; output:\n"
                                f"{_tail(out)}")
            break
        if await ctl.activity() > base:
            if rng.random() < finish:
                last, still = await ctl.activity(), time.monotonic()
                while time.monotonic() - still < 1.2 and time.monotonic() - spawned < 40:
                    await asyncio.sleep(0.1)
                    if (act := await ctl.activity()) != last:
                        last, still = act, time.monotonic()
                base, quiet_from, finish = last, time.monotonic(), LET_FINISH["open"]
                opens = _opens_expected([p for p in read_positions(run.db)
                                         if p.status not in FINAL])
                continue
            delay = rng.uniform(0.0, KILL_WINDOW["open" if quiet_from else kind])
            trigger = f"activity{' (2nd)' if quiet_from else ''} +{delay * 1000:.0f} ms"
            await asyncio.sleep(delay)
            break
        # the first scan comes 5 s after the start, the next ones every 2 s
        if started is not None and now - started > idle_after and (
                quiet_from is None or now - quiet_from > (2.5 if opens else 0.5)):
            break
    at = time.monotonic() - t0
    code = await zyg.stop(pid, signal.SIGKILL)
    if code != -signal.SIGKILL:
        run.problems.append(f"life {life}: the bot had exited with {code} before the kill; "
                            f"output:\n{_tail(out)}")
    await asyncio.sleep(HELD_S)  # what the dead bot had on its way lands (or not)
    phase, states = await _classify(run.db, ctl)
    if trigger == "idle":  # whatever is left, the kill fell on no operation under way
        phase = "idle"
    run.kills.append(Kill(life, stimulus, trigger, at, phase, states,
                          time.monotonic() - spawned,
                          None if started is None else started - spawned,
                          zyg.cpu.get(pid, 0.0)))


async def _settle(run: PairRun, zyg: Zygote, ctl: SimControl, life: int) -> None:
    """The last start: recovery, then nothing new; wait until the database stands still."""
    write_config(run.config, port=run.port, db=run.db, log=run.log, final=True)
    await ctl.clear_faults()
    for coin in COINS:
        await ctl.set_funding(coin.swap, None)
    offset = run.log.stat().st_size if run.log.exists() else 0
    out = run.root / f"run{life:02d}-final.out"
    pid = await zyg.spawn(["run", "--config", str(run.config), "--skip-check"], out, run.root)
    spawned = time.monotonic()
    fingerprint: Any = None
    still_since = time.monotonic()
    while True:
        await asyncio.sleep(0.2)
        if (code := await zyg.poll(pid)) is not None:
            run.problems.append(f"final run: the bot exited by itself with {code}; output:\n"
                                f"{_tail(out)}\nlog:\n{_log_since(run.log, offset)[-3000:]}")
            return
        started = STARTED in _log_since(run.log, offset)
        positions = read_positions(run.db)
        pending = read_rows(run.db, "select id from journal where status in ('pending','sent')")
        orders = read_rows(run.db, "select count(*) n, max(updated_at) t from orders")
        now_fp = (started, [(p.id, p.status, p.amount) for p in positions], len(pending),
                  orders)
        if now_fp != fingerprint:
            fingerprint, still_since = now_fp, time.monotonic()
        quiet = (started and not pending
                 and not any(p.status in IN_FLIGHT for p in positions))
        if quiet and time.monotonic() - still_since > 2.5:
            break
        if time.monotonic() - spawned > 40:
            run.problems.append("final run: the bot did not settle within 40 s: "
                                f"{now_fp}\nlog:\n{_log_since(run.log, offset)[-3000:]}")
            break
    code = await zyg.stop(pid, signal.SIGTERM)
    if code != 0:
        run.problems.append(f"final run: SIGTERM ended the bot with {code} (expected a clean "
                            f"exit 0); output:\n{_tail(out)}")
    errors = [line for line in _log_since(run.log, offset).splitlines()
              if " ERROR " in line or " CRITICAL " in line]
    if errors:
        run.problems.append("final run: errors in the log:\n" + "\n".join(errors[-20:]))


async def _start_sim(run: PairRun, zyg: Zygote, http: aiohttp.ClientSession
                     ) -> tuple[int, SimControl]:
    """``laicai sim`` on a free port (another one if a process took it meanwhile)."""
    for _ in range(3):
        run.port = free_port()
        out = run.root / f"sim-{run.port}.out"
        pid = await zyg.spawn(["sim", "--scenario", str(SCENARIO), "--port", str(run.port),
                               "--speed", "1", "--seed", str(run.seed)], out, run.root)
        ctl = SimControl(http, f"http://127.0.0.1:{run.port}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                await ctl.activity()
                return pid, ctl
            except aiohttp.ClientError:
                if await zyg.poll(pid) is not None:
                    break  # it could not listen there
                await asyncio.sleep(0.1)
        await zyg.stop(pid, signal.SIGKILL)
    raise RuntimeError(f"laicai sim did not start; its output:\n{_tail(out)}")


async def run_pair(zyg: Zygote, run: PairRun, budget: Budget) -> PairRun:
    """Run one pair until the budget says stop, settle it and check convergence."""
    t0 = time.monotonic()
    rng = random.Random(run.seed)
    run.root.mkdir(parents=True, exist_ok=True)
    sim: int | None = None
    try:
        async with aiohttp.ClientSession() as http:
            sim, ctl = await _start_sim(run, zyg, http)
            write_config(run.config, port=run.port, db=run.db, log=run.log, final=False)
            for fault in delay_faults(rng):
                await ctl.add_fault(fault)
            want = rng.choice(("reset", "close"))
            life = 0
            while budget.more() and not run.problems:
                life += 1
                stimulus = await _stimulus(run, ctl, want)
                if stimulus == want:
                    want = "close" if want == "reset" else "reset"
                await _lifetime(run, zyg, ctl, rng, life, stimulus, t0)
                run.lives = life
            if not run.problems:
                await _settle(run, zyg, ctl, life + 1)
            if not run.problems:
                problems, diff = await convergence_problems(run.db, ctl)
                run.problems.extend(problems)
                run.diff = diff
    finally:
        if sim is not None:
            await zyg.stop(sim, signal.SIGKILL)
        run.seconds = time.monotonic() - t0
    return run


# ---------------------------------------------------------------------- convergence
async def convergence_problems(db: Path, ctl: SimControl) -> tuple[list[str], str]:
    """Everything that keeps the database from equalling the exchange, and a table of both.

    - every position at rest (OPEN, CLOSED or FAILED), no journal intent pending;
    - per coin: an OPEN carry is hedged within one lot (SHORT: coin held in the trading,
      funding and Earn accounts against the short perp; LONG: the coin owed against the long
      perp), its stored amount and contracts are the exchange's, its Earn and loan flags
      match the exchange; a coin without a carry is flat (no perp, no loan, no Earn, dust);
    - orders: the same client order ids on both sides, each once, with the same fills; an
      order stored as never placed is not on the exchange; the simulator never refused a
      duplicate client order id (51016); no position was flagged as unknown to the database.
    """
    problems: list[str] = []
    positions = read_positions(db)
    for p in positions:
        if p.status not in AT_REST:
            problems.append(f"position #{p.id} {p.symbol} left {p.status}")
    pending = read_rows(db, "select id, operation, status from journal "
                            "where status in ('pending', 'sent')")
    if pending:
        problems.append(f"journal intents left pending: {pending}")
    unknown = read_rows(db, "select message from events where kind = 'unknown_position'")
    if unknown:
        problems.append(f"exchange positions unknown to the database were flagged: {unknown}")

    state = await ctl.state()
    acct = state["accounts"]["main"]
    insts = await ctl.instruments()
    lines = [f"  {'coin':5s} {'DB':44s} | exchange"]
    for coin in COINS:
        swap, spot = insts[coin.swap], insts[coin.spot]
        ct_val = D(swap["ctVal"])
        tol = max(D(spot["lotSz"]), D(swap["lotSz"]) * ct_val)
        bal = acct["trading"].get(coin.name, {})
        cash, liab = D(bal.get("cash", "0")), D(bal.get("liab", "0"))
        interest = D(bal.get("interest", "0"))
        funding = D(acct["funding"].get(coin.name, "0"))
        earn = D(acct["savings"].get(coin.name, "0"))
        perp = acct["positions"].get(coin.swap)
        contracts = D(perp["pos"]) if perp else ZERO
        perp_base = contracts * ct_val
        open_ = [p for p in positions if p.symbol == coin.name and p.status == "OPEN"]
        db_side = ", ".join(f"#{p.id} {p.direction} {p.amount} ({p.contracts} ct, Earn "
                            f"{p.earn_status} {p.earn_amount}, borrowed {p.borrowed})"
                            for p in open_) or "flat"
        lines.append(f"  {coin.name:5s} {db_side:44s} | perp {contracts} ct = {perp_base}, "
                     f"cash {cash}, funding {funding}, Earn {earn}, owed {liab} + {interest}")
        if len(open_) > 1:
            problems.append(f"{coin.name}: {len(open_)} OPEN carries on one coin")
            continue
        if not open_:
            if contracts != 0 or liab + interest != 0 or earn != 0 \
                    or cash + funding >= D(spot["minSz"]):
                problems.append(f"{coin.name}: no carry in the database but the exchange holds "
                                f"perp {contracts} ct, cash {cash}, funding {funding}, Earn "
                                f"{earn}, owed {liab} + {interest}")
            continue
        p = open_[0]
        if abs(contracts) != p.contracts or abs(perp_base) != p.amount:
            problems.append(f"{coin.name}: database says {p.amount} ({p.contracts} ct), the "
                            f"exchange's perp is {perp_base} ({contracts} ct)")
        if p.direction == "SHORT":
            held = cash + funding + earn
            if contracts >= 0 or abs(held + perp_base) > tol or liab != 0:
                problems.append(f"{coin.name}: SHORT carry not hedged: coin {held} (cash {cash}, "
                                f"funding {funding}, Earn {earn}) vs perp {perp_base}; owed {liab}")
            if (p.earn_status == "SUBSCRIBED") != (earn > 0):
                problems.append(f"{coin.name}: database Earn {p.earn_status} "
                                f"{p.earn_amount}, exchange Earn {earn}")
        else:
            owed = liab + interest - cash - funding
            if contracts <= 0 or abs(owed - perp_base) > tol or earn != 0:
                problems.append(f"{coin.name}: LONG carry not hedged: owed {liab} + {interest} "
                                f"less held {cash + funding} vs perp {perp_base}")
            if abs(p.borrowed - liab) > tol:
                problems.append(f"{coin.name}: database borrowed {p.borrowed}, the exchange "
                                f"lends {liab}")
    known = {c.swap for c in COINS}
    for inst_id, perp in acct["positions"].items():
        if inst_id not in known:
            problems.append(f"a perp nobody opened: {inst_id} {perp}")

    sim_orders = await ctl.orders()
    ids = Counter(o["clOrdId"] for o in sim_orders)
    dups = {k: n for k, n in ids.items() if n > 1}
    if dups:
        problems.append(f"client order ids used twice on the exchange: {dups}")
    if "51016" in state["errors"]:
        problems.append(f"the simulator refused {state['errors']['51016']} order(s) as a "
                        "duplicate client order id (51016): an id was sent twice")
    stored = {r["client_order_id"]: r for r in read_rows(
        db, "select client_order_id, inst_id, side, state, size, filled_size from orders")}
    by_id = {o["clOrdId"]: o for o in sim_orders}
    order_diff: list[str] = []
    for cid, o in sorted(by_id.items()):
        row = stored.get(cid)
        if row is None:
            order_diff.append(f"{cid} {o['instId']} {o['side']} {o['sz']} {o['state']}: on the "
                              "exchange, not in the database")
        elif (D(row["filled_size"]) != D(o["accFillSz"])
              or row["state"] != SIM_TO_DB_STATE.get(o["state"], o["state"])):
            order_diff.append(f"{cid}: database {row['state']} filled {row['filled_size']}, "
                              f"exchange {o['state']} filled {o['accFillSz']}")
    for cid, row in sorted(stored.items()):
        if row["state"] in ("not_placed", "rejected"):
            if cid in by_id:
                order_diff.append(f"{cid}: database {row['state']}, but the exchange has it "
                                  f"({by_id[cid]['state']})")
        elif cid not in by_id:
            order_diff.append(f"{cid}: database {row['state']}, not on the exchange")
    if order_diff:
        problems.append("orders differ:\n    " + "\n    ".join(order_diff))
    lines.append(f"  orders: {len(stored)} in the database, {len(sim_orders)} on the exchange")
    return problems, "\n".join(lines)
