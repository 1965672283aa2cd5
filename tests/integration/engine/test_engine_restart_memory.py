"""The engine's memory of a carry (its margin budget, kept in bot_state) across a restart:
kept when nothing happened to the carry meanwhile, rebuilt when a reset finished without the
engine remembering it (finished by crash recovery, or a crash came between the reset and the
memory being written). A stale budget reads as a shortfall to top up (or, for a reset at a
lower price, a surplus to sweep) the moment the engine is back."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from engine_rig import HOUR, bot_rig, settings_for

from laicai.engine.bot import build_bot
from laicai.engine.context import initial_margin_budget
from laicai.engine.core import MEMORY_KEY
from laicai.engine.events import MarginToppedUp, ProfitSwept
from laicai.sim.market import CurrencyTerms
from laicai.store.states import PositionStatus
from laicai.testing.sim import SimTimeClock, make_exchange

D = Decimal


async def test_a_reset_the_engine_did_not_see_rebuilds_its_memory(tmp_path: Path) -> None:
    ex = make_exchange(
        prices={"BTC": D(60000), "DOGE": D("0.2")},
        funding={"BTC-USDT-SWAP": (D("0.0005"), 8), "DOGE-USDT-SWAP": (D("-0.0008"), 8)},
        currencies={"BTC": CurrencyTerms(earn_apr=D("0.02")),
                    "DOGE": CurrencyTerms(borrow_apr=D("0.10"), borrow_limit=D(10_000_000)),
                    "USDT": CurrencyTerms(earn_apr=D("0.05"))},
        trading={"USDT": D(100_000)})
    async with bot_rig(ex, tmp_path) as rig:
        await rig.run_for(2 * HOUR)
        carries = {p.symbol: p for p in await rig.store.list_open_positions()}
        btc, doge = carries["BTC"], carries["DOGE"]
        memory = await rig.store.get_bot_state(MEMORY_KEY)
        assert memory is not None and memory["carries"][str(btc.id)]["resets"] == 0
        # a top-up the engine made on DOGE stays remembered across the restart
        memory["carries"][str(doge.id)]["budget"] = str(initial_margin_budget(doge) + 100)
        await rig.store.set_bot_state(MEMORY_KEY, memory, ts=rig.engine.now())
        # BTC rises 30% and a reset happens behind the engine's back (a crashed run's)
        ex.set_price("BTC", pct=D(30))
        assert rig.bot.executor is not None
        reset = await rig.bot.executor.reset(btc.id, "test")
        assert reset.status is PositionStatus.OPEN and reset.resets_count == 1

        restarted = await build_bot(settings_for(), venue=rig.okx, store=rig.store,
                                    clock=SimTimeClock(ex), ws_prices=False)
        seen: list[object] = []
        restarted.bus.listen(seen.append)
        await restarted.engine.start()
        mem = restarted.engine.memory.carries
        assert mem[btc.id].margin_budget == initial_margin_budget(reset)
        assert mem[btc.id].resets == 1
        assert mem[doge.id].margin_budget == initial_margin_budget(doge) + 100
        await restarted.engine.run_job("risk")
        assert not [e for e in seen if isinstance(e, MarginToppedUp | ProfitSwept)], seen
