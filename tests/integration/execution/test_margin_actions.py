"""The margin ladder's actions (top-up, sweep) and the hedge guard's rebalance, through the
real ccxt client against the simulator: what moves on the venue, what is journaled, which
event is emitted, and the transfer whose answer is lost on the way."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from execution_rig import Rig, build_rig, carry_venue

from laicai.domain.enums import Direction
from laicai.domain.instrument import round_to_step
from laicai.errors import InsufficientFunds, InvariantViolation, OutcomeUnknown
from laicai.execution.events import ExecutionError, LegRebalanced, MarginTransferred
from laicai.execution.ids import client_order_id
from laicai.execution.recovery import recover
from laicai.risk.commands import Leg, TransferSource
from laicai.sim import trading
from laicai.sim.ledger import max_transferable
from laicai.store.records import NewPosition
from laicai.store.states import PositionStatus

D = Decimal
CENT = D("0.01")


@pytest.fixture
async def funded(tmp_path: Path) -> AsyncIterator[Rig]:
    """The carry venue with 5,000 USDT in the funding account as well."""
    async for r in build_rig(carry_venue(funding_account={"USDT": D(5000)}), tmp_path):
        yield r


def journal(tmp_path: Path, operation: str) -> list[tuple[dict[str, Any], str]]:
    """(payload, status) of every intent ``operation`` in the rig's database."""
    with sqlite3.connect(tmp_path / "exec.db") as db:
        rows = db.execute("SELECT payload, status FROM journal WHERE operation = ? ORDER BY id",
                          (operation,)).fetchall()
    return [(json.loads(p), s) for p, s in rows]


def usdt(rig: Rig) -> tuple[Decimal, Decimal]:
    """USDT cash in the trading account and in the funding account."""
    acct = rig.ex.accounts["main"]
    return acct.trading["USDT"].cash, acct.funding.get("USDT", D(0))


async def arm_fault(rig: Rig, **fault: Any) -> None:
    """Through the simulator's own control API, as an operator or a chaos run would."""
    async with aiohttp.ClientSession() as http, http.post(
            f"{rig.server.rest_url}/sim/faults", json=fault) as resp:
        assert resp.status == 200, await resp.text()


# ---------------------------------------------------------------------- top-up
async def test_top_up_from_funding_transfers_it_in_with_a_journaled_client_id(
        funded: Rig, tmp_path: Path) -> None:
    rig = funded
    pos = await rig.executor.open(await rig.opportunity("BTC"))
    trading_before, funding_before = usdt(rig)
    transfers_before = len(rig.ex.accounts["main"].transfers)
    added = await rig.executor.top_up(pos.id, D("300.129"), "funding")
    assert added == D("300.12")  # whole cents, rounded down
    assert usdt(rig) == (trading_before + added, funding_before - added)
    transfers = list(rig.ex.accounts["main"].transfers.values())[transfers_before:]
    assert len(transfers) == 1
    t = transfers[0]
    assert (t.ccy, t.amt, t.from_acct, t.to_acct) == ("USDT", added, "6", "18")
    [(payload, status)] = journal(tmp_path, "top_up")
    assert status == "done"
    assert payload["transfer"]["client_id"] == t.client_id != ""
    [event] = [e for e in rig.events if isinstance(e, MarginTransferred)]
    assert (event.action, event.source, event.margin_mode) == ("top_up", "funding", "cross")
    assert event.amount_usdt == event.transferred_usdt == added
    assert event.client_id == t.client_id and event.position_id == pos.id


async def test_top_up_from_trading_in_cross_margin_moves_nothing(
        funded: Rig, tmp_path: Path) -> None:
    rig = funded
    pos = await rig.executor.open(await rig.opportunity("BTC"))
    before = usdt(rig)
    transfers_before = len(rig.ex.accounts["main"].transfers)
    added = await rig.executor.top_up(pos.id, D(250), TransferSource.TRADING)
    assert added == D(250)
    # the trading account's USDT already backs the cross perp: nothing moved anywhere
    assert usdt(rig) == before
    assert len(rig.ex.accounts["main"].transfers) == transfers_before
    [(payload, status)] = journal(tmp_path, "top_up")
    assert status == "done" and payload["transfer"] is None and "cross" in payload["note"]
    [event] = [e for e in rig.events if isinstance(e, MarginTransferred)]
    assert event.transferred_usdt == 0 and event.amount_usdt == D(250)
    # never more than is free: the margin of every position stays where it is
    acct = rig.ex.accounts["main"]
    free = round_to_step(max_transferable(rig.ex, acct, "USDT"), CENT, ROUND_DOWN)
    assert await rig.executor.top_up(pos.id, D(10) ** 9, "trading") == free


async def test_top_up_with_no_free_usdt_is_refused(rig: Rig) -> None:
    pos = await rig.executor.open(await rig.opportunity("BTC"))
    with pytest.raises(InsufficientFunds):
        await rig.executor.top_up(pos.id, D(100), "funding")  # the funding account is empty
    assert any(isinstance(e, ExecutionError) and e.operation == "top_up" for e in rig.events)
    assert not [e for e in rig.events if isinstance(e, MarginTransferred)]


async def test_top_up_whose_answer_is_lost_is_settled_by_its_client_id(
        funded: Rig, tmp_path: Path) -> None:
    rig = funded
    pos = await rig.executor.open(await rig.opportunity("BTC"))
    trading_before, funding_before = usdt(rig)
    transfers_before = len(rig.ex.accounts["main"].transfers)
    await arm_fault(rig, kind="drop_after_accept", endpoint="asset/transfer", count=1)
    added = await rig.executor.top_up(pos.id, D(400), "funding")
    assert added == D(400)
    # done once: the lost answer was settled by asking for the clientId, never resent
    assert len(rig.ex.accounts["main"].transfers) == transfers_before + 1
    assert usdt(rig) == (trading_before + 400, funding_before - 400)
    [(_, status)] = journal(tmp_path, "top_up")
    assert status == "done"
    assert rig.ex.faults.faults == []  # the fault fired


async def test_top_up_that_never_arrived_stays_open_until_recovery_settles_it(
        funded: Rig, tmp_path: Path) -> None:
    rig = funded
    pos = await rig.executor.open(await rig.opportunity("BTC"))
    before = usdt(rig)
    transfers_before = len(rig.ex.accounts["main"].transfers)
    await arm_fault(rig, kind="http_5xx", endpoint="asset/transfer", count=1)
    with pytest.raises(OutcomeUnknown):
        await rig.executor.top_up(pos.id, D(400), "funding")
    assert usdt(rig) == before  # the 5xx came before anything happened
    assert len(rig.ex.accounts["main"].transfers) == transfers_before
    [(payload, status)] = journal(tmp_path, "top_up")
    assert status == "sent"  # unknown: left for the reconciliation, not guessed
    pending = await rig.store.list_pending_intents()
    assert [p.payload["transfer"]["client_id"] for p in pending] == [
        payload["transfer"]["client_id"]]
    report = await recover(rig.executor)
    assert (report.transfers_failed, report.transfers_done) == (1, 0)
    assert journal(tmp_path, "top_up")[0][1] == "failed"
    assert not await rig.store.list_pending_intents()


async def _isolated_short(rig: Rig, contracts: str) -> int:
    """A perp short opened isolated straight in the simulator, and its position record."""
    acct = rig.ex.accounts["main"]
    trading.set_leverage(rig.ex, acct, "BTC-USDT-SWAP", "2", "isolated")
    trading.place_order(rig.ex, acct, {"instId": "BTC-USDT-SWAP", "side": "sell",
                                       "ordType": "market", "sz": contracts,
                                       "tdMode": "isolated"})
    qty = D(contracts) * rig.ex.instruments["BTC-USDT-SWAP"].ct_val
    pos = await rig.store.create_position(NewPosition(
        symbol="BTC", direction=Direction.SHORT, spot_inst_id="BTC-USDT",
        swap_inst_id="BTC-USDT-SWAP", leverage=D(2), open_timestamp=rig.executor.clock.now(),
        position_amount=qty, entry_spot_price=D(60000), entry_swap_price=D(60000),
        initial_funding_rate=D("0.0005"), swap_contracts=D(contracts)))
    await rig.store.transition_position(pos.id, PositionStatus.OPEN,
                                        ts=rig.executor.clock.now())
    return pos.id


async def test_isolated_perp_gets_the_top_up_in_its_own_margin_and_gives_a_sweep_back(
        funded: Rig) -> None:
    rig = funded
    pid = await _isolated_short(rig, "10")
    perp = rig.ex.accounts["main"].positions["BTC-USDT-SWAP"]
    margin_before = perp.margin
    _, funding_before = usdt(rig)
    assert await rig.executor.top_up(pid, D(150), "funding") == D(150)
    assert perp.margin == margin_before + 150
    assert usdt(rig)[1] == funding_before - 150
    assert await rig.executor.top_up(pid, D(50), "trading") == D(50)  # from trading cash
    assert perp.margin == margin_before + 200
    top_ups = [e for e in rig.events if isinstance(e, MarginTransferred)]
    assert [(e.margin_mode, e.isolated_usdt, e.transferred_usdt) for e in top_ups] == [
        ("isolated", D(150), D(150)), ("isolated", D(50), D(0))]
    moved = await rig.executor.sweep(pid, D(120))
    assert moved == D(120)
    assert perp.margin == margin_before + 80
    assert usdt(rig)[1] == funding_before - 150 + 120


# ---------------------------------------------------------------------- sweep
async def test_sweep_moves_surplus_to_funding_never_more_than_may_leave(
        rig: Rig, tmp_path: Path) -> None:
    pos = await rig.executor.open(await rig.opportunity("BTC"))
    rig.ex.set_price("BTC", pct=D(-5))  # the short perp gains: margin to spare
    trading_before, funding_before = usdt(rig)
    assert await rig.executor.sweep(pos.id, D("500.555")) == D("500.55")
    assert usdt(rig) == (trading_before - D("500.55"), funding_before + D("500.55"))
    [(payload, status)] = journal(tmp_path, "sweep")
    assert status == "done" and payload["transfer"]["from"] == "trading"
    acct = rig.ex.accounts["main"]
    free = round_to_step(max_transferable(rig.ex, acct, "USDT"), CENT, ROUND_DOWN)
    assert free > 0
    assert await rig.executor.sweep(pos.id, D(10) ** 9) == free  # bounded by the venue
    assert max_transferable(rig.ex, acct, "USDT") < CENT
    assert rig.contracts("BTC-USDT-SWAP") != 0  # the perp was never at risk of a refusal
    with pytest.raises(InsufficientFunds):
        await rig.executor.sweep(pos.id, D(10))
    sweeps = [e for e in rig.events if isinstance(e, MarginTransferred)]
    assert [e.amount_usdt for e in sweeps] == [D("500.55"), free]
    assert all(e.destination == "funding" and e.action == "sweep" for e in sweeps)


# ---------------------------------------------------------------------- rebalance
async def test_rebalance_shrinks_the_perp_reduce_only_with_deterministic_ids(
        rig: Rig, tmp_path: Path) -> None:
    pos = await rig.executor.open(await rig.opportunity("BTC"))
    swap = rig.executor.instruments["BTC-USDT-SWAP"]
    contracts = rig.contracts("BTC-USDT-SWAP")
    in_earn = rig.ex.accounts["main"].savings["BTC"]
    out = await rig.executor.rebalance(pos.id, Leg.PERP, D("-0.00549"))  # 0.549 -> 0.5 ct
    assert rig.contracts("BTC-USDT-SWAP") == contracts + D("0.5")
    assert rig.ex.accounts["main"].savings["BTC"] == in_earn  # the spot leg stayed
    [order] = [o for o in rig.sim_orders() if o.cl_ord_id.startswith(f"lc{pos.id}b")]
    assert order.cl_ord_id == client_order_id(pos.id, "rebalance", 0, "perp", 0)
    assert order.reduce_only and order.side == "buy" and order.sz == D("0.5")
    assert out.swap_contracts == abs(contracts) - D("0.5")
    assert out.position_amount == out.swap_contracts * swap.contract_value
    assert out.total_trade_fee > pos.total_trade_fee
    [(payload, status)] = journal(tmp_path, "rebalance.round0")
    assert status == "done" and payload["legs"][0]["reduce_only"] is True
    [event] = [e for e in rig.events if isinstance(e, LegRebalanced)]
    assert (event.leg, event.base_qty) == ("perp", D("0.005"))
    assert event.perp_base == out.position_amount
    # a second rebalance never reuses an id (the same round, the next attempt)
    await rig.executor.rebalance(pos.id, "perp", D("-0.001"))
    ids = [o.cl_ord_id for o in rig.sim_orders() if o.cl_ord_id.startswith(f"lc{pos.id}b")]
    assert ids == [client_order_id(pos.id, "rebalance", 0, "perp", a) for a in (0, 1)]


async def test_rebalance_sells_spot_from_simple_earn_keeping_the_perp(rig: Rig) -> None:
    pos = await rig.executor.open(await rig.opportunity("BTC"))
    contracts = rig.contracts("BTC-USDT-SWAP")
    acct = rig.ex.accounts["main"]
    in_earn = acct.savings["BTC"]
    assert rig.coin("BTC") == 0  # all of it sits in Simple Earn
    out = await rig.executor.rebalance(pos.id, "spot", D("-0.002"))
    assert acct.savings["BTC"] == in_earn - D("0.002")  # redeemed just what was sold
    assert rig.coin("BTC") == 0 and rig.contracts("BTC-USDT-SWAP") == contracts
    sold = [o for o in rig.sim_orders() if o.cl_ord_id.startswith(f"lc{pos.id}b")]
    assert [(o.inst_id, o.side, o.acc_fill_sz) for o in sold] == [("BTC-USDT", "sell",
                                                                  D("0.002"))]
    assert out.earn_amount == pos.earn_amount - D("0.002")
    assert out.position_amount == pos.position_amount  # the hedge size is the perp's
    [event] = [e for e in rig.events if isinstance(e, LegRebalanced)]
    assert (event.leg, event.base_qty) == ("spot", D("0.002"))
    assert event.spot_base == in_earn - D("0.002")


async def test_rebalance_of_a_long_buys_back_and_repays(rig: Rig) -> None:
    pos = await rig.executor.open(await rig.opportunity("DOGE"))
    doge = rig.ex.accounts["main"].trading["DOGE"]
    owed = doge.liab
    contracts = rig.contracts("DOGE-USDT-SWAP")
    out = await rig.executor.rebalance(pos.id, Leg.SPOT, D(-500))
    assert rig.contracts("DOGE-USDT-SWAP") == contracts
    assert owed - D(500) - D(1) < doge.liab <= owed - D(500)  # bought (fee grossed up), repaid
    assert out.borrowed_amount == doge.liab
    bought = [o for o in rig.sim_orders() if o.cl_ord_id.startswith(f"lc{pos.id}b")]
    assert [(o.inst_id, o.side) for o in bought] == [("DOGE-USDT", "buy")]


async def test_rebalance_never_grows_a_leg_and_ignores_less_than_a_lot(rig: Rig) -> None:
    pos = await rig.executor.open(await rig.opportunity("BTC"))
    orders = len(rig.sim_orders())
    with pytest.raises(InvariantViolation):
        await rig.executor.rebalance(pos.id, "perp", D("0.001"))
    with pytest.raises(InvariantViolation):
        await rig.executor.rebalance(pos.id, "spot", D("0.001"))
    same = await rig.executor.rebalance(pos.id, "perp", D("-0.0009"))  # < one 0.1-ct lot
    assert same == pos
    assert len(rig.sim_orders()) == orders
    assert not [e for e in rig.events if isinstance(e, LegRebalanced)]
