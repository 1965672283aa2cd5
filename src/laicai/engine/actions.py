"""What the engine can make happen, behind one interface: :class:`CarryActions`.

:class:`LiveActions` sends orders through the :class:`~laicai.execution.carry.CarryExecutor`
(live and paper alike); :class:`DryRunActions` journals each decision and sends nothing. The
engine is given one of them and never asks which: that is the whole of dry-run mode.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, Protocol

from laicai.engine.events import DecisionLogged
from laicai.execution.carry import CarryExecutor
from laicai.execution.recovery import recover
from laicai.store.records import PositionRecord
from laicai.store.repository import Repository
from laicai.strategy import Opportunity

log = logging.getLogger(__name__)
REPEAT_WINDOW = timedelta(minutes=15)  # a dry run journals a repeated decision once per window


@dataclass(frozen=True, slots=True)
class RecoverySummary:
    intents: int
    positions: Mapping[int, str]  # id -> status it was brought to


class CarryActions(Protocol):
    async def open(self, opp: Opportunity) -> PositionRecord | None: ...

    async def close(self, position_id: int, reason: str) -> PositionRecord | None: ...

    async def reset(self, position_id: int, reason: str) -> PositionRecord | None: ...

    async def top_up(self, position_id: int, amount_usdt: Decimal, source: str) -> Decimal:
        """Returns the USDT actually added to the carry's margin."""
        ...

    async def sweep(self, position_id: int, amount_usdt: Decimal) -> Decimal:
        """Returns the USDT actually moved out of the carry's margin."""
        ...

    async def rebalance(self, position_id: int, leg: str, base_qty: Decimal) -> None: ...

    async def recover(self) -> RecoverySummary: ...

    async def resume(self, position_id: int) -> PositionRecord | None:
        """Bring a carry left between two states (an operation that failed half-way) to
        rest: finish or unwind it, reading the legs from the venue."""
        ...

    async def close_all(self) -> str:
        """Flatten everything on the exchange; returns a one-paragraph summary."""
        ...


class LiveActions:
    """Orders go out (to OKX, or to ``laicai sim`` in paper mode)."""

    def __init__(self, executor: CarryExecutor) -> None:
        self.executor = executor

    async def open(self, opp: Opportunity) -> PositionRecord | None:
        return await self.executor.open(opp)

    async def close(self, position_id: int, reason: str) -> PositionRecord | None:
        return await self.executor.close(position_id, reason)

    async def reset(self, position_id: int, reason: str) -> PositionRecord | None:
        return await self.executor.reset(position_id, reason)

    async def top_up(self, position_id: int, amount_usdt: Decimal, source: str) -> Decimal:
        return await self.executor.top_up(position_id, amount_usdt, source)

    async def sweep(self, position_id: int, amount_usdt: Decimal) -> Decimal:
        return await self.executor.sweep(position_id, amount_usdt)

    async def rebalance(self, position_id: int, leg: str, base_qty: Decimal) -> None:
        await self.executor.rebalance(position_id, leg, base_qty)

    async def resume(self, position_id: int) -> PositionRecord | None:
        pos = await self.executor.store.get_position(position_id)
        if pos is None or pos.status.is_final:
            return pos
        return await self.executor.resume(pos)

    async def recover(self) -> RecoverySummary:
        report = await recover(self.executor)
        return RecoverySummary(report.intents_reconciled, dict(report.positions))

    async def close_all(self) -> str:
        from laicai.execution.close_all import close_all

        ex = self.executor
        report = await close_all(
            ex.venue, store=ex.store, clock=ex.clock, instruments=ex.instruments,
            spot_fee_rate=ex.spot_fee_rate, on_event=ex.on_event)
        return report.summary()


class DryRunActions:
    """Nothing is sent: every decision is journaled (as a finished intent) and published."""

    def __init__(self, store: Repository, clock: Callable[[], object],
                 publish: Callable[[DecisionLogged], None]) -> None:
        self.store = store
        self.clock = clock
        self.publish = publish
        self._last: dict[tuple[str, int | None, str], Any] = {}

    async def _decide(self, action: str, detail: str, position_id: int | None = None,
                      payload: dict[str, str] | None = None) -> None:
        from datetime import datetime

        ts = self.clock()
        assert isinstance(ts, datetime)
        key = (action, position_id, detail)
        last = self._last.get(key)
        if last is not None and ts - last < REPEAT_WINDOW:
            return  # the same decision again (every push below a rung): journaled already
        self._last[key] = ts
        entry = await self.store.add_intent(f"dry_run.{action}",
                                            {"detail": detail, **(payload or {})}, ts=ts,
                                            position_id=position_id)
        await self.store.mark_intent_done(entry.id, ts=ts)
        log.info("dry run: would %s: %s", action, detail)
        self.publish(DecisionLogged(ts, action, detail, position_id))

    async def open(self, opp: Opportunity) -> PositionRecord | None:
        await self._decide("open", f"{opp.direction.value} {opp.base_qty} {opp.base} "
                                   f"({opp.swap_inst_id}) at net APR {opp.net_apr}",
                           payload={"swap_inst_id": opp.swap_inst_id,
                                    "base_qty": str(opp.base_qty)})
        return None

    async def close(self, position_id: int, reason: str) -> PositionRecord | None:
        await self._decide("close", f"position {position_id}: {reason}", position_id)
        return None

    async def reset(self, position_id: int, reason: str) -> PositionRecord | None:
        await self._decide("reset", f"position {position_id}: {reason}", position_id)
        return None

    async def top_up(self, position_id: int, amount_usdt: Decimal, source: str) -> Decimal:
        await self._decide("top_up", f"position {position_id}: {amount_usdt} USDT from "
                                     f"{source}", position_id)
        return Decimal(0)

    async def sweep(self, position_id: int, amount_usdt: Decimal) -> Decimal:
        await self._decide("sweep", f"position {position_id}: {amount_usdt} USDT",
                           position_id)
        return Decimal(0)

    async def rebalance(self, position_id: int, leg: str, base_qty: Decimal) -> None:
        await self._decide("rebalance", f"position {position_id}: {leg} by {base_qty}",
                           position_id)

    async def resume(self, position_id: int) -> PositionRecord | None:
        await self._decide("resume", f"position {position_id}: finish what was in flight",
                           position_id)
        return None

    async def recover(self) -> RecoverySummary:
        pending = await self.store.list_pending_intents()
        if pending:
            log.warning("dry run: %d intents are pending from an earlier run; not touched",
                        len(pending))
        return RecoverySummary(0, {})

    async def close_all(self) -> str:
        await self._decide("close_all", "close every carry on the exchange")
        return "dry run: nothing sent"
