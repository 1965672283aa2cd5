"""After a crash: reconcile the journal and the positions with the exchange, then finish what
was in flight.

Crash-only design: nothing is trusted but the journal (what we meant to send, with the client
order ids) and the venue (what happened). Every unfinished intent's orders are looked up by
client order id and stored as the venue knows them; every position caught between two states
is driven to a state at rest by the same target-driven legs as in normal operation — an open is
completed to a hedge (or unwound when nothing filled), a close or a reset is finished. A margin
transfer left unfinished is settled by asking the venue about its ``clientId``, and the Simple
Earn subscription of an OPEN SHORT carry by where the venue holds its coin.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal

from laicai.domain.enums import Side
from laicai.domain.orders import OrderRequest, OrderType
from laicai.execution.carry import CarryExecutor
from laicai.store.states import PositionStatus

log = logging.getLogger(__name__)


@dataclass(slots=True)
class RecoveryReport:
    intents_reconciled: int = 0
    orders_found: int = 0
    orders_missing: int = 0
    transfers_done: int = 0
    transfers_failed: int = 0
    positions: dict[int, str] = field(default_factory=dict)  # id -> final status


async def recover(executor: CarryExecutor) -> RecoveryReport:
    """Reconcile, then bring every position in flight to rest. Safe to run at every start."""
    report = RecoveryReport()
    store, runner = executor.store, executor.runner
    for intent in await store.list_pending_intents():
        transfer = intent.payload.get("transfer")
        if isinstance(transfer, dict) and transfer.get("client_id"):
            cid = str(transfer["client_id"])
            moved = await executor.venue.transfer_state(cid)
            if moved == "pending":  # still under way: asked again at the next start
                continue
            if moved == "success":
                report.transfers_done += 1
                await store.mark_intent_done(intent.id, ts=executor.clock.now())
            else:
                report.transfers_failed += 1
                await store.mark_intent_failed(
                    intent.id, f"transfer clientId {cid}: {moved or 'unknown to the venue'}",
                    ts=executor.clock.now())
            report.intents_reconciled += 1
            continue
        for leg in intent.payload.get("legs", []):
            req = OrderRequest(leg["client_order_id"], leg["inst_id"], Side(leg["side"]),
                               OrderType(leg.get("type", "market")), Decimal(leg["size"]),
                               "cross" if leg["inst_id"].endswith("-SWAP") else "cash",
                               reduce_only=bool(leg.get("reduce_only")))
            state = await runner.refresh(req, position_id=intent.position_id,
                                         journal_id=intent.id)
            if state is None:
                report.orders_missing += 1
                await runner.record_missing(req, position_id=intent.position_id,
                                            journal_id=intent.id)
            else:
                report.orders_found += 1
        await store.mark_intent_done(intent.id, ts=executor.clock.now())
        report.intents_reconciled += 1
    for pos in await store.list_open_positions():
        if pos.status is PositionStatus.OPEN:
            await executor.settle_earn(pos)  # a subscription a crash cut short
            continue
        done = await executor.resume(pos)
        report.positions[pos.id] = done.status.value
    return report
