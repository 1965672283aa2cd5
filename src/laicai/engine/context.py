"""What the engine knows about the account at one moment, and the guards' views built from it.

One :func:`fetch_account` gathers the venue's side (balances of both accounts, perp positions,
Earn holdings, liabilities, tickers, funding) in a handful of reads; :func:`carry_view` and
:func:`account_view` turn it and the stored positions into the plain values of
:mod:`laicai.risk.state`. The engine keeps the little memory the guards need between two
evaluations (margin level, when the naked exposure rose, the margin budget) in
:class:`CarryMemory`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from laicai.domain.account import Balance, PerpPosition
from laicai.domain.enums import Direction
from laicai.domain.instrument import Instrument
from laicai.domain.market import FundingRate, OrderBook, Ticker
from laicai.risk.state import AccountView, CarryView, EntryDepth, MarginLevel
from laicai.store.records import PositionRecord
from laicai.store.states import PositionStatus, SpotEarningStatus
from laicai.strategy import Opportunity
from laicai.venues.port import TradingExchange

ZERO = Decimal(0)
USDT = "USDT"


@dataclass(frozen=True, slots=True)
class AccountState:
    """The venue's side of the account, read at ``ts_ms`` (engine clock)."""

    ts_ms: int
    trading: Mapping[str, Balance]
    funding: Mapping[str, Balance]
    positions: Mapping[str, PerpPosition]  # by swap inst_id, non-zero only
    earn: Mapping[str, Decimal]  # coin in Simple Earn, by currency
    prices: Mapping[str, Decimal]  # last price of each coin in USDT (spot ticker), USDT = 1
    funding_rates: Mapping[str, FundingRate]  # by swap inst_id

    def price(self, ccy: str) -> Decimal:
        return Decimal(1) if ccy == USDT else self.prices.get(ccy, ZERO)

    @property
    def equity_usdt(self) -> Decimal:
        """Everything the account is worth in USDT: both accounts' currencies (their equity,
        so perp PnL and liabilities are in) at the spot price, plus the coin in Earn."""
        total = ZERO
        for book in (self.trading, self.funding):
            for ccy, bal in book.items():
                total += bal.total * self.price(ccy)
        for ccy, qty in self.earn.items():
            total += qty * self.price(ccy)
        return total

    def usdt_available(self, account: str = "trading") -> Decimal:
        book = self.trading if account == "trading" else self.funding
        bal = book.get(USDT)
        return bal.available if bal else ZERO


@dataclass(slots=True)
class Health:
    """REST calls of the engine's own reads over a rolling window, for the exchange guard."""

    window_ms: int = 300_000
    samples: list[tuple[int, int, bool]] = field(default_factory=list)  # (ts, latency, error)
    last_ws_ms: int | None = None

    def record(self, ts_ms: int, latency_ms: int, error: bool) -> None:
        self.samples.append((ts_ms, latency_ms, error))
        cut = ts_ms - self.window_ms
        while self.samples and self.samples[0][0] < cut:
            self.samples.pop(0)

    @property
    def requests(self) -> int:
        return len(self.samples)

    @property
    def errors(self) -> int:
        return sum(1 for s in self.samples if s[2])


@dataclass(slots=True)
class CarryMemory:
    """What the engine remembers about one carry between evaluations."""

    margin_budget: Decimal  # USDT set aside for the perp leg (entry margin + top-ups - sweeps)
    level: MarginLevel = MarginLevel.OK
    naked_since_ms: int | None = None
    resets: int | None = None  # the carry's resets_count when the budget was set (None: unknown)


def carry_memory(pos: PositionRecord) -> CarryMemory:
    """A fresh memory for a carry (just opened or reset): its initial margin budget."""
    return CarryMemory(initial_margin_budget(pos), resets=pos.resets_count)


async def fetch_account(venue: TradingExchange, positions: Sequence[PositionRecord],
                        now_ms: int, health: Health | None = None) -> AccountState:
    """Read the venue's side of the account: 5 reads plus one per coin held in Earn."""
    started = time.perf_counter()
    try:
        trading, funding, perps, tickers, rates = await asyncio.gather(
            venue.balances("trading"), venue.balances("funding"), venue.positions(),
            venue.tickers(), venue.funding_rates())
        earn: dict[str, Decimal] = {}
        for pos in positions:
            if (pos.direction is Direction.SHORT
                    and pos.spot_earning_status is not SpotEarningStatus.NONE):
                earn[pos.symbol] = await venue.earn_balance(pos.symbol)
    except Exception:
        if health is not None:
            health.record(now_ms, int((time.perf_counter() - started) * 1000), True)
        raise
    if health is not None:
        health.record(now_ms, int((time.perf_counter() - started) * 1000), False)
    return AccountState(
        ts_ms=now_ms,
        trading={b.ccy: b for b in trading},
        funding={b.ccy: b for b in funding},
        positions={p.inst_id: p for p in perps if p.contracts != 0},
        earn={c: q for c, q in earn.items() if q > 0},
        prices=_spot_prices(tickers),
        funding_rates={r.inst_id: r for r in rates})


def _spot_prices(tickers: Iterable[Ticker]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for t in tickers:
        parts = t.inst_id.split("-")
        if len(parts) == 2 and parts[1] == USDT and t.last > 0:
            out[parts[0]] = t.last
    return out


def initial_margin_budget(pos: PositionRecord) -> Decimal:
    """The perp margin a carry committed at entry: its perp notional / leverage."""
    notional = pos.notional_usdt or pos.position_amount * pos.entry_swap_price
    return notional / (pos.leverage if pos.leverage > 0 else Decimal(1))


def coin_held(state: AccountState, pos: PositionRecord) -> Decimal:
    """The coin side of a carry: held + in Earn (SHORT) or owed (LONG), as a magnitude."""
    bal = state.trading.get(pos.symbol)
    if pos.direction is Direction.SHORT:
        return max(ZERO, (bal.total if bal else ZERO)) + state.earn.get(pos.symbol, ZERO)
    return bal.liability if bal else ZERO


def carry_view(pos: PositionRecord, state: AccountState, memory: CarryMemory,
               instruments: Mapping[str, Instrument]) -> CarryView | None:
    """The guards' view of one OPEN carry (None for a carry in another state or without a
    price: the guards are not asked about a carry execution is busy with)."""
    if pos.status is not PositionStatus.OPEN or pos.position_amount <= 0:
        return None
    perp = state.positions.get(pos.swap_inst_id)
    spot_px = state.price(pos.symbol)
    mark = perp.mark_px if perp is not None else spot_px
    if mark <= 0 or spot_px <= 0:
        return None
    perp_base = abs(perp.base_qty) if perp is not None else ZERO
    upl = perp.upl if perp is not None else ZERO
    spot_base = coin_held(state, pos)
    qty = pos.position_amount
    sign = Decimal(1) if pos.direction is Direction.SHORT else Decimal(-1)
    spot_pnl = sign * (spot_px - pos.entry_spot_price) * min(qty, spot_base)
    total_pnl = (spot_pnl + upl + pos.total_funding_fee
                 + pos.total_spot_earning_yield * spot_px
                 - pos.total_trade_fee - pos.total_borrow_interest * spot_px)
    rate = state.funding_rates.get(pos.swap_inst_id)
    spot_inst = instruments.get(pos.spot_inst_id)
    swap_inst = instruments.get(pos.swap_inst_id)
    step = max(spot_inst.base_step if spot_inst else ZERO,
               swap_inst.base_step if swap_inst else ZERO)
    capital = qty * pos.entry_spot_price + initial_margin_budget(pos)
    return CarryView(
        position_id=pos.id, symbol=pos.swap_inst_id, direction=pos.direction, base_qty=qty,
        spot_base=spot_base, perp_base=perp_base, spot_entry_px=pos.entry_spot_price,
        perp_entry_px=pos.entry_swap_price, mark_px=mark, index_px=spot_px,
        perp_notional_usdt=perp_base * mark, perp_equity_usdt=memory.margin_budget + upl,
        okx_mgn_ratio=perp.okx_mgn_ratio if perp else None,
        liq_px=perp.liq_px if perp else None, total_pnl_usdt=total_pnl,
        capital_usdt=capital if capital > 0 else Decimal(1),
        opened_ms=int(pos.open_timestamp.timestamp() * 1000),
        funding_rate=rate.rate if rate else None,
        funding_interval_hours=(rate.interval_hours if rate else
                                pos.funding_interval_hours or 8),
        earn_apr=pos.initial_spot_earning_rate or ZERO,
        borrow_apr=pos.initial_borrow_rate or ZERO,
        base_step=step, naked_since_ms=memory.naked_since_ms,
        last_margin_level=memory.level)


def with_mark(view: CarryView, perp: PerpPosition | None, mark: Decimal,
              budget: Decimal) -> CarryView:
    """``view`` re-priced at a pushed mark price (the fast path of the margin guard): the
    perp's unrealised PnL moves with the mark, nothing else is re-read."""
    if view.perp_base <= 0:
        return view
    entry = perp.avg_px if perp is not None else view.perp_entry_px
    sign = Decimal(-1) if view.direction is Direction.SHORT else Decimal(1)
    upl = sign * (mark - entry) * view.perp_base
    return replace(view, mark_px=mark, perp_notional_usdt=view.perp_base * mark,
                   perp_equity_usdt=budget + upl)


def account_view(state: AccountState, positions: Sequence[PositionRecord], *,
                 peak_equity: Decimal, realized_today: Decimal) -> AccountView:
    live = [p for p in positions if not p.status.is_final]
    held: set[str] = set()
    for p in live:
        held.update((p.symbol, p.swap_inst_id))
    committed = sum((p.position_amount * p.entry_spot_price + initial_margin_budget(p)
                     for p in live), ZERO)
    equity = state.equity_usdt
    return AccountView(
        trading_available_usdt=state.usdt_available("trading"),
        funding_available_usdt=state.usdt_available("funding"),
        total_equity_usdt=equity, peak_equity_usdt=max(peak_equity, equity),
        realized_pnl_today_usdt=realized_today, open_positions_count=len(live),
        held_symbols=frozenset(held), committed_capital_usdt=committed)


def depth_within(book: OrderBook | None, buy: bool, max_slippage: Decimal) -> Decimal:
    """Size the side a market order takes holds within ``max_slippage`` of the touch (in the
    book's units: coin for spot, contracts for swaps); 0 for a missing or empty book."""
    if book is None:
        return ZERO
    levels = book.asks if buy else book.bids
    if not levels:
        return ZERO
    touch = levels[0][0]
    limit = touch * (1 + max_slippage) if buy else touch * (1 - max_slippage)
    return sum((sz for px, sz in levels if (px <= limit if buy else px >= limit)), ZERO)


def entry_depth(opp: Opportunity, books: Mapping[str, OrderBook],
                instruments: Mapping[str, Instrument], max_slippage: Decimal) -> EntryDepth:
    """The entry books' depth (base currency) within the slippage limit, on the sides the
    entry takes: SHORT buys spot and sells the perp; LONG the mirror."""
    buy_spot = opp.direction is Direction.SHORT
    swap = instruments.get(opp.swap_inst_id)
    per_contract = swap.base_per_size() if swap is not None else Decimal(1)
    spot_book = books.get(opp.spot_inst_id) if opp.spot_inst_id else None
    return EntryDepth(
        spot_base=depth_within(spot_book, buy_spot, max_slippage),
        perp_base=depth_within(books.get(opp.swap_inst_id), not buy_spot, max_slippage)
        * per_contract)


def ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)
