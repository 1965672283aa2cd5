"""A carry's PnL decomposition from what the store holds: its fills, its funding bills, its
Earn and borrow interest bills (the I/O around the pure :func:`laicai.engine.pnl.carry_pnl`).

Used for the close message, the operator's views, the daily report and the circuit breaker,
so every face reports the same numbers, and they add up to the account's equity change.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from laicai.domain.instrument import Instrument
from laicai.engine.events import PnlBreakdown
from laicai.engine.pnl import CarryPnl, Valuation, carry_pnl
from laicai.store.records import Fill, PositionRecord
from laicai.store.repository import Repository

ZERO = Decimal(0)


async def position_fills(store: Repository, position_id: int) -> list[Fill]:
    fills: list[Fill] = []
    for order in await store.list_orders(position_id):
        fills.extend(await store.list_fills(order.client_order_id))
    return fills


def default_valuation(pos: PositionRecord, spot_px: Decimal | None,
                      mark_px: Decimal | None) -> Valuation:
    """Current prices for an open carry; the exit prices (else entry) for a closed one."""
    spot = spot_px or pos.exit_spot_price or pos.entry_spot_price
    mark = mark_px or pos.exit_swap_price or pos.entry_swap_price or spot
    if not spot or spot <= 0:
        spot = mark if mark and mark > 0 else Decimal(1)
    if not mark or mark <= 0:
        mark = spot
    return Valuation(spot, mark)


async def carry_pnl_of(store: Repository, pos: PositionRecord,
                       instruments: Mapping[str, Instrument], *,
                       spot_px: Decimal | None = None,
                       mark_px: Decimal | None = None) -> CarryPnl:
    swap = instruments.get(pos.swap_inst_id)
    contract_value = swap.base_per_size() if swap is not None else Decimal(1)
    return carry_pnl(pos, await position_fills(store, pos.id),
                     await store.list_funding_payments(pos.id),
                     contract_value=contract_value,
                     valuation=default_valuation(pos, spot_px, mark_px),
                     earn=await store.list_earn_events(pos.id),
                     borrow=await store.list_borrow_events(pos.id))


async def breakdown_of(store: Repository, pos: PositionRecord,
                       instruments: Mapping[str, Instrument], *,
                       spot_px: Decimal | None = None,
                       mark_px: Decimal | None = None) -> PnlBreakdown:
    return (await carry_pnl_of(store, pos, instruments, spot_px=spot_px,
                               mark_px=mark_px)).breakdown
