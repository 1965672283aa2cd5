"""The engine through ccxt against the simulator on its manual clock: it scans, opens what
risk approves, manages, books, and keeps its state machine and memory in the store."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from engine_rig import HOUR, bot_rig

from laicai.engine.events import BotStarted
from laicai.engine.states import BotState
from laicai.execution.events import CarryOpened
from laicai.sim.market import CurrencyTerms
from laicai.store.states import PositionStatus
from laicai.testing.sim import make_exchange

D = Decimal


def venue():  # type: ignore[no-untyped-def]
    return make_exchange(
        prices={"BTC": D(60000), "DOGE": D("0.2")},
        funding={"BTC-USDT-SWAP": (D("0.0005"), 8), "DOGE-USDT-SWAP": (D("-0.0008"), 8)},
        currencies={"BTC": CurrencyTerms(earn_apr=D("0.02")),
                    "DOGE": CurrencyTerms(borrow_apr=D("0.10"), borrow_limit=D(10_000_000)),
                    "USDT": CurrencyTerms(earn_apr=D("0.05"))},
        trading={"USDT": D(100_000)})


async def test_scans_opens_both_directions_and_rests(tmp_path: Path) -> None:
    ex = venue()
    async with bot_rig(ex, tmp_path) as rig:
        assert rig.of(BotStarted)[0].mode == "paper"
        assert rig.engine.state is BotState.IDLE
        await rig.run_for(2 * HOUR)
        opened = rig.of(CarryOpened)
        assert {e.symbol for e in opened} == {"BTC", "DOGE"}, rig.events
        positions = await rig.store.list_open_positions()
        assert {p.direction.value for p in positions} == {"SHORT", "LONG"}
        assert all(p.status is PositionStatus.OPEN for p in positions)
        assert rig.engine.state is BotState.IDLE
        row = await rig.store.get_bot_state("engine")
        assert row["state"] == "IDLE" and row["mode"] == "paper" and not row["clean_exit"]
        # margin ratios are persisted by the risk cycle
        assert all(p.margin_ratio is not None and p.margin_ratio > D("0.3") for p in positions)
        snaps = await rig.store.list_equity_snapshots()
        assert len(snaps) >= 2
