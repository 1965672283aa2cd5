"""The bot's controls end to end, through ccxt against the simulator on its manual clock: dry
run, operator pause/resume, the circuit breaker, the mark-price fast path, close-all, a
restart on the same store, and an exchange position the database does not know."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine_rig import HOUR, BotRig, bot_rig, settings_for
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from laicai.engine.context import initial_margin_budget
from laicai.engine.core import MEMORY_KEY, EngineSettings
from laicai.engine.events import (
    BotStarted,
    BotStateChanged,
    BotStopped,
    BreakerTripped,
    DecisionLogged,
    EntriesPaused,
    EntriesResumed,
    MarginToppedUp,
    PositionClosed,
    RiskAlert,
)
from laicai.engine.operator_service import EngineOperator
from laicai.engine.states import BotState
from laicai.execution.events import CarryOpened, CarryReset
from laicai.risk import RiskParams
from laicai.sim import trading
from laicai.sim.exchange import SimExchange
from laicai.sim.market import CurrencyTerms
from laicai.store.models.journal import JournalRow
from laicai.store.states import JournalStatus, PositionStatus
from laicai.testing.sim import make_exchange

D = Decimal
MINUTE = 60_000
BTC_SWAP, ETH_SWAP, DOGE_SWAP = "BTC-USDT-SWAP", "ETH-USDT-SWAP", "DOGE-USDT-SWAP"
CURRENCIES = {
    "BTC": CurrencyTerms(earn_apr=D("0.02")),
    "ETH": CurrencyTerms(earn_apr=D("0.02")),
    "DOGE": CurrencyTerms(borrow_apr=D("0.10"), borrow_limit=D(10_000_000)),
    "USDT": CurrencyTerms(earn_apr=D("0.05")),
}


def fast(*, dry_run: bool = False, scan_min: int = 30, risk_min: int = 5) -> EngineSettings:
    """Timers that make a simulated day a few seconds of wall time."""
    return EngineSettings(mode="paper", dry_run=dry_run, scan_interval_ms=scan_min * MINUTE,
                          risk_interval_ms=risk_min * MINUTE, heartbeat_ms=HOUR)


def venue(funding: dict[str, tuple[Decimal, int]]) -> SimExchange:
    coins = {"BTC": D(60_000), "ETH": D(3_000), "DOGE": D("0.2")}
    return make_exchange(
        prices={c: p for c, p in coins.items() if f"{c}-USDT-SWAP" in funding},
        funding=funding, currencies=CURRENCIES, trading={"USDT": D(100_000)})


def account(rig: BotRig) -> Any:
    return rig.ex.accounts["main"]


def sim_positions(rig: BotRig) -> dict[str, Decimal]:
    return {i: p.pos for i, p in account(rig).positions.items() if p.pos != 0}


@asynccontextmanager
async def serving(rig: BotRig) -> AsyncIterator[EngineOperator]:
    """The bot's runner consuming its queue (no timers: the test moves time), so the operator's
    commands run on the engine's task as they do in ``laicai run``."""
    runner = rig.bot.runner
    runner.timers = False
    task = asyncio.create_task(runner.run())
    try:
        yield rig.bot.operator
    finally:
        runner.request_stop()
        await asyncio.wait_for(task, 30)


def state_of(rig: BotRig) -> BotState:
    """The engine's state now (a call, so each read is fresh after an await)."""
    state: BotState = rig.engine.state
    return state


async def saved_row(rig: BotRig, key: str) -> dict[str, Any]:
    row = await rig.store.get_bot_state(key)
    assert isinstance(row, dict), row
    return row


async def journal(rig: BotRig) -> list[JournalRow]:
    async with AsyncSession(rig.store.engine) as s:
        return list((await s.execute(select(JournalRow).order_by(JournalRow.id))).scalars())


async def opened_after(rig: BotRig, n_events: int) -> list[CarryOpened]:
    return [e for e in rig.events[n_events:] if isinstance(e, CarryOpened)]


# ---------------------------------------------------------------------- (a) dry run
async def test_dry_run_decides_journals_and_sends_nothing(tmp_path: Path) -> None:
    ex = venue({BTC_SWAP: (D("0.0005"), 8), DOGE_SWAP: (D("-0.0008"), 8)})
    async with bot_rig(ex, tmp_path, dry_run=True, engine_settings=fast(dry_run=True)) as rig:
        assert rig.of(BotStarted)[0].dry_run is True
        await rig.run_for(65 * MINUTE)  # scans at 0:00:05 and 0:30:05 and 1:00:05
        # nothing reached the exchange
        assert account(rig).orders == {}
        assert sim_positions(rig) == {}
        assert account(rig).trading["USDT"].cash == D(100_000)
        assert await rig.store.list_open_positions() == []
        # but every approved open was decided, journaled as done, and published
        decisions = [e for e in rig.of(DecisionLogged) if e.action == "open"]
        rows = [r for r in await journal(rig) if r.operation == "dry_run.open"]
        assert len(decisions) == 6  # 3 scans x (BTC SHORT + DOGE LONG)
        assert len(rows) == len(decisions)
        assert all(r.status is JournalStatus.DONE for r in rows)
        assert {r.payload["swap_inst_id"] for r in rows} == {BTC_SWAP, DOGE_SWAP}
        assert all(D(r.payload["base_qty"]) > 0 for r in rows)
        assert {d.detail.split()[0] for d in decisions} == {"SHORT", "LONG"}
        assert not rig.of(CarryOpened)
        assert all(r.operation.startswith("dry_run.") for r in await journal(rig))
        row = await saved_row(rig, "engine")
        assert row["dry_run"] is True and row["state"] == "IDLE"


# ---------------------------------------------------------------------- (b) pause / resume
async def test_operator_pause_stops_entries_but_keeps_managing(tmp_path: Path) -> None:
    ex = venue({BTC_SWAP: (D("0.0005"), 8), ETH_SWAP: (D(0), 8)})
    async with bot_rig(ex, tmp_path, engine_settings=fast()) as rig:
        await rig.run_for(10 * MINUTE)
        assert [e.symbol for e in rig.of(CarryOpened)] == ["BTC"]
        [btc] = await rig.store.list_open_positions()
        assert btc.margin_ratio is not None and abs(btc.margin_ratio - D("0.5")) < D("0.01")
        async with serving(rig) as op:
            res = await op.pause("tester", "maintenance")
            assert res.ok, res.message
            assert state_of(rig) is BotState.PAUSED
            assert (await saved_row(rig, "engine"))["state"] == "PAUSED"
            assert (await saved_row(rig, MEMORY_KEY))["operator_pause"] == \
                "maintenance"
            paused = rig.of(EntriesPaused)
            assert len(paused) == 1 and paused[0].by_operator
            assert (await op.status()).entries_paused == "maintenance"
            # an opportunity appears while paused
            ex.set_funding_rate(ETH_SWAP, D("0.0005"))
            mark = len(rig.events)
            await rig.run_for(HOUR)
            # the price moves against the SHORT: the risk cycle still runs and stores it
            ex.set_price("BTC", pct=D(6))
            await rig.run_for(HOUR)
            assert await opened_after(rig, mark) == []
            assert state_of(rig) is BotState.PAUSED
            # each risk check went PAUSED -> MANAGING -> PAUSED (every 5 min for 2 h)
            managed = [e for e in rig.events[mark:] if isinstance(e, BotStateChanged)
                       and (e.old, e.new) == ("MANAGING", "PAUSED")]
            assert len(managed) == 24
            [still] = await rig.store.list_open_positions()
            assert still.id == btc.id and still.symbol == "BTC"
            # (0.5 - 0.06) / 1.06 of the notional, give or take the entry's spread
            assert still.margin_ratio is not None
            assert abs(still.margin_ratio - D("0.44") / D("1.06")) < D("0.01")
            assert rig.engine.last_views[btc.id].mark_px > D(63_000)
            # resume: the next scan opens the opportunity
            res = await op.resume("tester")
            assert res.ok and state_of(rig) is BotState.IDLE
            assert rig.of(EntriesResumed)
            assert (await saved_row(rig, MEMORY_KEY))["operator_pause"] is None
            await rig.run_for(35 * MINUTE)
            assert [e.symbol for e in await opened_after(rig, mark)] == ["ETH"]
            assert {p.symbol for p in await rig.store.list_open_positions()} == {"BTC", "ETH"}


# ---------------------------------------------------------------------- (c) circuit breaker
async def test_losing_closes_trip_the_breaker_until_resumed(tmp_path: Path) -> None:
    ex = venue({BTC_SWAP: (D("0.0005"), 8), ETH_SWAP: (D("0.0005"), 8),
                DOGE_SWAP: (D("-0.0008"), 8)})
    # scans every 5 min, risk every 30 min: a scan comes before the next risk check
    async with bot_rig(ex, tmp_path, engine_settings=fast(scan_min=5, risk_min=30)) as rig:
        await rig.run_for(2 * MINUTE)
        assert {e.symbol for e in rig.of(CarryOpened)} == {"BTC", "ETH", "DOGE"}
        positions = await rig.store.list_open_positions()
        # the prices move against each carry's perp (the hedges keep it small; fees do not)
        ex.set_price("BTC", pct=D(2))
        ex.set_price("ETH", pct=D(2))
        ex.set_price("DOGE", pct=D(-2))
        mark = len(rig.events)
        async with serving(rig) as op:
            for pos in positions:
                res = await op.close_position(pos.id, "tester")
                assert res.ok and res.message == f"position {pos.id}: CLOSED", res.message
            closed = [e for e in rig.events[mark:] if isinstance(e, PositionClosed)]
            assert len(closed) == 3
            assert all(c.breakdown.total < 0 for c in closed), [c.breakdown for c in closed]
            for pos in positions:
                stored = await rig.store.get_position(pos.id)
                assert stored is not None and stored.status is PositionStatus.CLOSED
                assert stored.pnl_usd is not None and stored.pnl_usd < 0
            # the third loss trips the breaker at once
            tripped = rig.of(BreakerTripped)
            assert len(tripped) == 1 and "3 losing closes in a row" in tripped[0].reason
            assert state_of(rig) is BotState.PAUSED
            assert rig.engine.memory.breaker.tripped
            saved = await saved_row(rig, MEMORY_KEY)
            assert saved["breaker"]["status"] == "tripped"
            assert any(ev.kind == "breaker" and ev.level.value == "CRITICAL"
                       for ev in await rig.store.list_events())
            assert (await op.status()).breaker == "tripped"
            # scans and risk checks come and go: nothing opens, the state stays PAUSED
            await rig.run_for(2 * HOUR)
            assert await opened_after(rig, mark) == []
            assert await rig.store.list_open_positions() == []
            assert sim_positions(rig) == {}
            assert state_of(rig) is BotState.PAUSED
            assert len(rig.of(BreakerTripped)) == 1
            # the operator re-arms it: entries again
            res = await op.resume("tester")
            assert res.ok and state_of(rig) is BotState.IDLE
            assert not rig.engine.memory.breaker.tripped
            await rig.run_for(10 * MINUTE)
            assert {e.symbol for e in await opened_after(rig, mark)} == {"BTC", "ETH", "DOGE"}
            assert len(rig.of(BreakerTripped)) == 1


# ---------------------------------------------------------------------- (d) on_mark
async def test_a_pushed_mark_under_the_reset_threshold_resets_at_once(tmp_path: Path) -> None:
    ex = venue({BTC_SWAP: (D("0.0005"), 8)})
    async with bot_rig(ex, tmp_path, engine_settings=fast(risk_min=30)) as rig:
        await rig.run_for(MINUTE)
        [pos] = await rig.store.list_open_positions()
        await rig.run_for(30 * MINUTE)  # a risk check has seen the carry
        assert pos.id in rig.engine.last_views
        assert rig.engine.risk.margin_reset_threshold == D("0.15")
        # +35 %: a SHORT's ratio (0.5 - 0.35) / 1.35 = 0.111, under the reset threshold and
        # above the emergency one (0.1)
        new = ex.set_price("BTC", pct=D(35))
        now, risk_due = rig.engine.now_ms(), rig.engine.schedule.due["risk"]
        assert risk_due - now > 20 * MINUTE  # the next risk tick is far away
        await rig.engine.on_mark(BTC_SWAP, new)
        assert rig.engine.now_ms() - now < MINUTE  # no risk tick was waited for
        resets = rig.of(CarryReset)
        assert len(resets) == 1 and resets[0].position_id == pos.id
        assert resets[0].resets_count == 1
        after = await rig.store.get_position(pos.id)
        assert after is not None and after.status is PositionStatus.OPEN
        assert after.resets_count == 1
        # rebuilt at the new price: the carry is back at 1/L
        assert abs(after.entry_swap_price / new - 1) < D("0.002")
        assert after.position_amount > 0
        assert rig.engine.memory.carries[pos.id].margin_budget == initial_margin_budget(after)
        assert abs(initial_margin_budget(after) / (after.position_amount * new / 2) - 1) \
            < D("0.002")
        assert rig.engine.schedule.due["risk"] <= rig.engine.now_ms()  # brought forward
        assert state_of(rig) is BotState.IDLE
        [perp] = sim_positions(rig).values()
        assert perp < 0
        # the full check that follows sees a healthy carry (no second reset)
        await rig.run_for(MINUTE)
        view = rig.engine.last_views[pos.id]
        assert view.margin_ratio is not None and view.margin_ratio > D("0.45")
        assert len(rig.of(CarryReset)) == 1


async def test_a_pushed_mark_on_a_milder_rung_brings_the_risk_check_forward(
        tmp_path: Path) -> None:
    ex = venue({BTC_SWAP: (D("0.0005"), 8)})
    async with bot_rig(ex, tmp_path, engine_settings=fast(risk_min=30)) as rig:
        await rig.run_for(31 * MINUTE)
        [pos] = await rig.store.list_open_positions()
        budget = rig.engine.memory.carries[pos.id].margin_budget
        # +15 %: (0.5 - 0.15) / 1.15 = 0.30, under the top-up ratio (0.4), over the reset one
        new = ex.set_price("BTC", pct=D(15))
        now = rig.engine.now_ms()
        await rig.engine.on_mark(ETH_SWAP, D(1))  # not held: nothing to judge
        assert rig.engine.schedule.due["risk"] > now + 20 * MINUTE
        await rig.engine.on_mark(BTC_SWAP, new)
        # a top-up is no emergency: nothing is sent from the push, the full check is due now
        assert not rig.of(MarginToppedUp) and not rig.of(CarryReset)
        assert rig.engine.schedule.due["risk"] == now
        assert rig.engine.now_ms() == now
        await rig.run_for(0)
        [topped] = rig.of(MarginToppedUp)
        assert topped.position_id == pos.id and topped.source == "trading"
        # back to 1/L of the perp notional at the new mark
        mem = rig.engine.memory.carries[pos.id]
        assert mem.margin_budget == budget + topped.amount_usdt
        view = rig.engine.last_views[pos.id]
        assert view.margin_ratio is not None and view.margin_ratio < D("0.4")  # read before
        assert abs((view.perp_equity_usdt + topped.amount_usdt) / view.perp_notional_usdt
                   - D("0.5")) < D("0.001")
        assert rig.engine.schedule.due["risk"] == now + 30 * MINUTE
        assert not rig.of(CarryReset)


# ---------------------------------------------------------------------- (e) close-all
async def test_close_all_through_the_operator_flattens_and_stops(tmp_path: Path) -> None:
    ex = venue({BTC_SWAP: (D("0.0005"), 8), DOGE_SWAP: (D("-0.0008"), 8)})
    async with bot_rig(ex, tmp_path, engine_settings=fast()) as rig:
        await rig.run_for(10 * MINUTE)
        positions = await rig.store.list_open_positions()
        assert {p.direction.value for p in positions} == {"SHORT", "LONG"}
        assert len(sim_positions(rig)) == 2
        async with serving(rig) as op:
            res = await op.close_all("tester")
            assert res.ok, res.message
            assert state_of(rig) is BotState.STOPPED
        acct = account(rig)
        assert sim_positions(rig) == {}
        assert acct.open_orders == {}
        assert all(b.liab == 0 for b in acct.trading.values())
        assert all(v == 0 for v in acct.savings.values())
        # what is left of the coins is dust below one lot
        assert acct.trading["BTC"].cash < D("0.00001")
        assert acct.trading.get("DOGE") is None or acct.trading["DOGE"].cash < D(1)
        for pos in positions:
            stored = await rig.store.get_position(pos.id)
            assert stored is not None and stored.status is PositionStatus.CLOSED
        assert await rig.store.list_open_positions() == []
        stopped = rig.of(BotStopped)
        assert len(stopped) == 1 and stopped[0].manual and "close-all" in stopped[0].reason
        changes = [(e.old, e.new) for e in rig.of(BotStateChanged)]
        assert changes[-2:] == [("IDLE", "EMERGENCY"), ("EMERGENCY", "STOPPED")]
        row = await saved_row(rig, "engine")
        assert row["state"] == "STOPPED" and row["clean_exit"] is True
        assert rig.engine.memory.carries == {}
        assert any(ev.kind == "close_all" for ev in await rig.store.list_events())


# ---------------------------------------------------------------------- (f) restart
async def test_a_restart_recovers_its_memory_and_sends_nothing_twice(tmp_path: Path) -> None:
    ex = venue({BTC_SWAP: (D("0.0005"), 8), ETH_SWAP: (D("0.0005"), 8),
                DOGE_SWAP: (D("-0.0008"), 8)})
    risk = RiskParams.from_settings(settings_for(), max_consecutive_losses=2)
    async with bot_rig(ex, tmp_path, engine_settings=fast(), risk=risk) as rig:
        await rig.run_for(MINUTE)
        by_coin = {p.symbol: p for p in await rig.store.list_open_positions()}
        assert set(by_coin) == {"BTC", "ETH", "DOGE"}
        btc = by_coin["BTC"]
        initial = rig.engine.memory.carries[btc.id].margin_budget
        # +15 %: the BTC SHORT's ratio (0.5 - 0.15) / 1.15 = 0.30 < 0.4 -> a top-up to 1/L
        ex.set_price("BTC", pct=D(15))
        await rig.run_for(5 * MINUTE)
        budget = rig.engine.memory.carries[btc.id].margin_budget
        assert budget > initial * D("1.2")
        async with serving(rig) as op:
            for coin in ("ETH", "DOGE"):
                assert (await op.close_position(by_coin[coin].id, "tester")).ok
            assert rig.engine.memory.breaker.tripped
            assert state_of(rig) is BotState.PAUSED
            before_orders = dict(account(rig).orders)
            saved = await saved_row(rig, MEMORY_KEY)
        # the first bot is gone (its runner stopped it); a second one on the same store
        async with bot_rig(ex, tmp_path, engine_settings=fast(), risk=risk,
                           start=False) as rig2:
            engine2 = rig2.engine
            await engine2.start()
            assert engine2.state is BotState.PAUSED  # the breaker is still tripped
            assert engine2.memory.breaker == rig.engine.memory.breaker
            assert engine2.memory.breaker.tripped
            assert engine2.memory.carries.keys() == {btc.id}
            assert engine2.memory.carries[btc.id].margin_budget == budget
            assert engine2.memory.peak_equity == rig.engine.memory.peak_equity
            assert engine2.memory.start_equity == rig.engine.memory.start_equity
            assert (await saved_row(rig2, MEMORY_KEY)) == saved
            started = rig2.of(BotStarted)
            assert len(started) == 1 and started[0].open_positions == 1
            assert started[0].recovered == 0
            # no order was sent by the restart; hours of managing send none either
            assert account(rig2).orders == before_orders
            await rig2.run_for(6 * HOUR)
            assert account(rig2).orders == before_orders
            assert [p.id for p in await rig2.store.list_open_positions()] == [btc.id]
            assert engine2.memory.carries[btc.id].margin_budget == budget
            assert not rig2.of(CarryOpened)
            assert not [e for e in rig2.of(RiskAlert) if "does not know" in e.message]


# ---------------------------------------------------------------------- (g) unknown position
async def test_an_exchange_position_unknown_to_the_database_is_flagged(tmp_path: Path) -> None:
    # both swaps pay: the bot opens BTC, and keeps off the swap it does not own
    ex = venue({BTC_SWAP: (D("0.0005"), 8), ETH_SWAP: (D("0.0005"), 8)})
    trading.place_order(ex, ex.accounts["main"], {"instId": ETH_SWAP, "side": "buy",
                                                  "ordType": "market", "sz": "3",
                                                  "tdMode": "cross"})
    async with bot_rig(ex, tmp_path, engine_settings=fast()) as rig:
        alerts = [e for e in rig.of(RiskAlert) if "does not know" in e.message]
        assert len(alerts) == 1
        assert alerts[0].level == "WARN" and ETH_SWAP in alerts[0].message
        assert BTC_SWAP not in alerts[0].message
        stored = [ev for ev in await rig.store.list_events() if ev.kind == "unknown_position"]
        assert len(stored) == 1 and ETH_SWAP in stored[0].message
        # it is flagged, not touched: the bot trades its own carry beside it
        await rig.run_for(HOUR)
        assert sim_positions(rig)[ETH_SWAP] == D(3)
        assert [p.symbol for p in await rig.store.list_open_positions()] == ["BTC"]
        assert [e.symbol for e in rig.of(CarryOpened)] == ["BTC"]
        assert len(account(rig).orders) == 1 + 2  # the stranger's, and BTC's two legs
