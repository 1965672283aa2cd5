"""The randomized fault campaign: seeded scenarios, one fresh venue per run, and the invariants
checked after every step.

A scenario is drawn from ``random.Random(seed)`` alone: the direction (SHORT on BTC, LONG on
DOGE), whether to reset, how long to hold, and 1-3 faults of the simulator, each armed before
one of the operations (open, reset, close) with its own count, probability, ratio or delay.
Each run gets its own :class:`SimExchange` (seeded with the run's seed: fault probabilities
draw from it), its own :class:`SimServer` and its own ccxt client with the real OKX adapter;
its SQLite store is emptied before the run (every table, ids from 1 again: only the connection
is kept, for speed). Nothing else is shared between runs but the accepted
:class:`Opportunity` per coin (every venue starts identical, so one scan serves all).

Time: the executor, the order runner and the adapter's retrier all sleep on the simulator's
manual clock (:class:`SimTimeClock`), so lookups, Earn delays and rate-limit back-offs cost no
wall time. OKX's rate limits stay on at both ends (the adapter's per-endpoint window logs and
the server's 50011), with every window compressed ``RATE_WINDOW_SCALE`` times on both sides so
that they bind exactly as they would, only faster.

:func:`run_seeds` is what a worker process runs (the campaign spreads over the machine's
cores); it needs nothing from pytest.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import logging
import os
import random
import re
import shutil
import ssl
import sys
import traceback
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import certifi
from sqlalchemy import select, text

from laicai.config import load_config
from laicai.config.sections import DatabaseConfig, OkxConfig
from laicai.domain.enums import Direction
from laicai.engine.scan import scan_once
from laicai.errors import ExchangeError, LaicaiError
from laicai.execution.carry import CarryExecutor, ExecutionParams, RedemptionPending
from laicai.execution.events import ExecutionEvent, NakedExposureAlert
from laicai.sim.account import Account
from laicai.sim.exchange import SimExchange
from laicai.sim.faults import Fault
from laicai.sim.server.app import SimServer
from laicai.sim.server.ratelimit import LIMITS, RateLimiter
from laicai.store import Store, open_store
from laicai.store.models import Base
from laicai.store.models.journal import JournalRow
from laicai.store.models.orders import FillRow
from laicai.store.records import PositionRecord
from laicai.store.states import PositionStatus, SpotEarningStatus
from laicai.store.types import quantize_amount
from laicai.strategy import Opportunity, ScanParams
from laicai.testing.sim import SimTimeClock
from laicai.venues.okx import OkxExchange
from laicai.venues.okx.constants import DEFAULT_RATE_LIMIT, RATE_LIMITS
from laicai.venues.okx.factories import create_client
from laicai.venues.okx.gateway import OkxGateway
from laicai.venues.okx.ratelimit import RateLimits
from laicai.venues.okx.retry import RetryPolicy

D = Decimal
ZERO = D(0)
RATE_WINDOW_SCALE = 20
CONCURRENCY = 2  # runs in flight at once in one process (each with its own everything)


def _load_rig_conftest() -> ModuleType:
    """This directory's ``execution_rig.py`` (the venue and credentials of the lifecycle tests),
    loaded by path: a worker process has no pytest to put it on ``sys.path``."""
    path = Path(__file__).with_name("execution_rig.py")
    spec = importlib.util.spec_from_file_location("_laicai_execution_conftest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


_rig = _load_rig_conftest()
CREDS = _rig.CREDS
carry_venue = _rig.carry_venue
COINS = {"BTC": Direction.SHORT, "DOGE": Direction.LONG}
HOUR_MS = 3_600_000
DB_SCALE = 18  # the store keeps amounts as NUMERIC(36, 18)

# ---------------------------------------------------------------------- scenarios

ORDER_REJECT_CODES = (
    "51008",  # insufficient balance / margin -> InsufficientFunds: the leg is dead
    "51000",  # parameter error -> OrderRejected: the leg is dead
    "50013",  # system busy -> transient: the outcome is unknown, looked up, resent next round
)
READ_ENDPOINTS = ("account/balance", "account/positions", "asset/balances",
                  "finance/savings/balance")
MONEY_ENDPOINTS = {
    "BTC": ("asset/transfer", "finance/savings/purchase-redempt"),
    "DOGE": ("account/spot-manual-borrow-repay",),
}
KIND_WEIGHTS = {
    "order_reject": 3, "order_rate_limit": 2, "read_rate_limit": 1, "partial_fill": 3,
    "unknown_outcome": 3, "http_5xx": 1, "delay": 1, "earn_or_borrow": 2, "money": 1,
}


@dataclass(frozen=True, slots=True)
class ArmedFault:
    phase: str  # open | reset | close: armed just before that operation
    spec: dict[str, Any]  # Fault(**spec)

    def describe(self) -> str:
        s = self.spec
        bits = [s["kind"]] + [f"{k}={s[k]}" for k in ("endpoint", "inst_id", "side", "ccy",
                                                      "code", "ratio", "delay_ms", "count",
                                                      "probability") if k in s]
        return f"{self.phase}:" + ",".join(str(b) for b in bits)


@dataclass(frozen=True, slots=True)
class Scenario:
    seed: int
    coin: str
    reset: bool
    faults: tuple[ArmedFault, ...]
    before_reset_ms: int
    hold_ms: int
    price_pct: Decimal  # index move before the reset / close

    @property
    def direction(self) -> Direction:
        return COINS[self.coin]

    @property
    def spot(self) -> str:
        return f"{self.coin}-USDT"

    @property
    def swap(self) -> str:
        return f"{self.coin}-USDT-SWAP"

    def describe(self) -> str:
        return (f"seed {self.seed}: {self.direction.value} {self.coin}"
                f"{' +reset' if self.reset else ''} faults "
                f"[{'; '.join(f.describe() for f in self.faults)}]")


def draw_scenario(seed: int) -> Scenario:
    rng = random.Random(seed)
    coin = rng.choice(sorted(COINS))
    reset = rng.random() < 0.4
    faults = _one_failing_read_fault_per_endpoint(
        [_draw_fault(rng, coin, reset) for _ in range(rng.randint(1, 3))])
    return Scenario(seed=seed, coin=coin, reset=reset, faults=faults,
                    before_reset_ms=rng.randint(1, 4) * HOUR_MS // 2,
                    hold_ms=rng.randint(1, 16) * HOUR_MS // 2,
                    price_pct=D(rng.randint(-40, 40)) / 10)


def _one_failing_read_fault_per_endpoint(faults: list[ArmedFault]) -> tuple[ArmedFault, ...]:
    """At most 3 transient failures in a row on any read endpoint: what the adapter's retrier
    absorbs (4 attempts). Beyond that the venue is down for reads and the operation stops
    where it is, for the crash recovery to take over — a different campaign. A second failing
    fault on the same read endpoint is turned into a delay there."""
    seen: set[str] = set()
    out = []
    for f in faults:
        endpoint = f.spec.get("endpoint")
        failing = f.spec["kind"] in ("reject", "http_5xx")
        if failing and endpoint in READ_ENDPOINTS:
            if endpoint in seen:
                f = ArmedFault(f.phase, {"kind": "delay", "endpoint": endpoint, "delay_ms": 5,
                                         "count": f.spec["count"]})
            seen.add(endpoint)
        out.append(f)
    return tuple(out)


def _draw_fault(rng: random.Random, coin: str, reset: bool) -> ArmedFault:
    spot, swap = f"{coin}-USDT", f"{coin}-USDT-SWAP"
    phase = rng.choice(["open", "open", "close"] + (["reset", "reset"] if reset else []))
    kinds, weights = zip(*KIND_WEIGHTS.items(), strict=True)
    kind = rng.choices(kinds, weights)[0]
    count = rng.randint(1, 3)
    probability = 1.0 if rng.random() < 0.6 else round(rng.uniform(0.3, 0.9), 2)
    leg = rng.choice([spot, swap])
    side = rng.choice(["buy", "sell"])
    spec: dict[str, Any]
    if kind == "order_reject":  # the side filter keeps it off GET trade/order (lookups)
        spec = {"kind": "reject", "endpoint": "trade/order", "inst_id": leg, "side": side,
                "code": rng.choice(ORDER_REJECT_CODES), "count": count,
                "probability": probability}
    elif kind == "order_rate_limit":  # a burst: up to 3 absorbed by the retrier, more not
        spec = {"kind": "reject", "endpoint": "trade/order", "inst_id": leg, "side": side,
                "code": "50011", "count": rng.randint(1, 8), "probability": probability}
    elif kind == "read_rate_limit":
        spec = {"kind": "reject", "endpoint": rng.choice(READ_ENDPOINTS), "code": "50011",
                "count": count, "probability": probability}
    elif kind == "partial_fill":
        spec = {"kind": "partial_fill", "inst_id": leg, "side": side,
                "ratio": D(rng.randint(1, 9)) / 10, "count": count,
                "probability": probability}
    elif kind == "unknown_outcome":  # done, then the connection drops: look it up
        spec = {"kind": "drop_after_accept", "endpoint": "trade/order", "count": count,
                "probability": probability}
    elif kind == "http_5xx":  # refused before anything was done
        spec = {"kind": "http_5xx",
                "endpoint": rng.choice(["trade/order", "account/balance",
                                        "account/positions"]),
                "count": count, "probability": probability}
    elif kind == "delay":  # held, but well within the client's timeout
        spec = {"kind": "delay", "endpoint": rng.choice(["trade/order", "account/balance"]),
                "delay_ms": rng.randint(1, 60), "count": count, "probability": probability}
    elif kind == "earn_or_borrow" and coin == "BTC":
        late = rng.random() < 0.4  # beyond the 60 s redeem timeout: RedemptionPending
        spec = {"kind": "earn_delay", "ccy": "BTC",
                "delay_ms": rng.randint(61, 600) * 1000 if late else rng.randint(1, 55) * 1000,
                "count": 1}
    elif kind == "earn_or_borrow":
        spec = {"kind": "borrow_exhausted", "ccy": "DOGE", "count": 1}
    else:  # a money movement refused, failed before processing, or done but unanswered
        money = rng.choice(["reject", "http_5xx", "drop_after_accept"])
        spec = {"kind": money, "endpoint": rng.choice(MONEY_ENDPOINTS[coin]), "count": 1}
        if money == "reject":
            spec["code"] = rng.choice(["50013", "51000"])
    return ArmedFault(phase, spec)


# ---------------------------------------------------------------------- the rig


def scaled_client_limits() -> RateLimits:
    scale = RATE_WINDOW_SCALE
    return RateLimits({path: (n, window / scale) for path, (n, window) in RATE_LIMITS.items()},
                      default=(DEFAULT_RATE_LIMIT[0], DEFAULT_RATE_LIMIT[1] / scale),
                      margin_s=0.05 / scale)


def scaled_server_limits() -> RateLimiter:
    return RateLimiter({path: (n, max(1, window_ms // RATE_WINDOW_SCALE))
                        for path, (n, window_ms) in LIMITS.items()})


def adapter(server: SimServer, clock: SimTimeClock) -> OkxExchange:
    """What :func:`laicai.venues.okx.create_exchange` builds, with the compressed limits, the
    retrier sleeping on the simulator's clock and without jitter (so a seed replays)."""
    client = create_client(OkxConfig(rest_url=server.rest_url, sandbox_mode=False), CREDS,
                           scaled_client_limits())
    client.timeout_on_exit = 0  # ccxt's pause for TLS shutdown; loopback HTTP has none
    client.ssl_context = _ssl_context()  # unused over plain HTTP, but costly to build each time
    gateway = OkxGateway(client, retry=RetryPolicy(jitter_floor=1.0), secrets=CREDS.revealed(),
                         sleep=clock.sleep)
    return OkxExchange(gateway)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


async def migrated_template(path: Path) -> Path:
    store = await open_store(DatabaseConfig(path=path), None)
    await store.close()
    return path


async def scan_opportunities() -> dict[str, Opportunity]:
    """The accepted opportunity of each coin, from one scan of a fresh venue."""
    ex = carry_venue()
    async with SimServer(ex) as server:
        server.limiter = scaled_server_limits()
        async with adapter(server, SimTimeClock(ex)) as okx:
            report = await scan_once(okx, ScanParams.from_settings(load_config(None, env={})))
    found = {o.base: o for o in report.result.accepted if o.base in COINS}
    missing = set(COINS) - set(found)
    if missing:
        raise AssertionError(f"no accepted opportunity for {missing}: "
                             f"{report.result.reasons()}")
    for coin, direction in COINS.items():
        assert found[coin].direction is direction
    return found


# ---------------------------------------------------------------------- one run


@dataclass
class RunResult:
    scenario: Scenario
    outcome: str = ""  # final position status, or what stopped the run
    problems: list[str] = field(default_factory=list)
    interruptions: list[str] = field(default_factory=list)  # expected, resumed exceptions
    fingerprint: tuple[Any, ...] = ()
    sim_orders: int = 0
    armed: list[Fault] = field(default_factory=list)

    @property
    def fired(self) -> Counter[str]:
        fired: Counter[str] = Counter()
        for f in self.armed:
            fired[f.kind] += f.fired
        return fired

    @property
    def failed(self) -> bool:
        return bool(self.problems)

    def report(self) -> str:
        lines = [f"{self.scenario.describe()} -> {self.outcome}"]
        lines += [f"    interrupted: {i}" for i in self.interruptions]
        lines += [f"    BROKE: {p}" for p in self.problems]
        return "\n".join(lines)


@dataclass
class Run:
    sc: Scenario
    ex: SimExchange
    okx: OkxExchange
    store: Store
    executor: CarryExecutor
    events: list[ExecutionEvent]
    result: RunResult

    @property
    def acct(self) -> Account:
        return self.ex.accounts["main"]

    def arm(self, phase: str) -> None:
        for f in self.sc.faults:
            if f.phase == phase:
                self.result.armed.append(self.ex.faults.add(Fault(**f.spec)))

    def advance(self, ms: int) -> None:
        self.ex.clock.advance(ms)  # type: ignore[attr-defined]  # a ManualClock
        self.ex.sync()


async def run_scenario(sc: Scenario, store: Store,
                       opportunities: dict[str, Opportunity]) -> RunResult:
    """One run on a fresh venue, server and client, and ``store`` (empty: see :func:`empty`)."""
    result = RunResult(sc)
    ex = carry_venue(seed=sc.seed)
    clock = SimTimeClock(ex)
    async with SimServer(ex, rate_limits=True) as server:
        server.limiter = scaled_server_limits()
        async with adapter(server, clock) as okx:
            instruments = {i.inst_id: i for i in await okx.instruments()}
            fees = await okx.fee_rates()
            events: list[ExecutionEvent] = []
            executor = CarryExecutor(okx, store, clock, instruments=instruments,
                                     spot_fee_rate=fees.spot_taker, params=ExecutionParams(),
                                     on_event=events.append)
            run = Run(sc, ex, okx, store, executor, events, result)
            await _lifecycle(run, opportunities[sc.coin])
    return result


async def empty(store: Store) -> Store:
    """``store`` as a new database would be: every table emptied and ids starting at 1 again.
    Only the connection (and the statements it compiled) outlives a run."""
    async with store.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())
        if (await conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = "
                                    "'sqlite_sequence'"))).first() is not None:
            await conn.execute(text("DELETE FROM sqlite_sequence"))
    return store


async def _lifecycle(run: Run, opp: Opportunity) -> None:
    sc, res = run.sc, run.result
    run.arm("open")
    mark = _Mark.of(run)
    try:
        pos = await run.executor.open(opp)
        res.problems += await check(run, pos.id, "after open")
    except LaicaiError as e:  # an open ends OPEN or FAILED, not half-way (but see _explained)
        pos = await _interrupted(run, "open", e, mark)
        pos = await _finish(run, pos, "open")
    if pos.status is PositionStatus.OPEN and sc.reset:
        run.advance(sc.before_reset_ms)
        run.ex.set_price(sc.coin, pct=sc.price_pct)
        run.arm("reset")
        mark = _Mark.of(run)
        try:
            pos = await run.executor.reset(pos.id)
            res.problems += await check(run, pos.id, "after reset")
        except LaicaiError as e:
            pos = await _interrupted(run, "reset", e, mark)
            pos = await _finish(run, pos, "reset")
    if not pos.status.is_final:
        run.advance(sc.hold_ms)
        if not sc.reset:
            run.ex.set_price(sc.coin, pct=sc.price_pct)
        run.arm("close")
        mark = _Mark.of(run)
        try:
            pos = await run.executor.close(pos.id, "campaign")
        except LaicaiError as e:
            pos = await _interrupted(run, "close", e, mark)
            pos = await _finish(run, pos, "close")
    res.problems += await check(run, pos.id, "at the end")
    if not pos.status.is_final:
        res.problems.append(f"position ended {pos.status.value}, not closed")
    res.outcome = pos.status.value
    res.sim_orders = len(run.acct.orders)
    res.fingerprint = _fingerprint(run, pos)


async def _finish(run: Run, pos: PositionRecord, op: str) -> PositionRecord:
    """What the engine does with a position an operation left in between: later (the faults
    have passed by then), resume it the way a restart would and close it."""
    run.ex.faults.clear()
    for attempt in range(1, 4):
        run.advance(10 * 60 * 1000)
        try:
            if pos.status in (PositionStatus.OPENING, PositionStatus.RESETTING):
                pos = await run.executor.resume(pos)
            if not pos.status.is_final:
                pos = await run.executor.close(pos.id, "campaign")
            return pos
        except LaicaiError as e:
            run.result.problems.append(f"{op} resumed (attempt {attempt}) raised "
                                       f"{type(e).__name__}: {e}")
            pos = await _the_position(run)
    return pos


FINAL_REFUSALS = ("51008", "51000")  # a leg refused for good is dead for the operation


@dataclass(frozen=True, slots=True)
class _Mark:
    """Where an operation started: how often each armed fault had fired, how many events."""

    fired: tuple[int, ...]
    events: int

    @classmethod
    def of(cls, run: Run) -> _Mark:
        return cls(tuple(f.fired for f in run.result.armed), len(run.events))

    def fired_since(self, run: Run) -> list[Fault]:
        before = self.fired + (0,) * (len(run.result.armed) - len(self.fired))
        return [f for f, n in zip(run.result.armed, before, strict=True) if f.fired > n]


def _explained(run: Run, op: str, e: LaicaiError, fired: list[Fault]) -> bool:
    """Whether a fault that fired during the operation accounts for it stopping on ``e``.
    An open may stop only when both legs were refused for good (it can neither hedge nor
    unwind). A reset or close may stop when Simple Earn is late (RedemptionPending), a money
    movement failed or went unanswered, or a leg did not get to its target (refused, rate
    limited, unknown outcomes, partial fills): it cannot finish, so it stops to be tried
    again."""
    if op == "open":
        return _both_legs_refused(run, fired)
    if isinstance(e, RedemptionPending):
        return True
    if isinstance(e, ExchangeError) and any(f.endpoint in MONEY_ENDPOINTS[run.sc.coin]
                                            for f in fired):
        return True
    return any(f.kind == "partial_fill" or f.endpoint == "trade/order" for f in fired)


def _both_legs_refused(run: Run, fired: list[Fault]) -> bool:
    """Both legs refused for good in one operation: no order can restore the hedge until the
    venue takes one again."""
    refused = {f.inst_id for f in fired if f.kind == "reject" and f.endpoint == "trade/order"
               and f.code in FINAL_REFUSALS}
    return refused >= {run.sc.spot, run.sc.swap}


async def _interrupted(run: Run, op: str, e: LaicaiError, mark: _Mark) -> PositionRecord:
    """An operation raised. That is a resumable interruption only when a fault injected
    during it explains it and what it left is safe — the hedge intact (unless both legs were
    refused for good, and the executor raised a NakedExposureAlert), the store agreeing with
    the venue, nothing in flight; otherwise it is a failure."""
    pos = await _the_position(run)
    res = run.result
    fired = mark.fired_since(run)
    note = f"{op} raised {type(e).__name__} with the position {pos.status.value}: {e}"
    (res.interruptions if _explained(run, op, e, fired) else res.problems).append(note)
    naked_ok = _both_legs_refused(run, fired) and _naked(run) > _lot(run)
    if naked_ok:  # tolerated only while the executor says so; checked again after the retry
        alerted = any(isinstance(ev, NakedExposureAlert) for ev in run.events[mark.events:])
        (res.interruptions if alerted else res.problems).append(
            f"{op}: both legs refused for good; exposure left to the retry"
            + ("" if alerted else ", but no NakedExposureAlert was emitted"))
    res.problems += await check(run, pos.id, f"after {op} raised", naked_ok=naked_ok)
    if isinstance(e, RedemptionPending):  # waiting for Earn: nothing may have been traded
        perp = run.acct.positions.get(run.sc.swap)
        contracts = perp.pos if perp is not None else ZERO
        if pos.status not in (PositionStatus.REDEEMING, PositionStatus.RESETTING):
            res.problems.append(f"{op}: RedemptionPending left the position "
                                f"{pos.status.value}")
        if abs(contracts) != pos.swap_contracts:
            res.problems.append(f"{op}: RedemptionPending, but the perp holds {contracts} "
                                f"contracts of {pos.swap_contracts}")
    return pos


def _lot(run: Run) -> Decimal:
    """The hedge's tolerance: one lot of the perp (in base) or the spot's minimum order."""
    spot_i, swap_i = run.ex.instruments[run.sc.spot], run.ex.instruments[run.sc.swap]
    return max(swap_i.ct_val * swap_i.lot_sz, spot_i.min_sz)


def _naked(run: Run) -> Decimal:
    """Coin owned net of what is owed, plus the perp's base: what is not hedged."""
    perp = run.acct.positions.get(run.sc.swap)
    contracts = perp.pos if perp is not None else ZERO
    ct_val = run.ex.instruments[run.sc.swap].ct_val
    return abs(coin_equity(run.acct, run.sc.coin) + contracts * ct_val)


async def _the_position(run: Run) -> PositionRecord:
    pos = await run.store.get_position(1)  # a fresh store: the run's only position
    assert pos is not None, "the position was never created"
    return pos


# ---------------------------------------------------------------------- a worker

_SHARED: dict[str, tuple[Path, dict[str, Opportunity]]] = {}


def run_seeds(seeds: list[int], workdir: str) -> list[RunResult]:
    """Run the scenarios of ``seeds`` (``CONCURRENCY`` at a time) in this process: the entry
    point of a campaign worker. A run that crashes is a failure carrying its traceback."""
    logging.getLogger().addHandler(logging.NullHandler())  # no stray warnings on stderr
    return asyncio.run(_run_seeds(seeds, Path(workdir)))


async def _run_seeds(seeds: list[int], workdir: Path) -> list[RunResult]:
    key = str(workdir)
    if key not in _SHARED:  # once per process: a migrated database to copy, the scan
        template = await migrated_template(workdir / f"template-{os.getpid()}.db")
        _SHARED[key] = (template, await scan_opportunities())
    template, opportunities = _SHARED[key]
    stores: asyncio.Queue[Store] = asyncio.Queue()
    for slot in range(CONCURRENCY):  # one store per run in flight, emptied before each run
        db = workdir / f"slot-{os.getpid()}-{slot}.db"
        shutil.copyfile(template, db)
        stores.put_nowait(await open_store(DatabaseConfig(path=db), None, upgrade=False))

    async def one(seed: int) -> RunResult:
        scenario = draw_scenario(seed)
        store = await stores.get()
        try:
            return await run_scenario(scenario, await empty(store), opportunities)
        except Exception:
            crashed = RunResult(scenario, outcome="crashed")
            crashed.problems.append(traceback.format_exc(limit=12))
            return crashed
        finally:
            stores.put_nowait(store)

    try:
        return list(await asyncio.gather(*(one(s) for s in seeds)))
    finally:
        while not stores.empty():
            await stores.get_nowait().close()


# ---------------------------------------------------------------------- invariants


def coin_equity(acct: Account, ccy: str) -> Decimal:
    """Everything of ``ccy`` the account owns net of what it owes: trading (cash - liab),
    funding, Simple Earn and redemptions on their way."""
    bal = acct.trading.get(ccy)
    total = (bal.cash - bal.liab) if bal else ZERO
    total += acct.funding.get(ccy, ZERO) + acct.savings.get(ccy, ZERO)
    return total + sum((r.amt for r in acct.redemptions if r.ccy == ccy), ZERO)


SIM_STATES = {"live": "open", "partially_filled": "open", "filled": "filled",
              "canceled": "canceled"}


def _db(x: Decimal) -> Decimal:
    return quantize_amount(x, 36, DB_SCALE)


async def check(run: Run, position_id: int, stage: str, *, naked_ok: bool = False
                ) -> list[str]:
    """Every invariant of the campaign, as a list of what broke (empty: all hold).
    ``naked_ok``: an operation stopped with both legs refused for good (see
    :func:`_both_legs_refused`); the exposure is then checked once it was tried again."""
    sc, ex, acct = run.sc, run.ex, run.acct
    out: list[str] = []

    def broke(msg: str) -> None:
        out.append(f"{stage}: {msg}")

    pos = await run.store.get_position(position_id)
    assert pos is not None
    swap_i = ex.instruments[sc.swap]
    lot = _lot(run)
    perp = acct.positions.get(sc.swap)
    contracts = perp.pos if perp is not None else ZERO
    perp_base = contracts * swap_i.ct_val
    coin = coin_equity(acct, sc.coin)
    bal = acct.trading.get(sc.coin)
    liab = bal.liab if bal else ZERO

    # (1) no naked exposure, whatever the status
    if abs(coin + perp_base) > lot and not naked_ok:
        broke(f"naked {coin + perp_base} {sc.coin} (coin equity {coin}, perp {perp_base})")
    # (4) the position's status says what the venue holds
    if pos.status.is_final:
        if contracts != 0:
            broke(f"{pos.status.value} but the perp holds {contracts} contracts")
        if liab != 0:
            broke(f"{pos.status.value} but {liab} {sc.coin} is still owed")
        if abs(coin) > lot:
            broke(f"{pos.status.value} but {coin} {sc.coin} is left")
        if acct.savings.get(sc.coin, ZERO) or any(r.ccy == sc.coin for r in acct.redemptions):
            broke(f"{pos.status.value} but coin is left in Simple Earn")
        if pos.borrowed_amount != 0:
            broke(f"{pos.status.value} but the store records a loan of {pos.borrowed_amount}")
        if pos.spot_earning_status is SpotEarningStatus.SUBSCRIBED or pos.earn_amount != 0:
            broke(f"{pos.status.value} but the store records {pos.earn_amount} in Simple Earn")
    elif pos.status is PositionStatus.OPEN:
        want_sign = -1 if sc.direction is Direction.SHORT else 1
        if contracts * want_sign <= 0:
            broke(f"OPEN but the perp holds {contracts} contracts")
        if pos.position_amount != abs(perp_base):
            broke(f"OPEN with position_amount {pos.position_amount}, perp base {perp_base}")
        if pos.swap_contracts != abs(contracts):
            broke(f"OPEN with swap_contracts {pos.swap_contracts}, perp {contracts}")
        if sc.direction is Direction.LONG:
            principal = (bal.liab - bal.interest) if bal else ZERO
            if abs(pos.borrowed_amount - principal) > lot:  # the loan is what was sold
                broke(f"OPEN with borrowed_amount {pos.borrowed_amount}, loan principal "
                      f"{principal}")
        else:
            in_earn = acct.savings.get(sc.coin, ZERO)
            subscribed = pos.spot_earning_status is SpotEarningStatus.SUBSCRIBED
            if subscribed and not (0 < pos.earn_amount <= in_earn):
                broke(f"OPEN SUBSCRIBED with earn_amount {pos.earn_amount}, Earn holds "
                      f"{in_earn}")
            if not subscribed and in_earn != 0:
                broke(f"OPEN {pos.spot_earning_status.value} but Earn holds {in_earn}")
    # (2) + (3) orders and fills: the store and the venue agree one-to-one by clOrdId
    out += [f"{stage}: {m}" for m in await _orders_agree(run, position_id)]
    # (5) nothing left in flight
    pending = await run.store.list_pending_intents()
    if pending:
        broke(f"{len(pending)} journal intent(s) left "
              f"{', '.join(f'{p.operation}={p.status.value}' for p in pending)}")
    return out


async def _orders_agree(run: Run, position_id: int) -> list[str]:
    out: list[str] = []
    acct = run.acct
    db_orders = await run.store.list_orders(position_id)
    db_ids = Counter(o.client_order_id for o in db_orders)
    out += [f"clOrdId {c} stored {n} times" for c, n in db_ids.items() if n > 1]
    sim_ids = Counter(o.cl_ord_id for o in acct.orders.values())
    out += [f"clOrdId {c!r} on {n} venue orders" for c, n in sim_ids.items() if n > 1 or not c]
    fills: dict[str, list[Any]] = {}
    for f in acct.fills:
        fills.setdefault(f.ord_id, []).append(f)
    by_cl = {o.client_order_id: o for o in db_orders}
    for o in acct.orders.values():
        rec = by_cl.get(o.cl_ord_id)
        if rec is None:
            out.append(f"venue order {o.cl_ord_id} ({o.inst_id} {o.side} {o.sz}, {o.state}, "
                       f"filled {o.acc_fill_sz}) is not in the store")
            continue
        filled = sum((f.sz for f in fills.get(o.ord_id, [])), ZERO)
        if filled != o.acc_fill_sz:
            out.append(f"venue order {o.cl_ord_id}: fills sum to {filled}, order says "
                       f"{o.acc_fill_sz}")
        want = {"state": SIM_STATES[o.state], "venue_order_id": o.ord_id, "inst_id": o.inst_id,
                "side": o.side, "size": _db(o.sz), "filled_size": _db(o.acc_fill_sz),
                "avg_px": _db(o.avg_px) if o.acc_fill_sz else None, "fee": _db(-o.fee)}
        have = {"state": rec.state, "venue_order_id": rec.venue_order_id,
                "inst_id": rec.inst_id, "side": rec.side.value, "size": rec.size,
                "filled_size": rec.filled_size, "avg_px": rec.avg_px, "fee": rec.fee}
        diff = {k: (have[k], want[k]) for k in want if have[k] != want[k]}
        if diff:
            out.append(f"order {o.cl_ord_id}: store/venue differ on " + ", ".join(
                f"{k} {h}/{w}" for k, (h, w) in diff.items()))
    for rec in db_orders:
        if rec.client_order_id not in acct.orders_by_cl and rec.state not in ("rejected",
                                                                              "not_placed"):
            out.append(f"stored order {rec.client_order_id} is {rec.state} but the venue "
                       f"has no such order")
    async with run.store.engine.connect() as conn:
        stored_fills = (await conn.execute(select(FillRow.client_order_id, FillRow.trade_id,
                                                  FillRow.size))).all()
    venue_fills = {(f.cl_ord_id, f.trade_id): f.sz for f in acct.fills}
    for cl, trade_id, size in stored_fills:
        if venue_fills.get((cl or "", trade_id)) != size:
            out.append(f"stored fill {trade_id} of {cl} ({size}) is not at the venue")
    out += await _journal_ids_unique(run, db_orders)
    return out


async def _journal_ids_unique(run: Run, db_orders: Iterable[Any]) -> list[str]:
    """(3) a clOrdId belongs to one intent (one order) only, and the stored order points to
    the intent that sent it."""
    out: list[str] = []
    owner: dict[str, int] = {}
    async with run.store.engine.connect() as conn:
        rows = (await conn.execute(select(JournalRow.id, JournalRow.payload))).all()
    for jid, payload in rows:
        for leg in (payload or {}).get("legs", []):
            cl = leg.get("client_order_id")
            if cl in owner:
                out.append(f"clOrdId {cl} journaled by intents {owner[cl]} and {jid}")
            owner[cl] = jid
    for rec in db_orders:
        if rec.client_order_id not in owner:
            out.append(f"stored order {rec.client_order_id} was never journaled")
        elif rec.journal_id != owner[rec.client_order_id]:
            out.append(f"stored order {rec.client_order_id} points to intent {rec.journal_id}, "
                       f"journaled by {owner[rec.client_order_id]}")
    return out


_RANDOM_BITS = re.compile(r"http://127\.0\.0\.1:\d+|\b[0-9a-f]{32}\b")  # ports, uuid4s


def _fingerprint(run: Run, pos: PositionRecord) -> tuple[Any, ...]:
    """What a replay of the seed must reproduce (messages without the server's port or the
    random clientId of a transfer)."""
    acct = run.acct
    orders = tuple(sorted((o.cl_ord_id, o.state, o.acc_fill_sz, o.avg_px)
                          for o in acct.orders.values()))
    bal = acct.trading.get(run.sc.coin)
    usdt = acct.trading.get("USDT")
    return (pos.status.value, pos.resets_count, orders, bal.cash if bal else None,
            bal.liab if bal else None, usdt.cash if usdt else None,
            run.ex.clock.now_ms(),
            tuple(_RANDOM_BITS.sub("<x>", m) for m in run.result.problems),
            tuple(_RANDOM_BITS.sub("<x>", m) for m in run.result.interruptions))
