"""A carry's PnL decomposition from what the store holds: its fills, its funding bills, its
Earn and borrow interest bills (the I/O around the pure :func:`laicai.engine.pnl.carry_pnl`).

Used for the close message, the operator's views, the daily report and the circuit breaker,
so every face reports the same numbers, and they add up to the account's equity change;
:class:`RunningBooks` keeps the equity snapshots' sum of them without re-reading history.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from laicai.domain.instrument import Instrument
from laicai.engine.events import PnlBreakdown
from laicai.engine.pnl import CarryPnl, Valuation, carry_pnl, sum_breakdowns
from laicai.store.records import Fill, PositionRecord
from laicai.store.repository import Repository
from laicai.store.states import PositionStatus

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


class RunningBooks:
    """Every carry's decomposition so far, summed (the equity snapshots' income, costs and
    basis), kept so that one more snapshot costs the same on day 300 as on day 1.

    Decomposing every carry from the store at each snapshot re-reads all its fills and every
    funding, Earn and borrow bill ever booked to it (a month-old LONG carry has 700+ hourly
    interest bills) and every closed carry: work that grows without bound, on the engine's one
    task. Instead:

    - a closed carry is decomposed once, at its exit prices, when first seen closed, and added
      to a running sum; the closed carries are found by a watermark on their close time;
    - an open carry's funding, Earn and borrow interest come from its row's running totals
      (``total_funding_fee``, ``total_spot_earning_yield``, ``total_borrow_interest``, which
      the store adds bill by bill as they are booked), valued like
      :func:`carry_pnl_of` values them (Earn and borrow interest at the spot price); its fees
      and basis from its fills, re-read only when its orders changed. With interest valued at
      the spot price the basis does not depend on the interest (see :mod:`laicai.engine.pnl`),
      so the parts equal :func:`breakdown_of`'s, to the totals' stored precision.
    """

    def __init__(self, instruments: Mapping[str, Instrument]) -> None:
        self.instruments = instruments
        self.closed = PnlBreakdown()
        self._since: datetime | None = None  # newest close time seen
        self._at_since: set[int] = set()  # the closed carries with that close time
        self._fills: dict[int, tuple[tuple[tuple[str, datetime], ...], list[Fill]]] = {}

    async def total(self, store: Repository, positions: Sequence[PositionRecord],
                    prices: Callable[[PositionRecord], tuple[Decimal | None, Decimal | None]],
                    ) -> PnlBreakdown:
        """The sum over every CLOSED carry (at its exit prices) and the open ``positions``
        (at ``prices(position)`` = (spot, mark), None: its entry prices)."""
        await self._add_closed(store)
        parts = [self.closed]
        for pos in positions:
            spot_px, mark_px = prices(pos)
            parts.append(await self._open(store, pos, spot_px, mark_px))
        open_ids = {p.id for p in positions}
        for pid in [k for k in self._fills if k not in open_ids]:
            del self._fills[pid]
        return sum_breakdowns(parts)

    async def _add_closed(self, store: Repository) -> None:
        closed = await store.list_closed_positions(since=self._since, limit=100_000)
        new = [p for p in closed if p.id not in self._at_since]
        done = [p for p in new if p.status is PositionStatus.CLOSED]
        if done:
            self.closed = sum_breakdowns(
                [self.closed, *[await breakdown_of(store, p, self.instruments) for p in done]])
        stamps = [p.close_timestamp for p in new if p.close_timestamp is not None]
        if not stamps:
            return
        newest = max(stamps)
        if self._since is None or newest > self._since:
            self._since = newest
            self._at_since = set()
        self._at_since.update(p.id for p in new if p.close_timestamp == self._since)

    async def _open(self, store: Repository, pos: PositionRecord, spot_px: Decimal | None,
                    mark_px: Decimal | None) -> PnlBreakdown:
        orders = await store.list_orders(pos.id)
        key = tuple((o.client_order_id, o.updated_at) for o in orders)
        memo = self._fills.get(pos.id)
        if memo is None or memo[0] != key:
            fills: list[Fill] = []
            for order in orders:
                fills.extend(await store.list_fills(order.client_order_id))
            memo = self._fills[pos.id] = (key, fills)
        swap = self.instruments.get(pos.swap_inst_id)
        contract_value = swap.base_per_size() if swap is not None else Decimal(1)
        valuation = default_valuation(pos, spot_px, mark_px)
        traded = carry_pnl(pos, memo[1], (), contract_value=contract_value,
                           valuation=valuation).breakdown
        px = valuation.interest
        return PnlBreakdown(funding=pos.total_funding_fee,
                            earn=pos.total_spot_earning_yield * px, basis=traded.basis,
                            fees=traded.fees, borrow=pos.total_borrow_interest * px,
                            slippage=traded.slippage)
