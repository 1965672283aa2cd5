"""Small builders for the strategy tests: instruments, ladders, books and whole snapshots.

(They live beside the tests rather than in ``laicai.testing`` because only these tests use
them so far.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from laicai.domain.enums import InstKind
from laicai.domain.instrument import Instrument
from laicai.domain.market import (
    BorrowTerms,
    EarnRate,
    FeeRates,
    FundingRate,
    OrderBook,
    Ticker,
)
from laicai.strategy import MarketSnapshot, ScanParams

D = Decimal
NOW_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
EIGHT_HOURS_MS = 8 * 3_600_000
FEES = FeeRates(spot_maker=D("0.0008"), spot_taker=D("0.001"),
                swap_maker=D("0.0002"), swap_taker=D("0.0005"))
Levels = tuple[tuple[Decimal, Decimal], ...]


def spot_instrument(base: str = "BTC", *, lot: str = "0.00000001", min_size: str = "0.00001",
                    live: bool = True) -> Instrument:
    return Instrument(inst_id=f"{base}-USDT", kind=InstKind.SPOT, base=base, quote="USDT",
                      tick_size=D("0.1"), lot_size=D(lot), min_size=D(min_size), live=live)


def swap_instrument(base: str = "BTC", *, ct_val: str = "0.01", lot: str = "0.01",
                    min_size: str = "0.01", live: bool = True) -> Instrument:
    return Instrument(inst_id=f"{base}-USDT-SWAP", kind=InstKind.SWAP, base=base, quote="USDT",
                      tick_size=D("0.1"), lot_size=D(lot), min_size=D(min_size),
                      contract_value=D(ct_val), max_leverage=50, live=live)


def ladder(best: Decimal, tick: Decimal, sizes: Sequence[Decimal], *, ask: bool) -> Levels:
    """Levels best first: asks climb by ``tick``, bids fall by it."""
    sign = 1 if ask else -1
    return tuple((best + sign * i * tick, size) for i, size in enumerate(sizes))


@dataclass
class Market:
    """One base currency: spot + swap, their books, tickers and funding. Book sizes are in
    order units (contracts for the swap)."""

    base: str = "BTC"
    rate: Decimal = Decimal("0.0001")
    interval_hours: int = 8
    spot_bid: Decimal = Decimal(59990)
    spot_ask: Decimal = Decimal(60010)
    perp_bid: Decimal = Decimal(60020)
    perp_ask: Decimal = Decimal(60040)
    tick: Decimal = Decimal(1)
    spot_sizes: Sequence[Decimal] = (Decimal(1000),)  # per level, both sides
    perp_sizes: Sequence[Decimal] = (Decimal(100000),)
    volume: Decimal = Decimal(100_000_000)
    spot_volume: Decimal | None = None
    spot: Instrument | None = None
    swap: Instrument | None = None
    has_spot: bool = True
    ts_ms: int = NOW_MS
    extra: dict[str, Any] = field(default_factory=dict)

    def instruments(self) -> list[Instrument]:
        swap = self.swap or swap_instrument(self.base)
        spot = self.spot or spot_instrument(self.base)
        return [swap, spot] if self.has_spot else [swap]

    @property
    def swap_id(self) -> str:
        return (self.swap or swap_instrument(self.base)).inst_id

    @property
    def spot_id(self) -> str:
        return (self.spot or spot_instrument(self.base)).inst_id

    def books(self) -> list[OrderBook]:
        out = [OrderBook(self.swap_id,
                         ladder(self.perp_bid, self.tick, self.perp_sizes, ask=False),
                         ladder(self.perp_ask, self.tick, self.perp_sizes, ask=True),
                         self.ts_ms)]
        if self.has_spot:
            out.append(OrderBook(self.spot_id,
                                 ladder(self.spot_bid, self.tick, self.spot_sizes, ask=False),
                                 ladder(self.spot_ask, self.tick, self.spot_sizes, ask=True),
                                 self.ts_ms))
        return out

    def tickers(self) -> list[Ticker]:
        out = [Ticker(self.swap_id, self.perp_bid, self.perp_bid, self.perp_ask, self.volume,
                      self.ts_ms)]
        if self.has_spot:
            vol = self.volume if self.spot_volume is None else self.spot_volume
            out.append(Ticker(self.spot_id, self.spot_bid, self.spot_bid, self.spot_ask, vol,
                              self.ts_ms))
        return out

    def funding(self) -> FundingRate:
        return FundingRate(self.swap_id, self.rate, NOW_MS + EIGHT_HOURS_MS // 2,
                           self.interval_hours, self.ts_ms)


def snapshot(*markets: Market, fees: FeeRates = FEES, total: Decimal = Decimal(100_000),
             free: Decimal | None = None, open_count: int = 0, held: Sequence[str] = (),
             earn: Sequence[EarnRate] = (), borrow: Sequence[BorrowTerms] = (),
             skip_books: Sequence[str] = ()) -> MarketSnapshot:
    markets = markets or (Market(),)
    return MarketSnapshot.of(
        instruments=[i for m in markets for i in m.instruments()],
        funding_rates=[m.funding() for m in markets],
        order_books=[b for m in markets for b in m.books() if b.inst_id not in skip_books],
        tickers=[t for m in markets for t in m.tickers()],
        fee_rates=fees,
        earn_rates=earn,
        borrow_terms=borrow,
        total_capital_usdt=total,
        free_capital_usdt=total if free is None else free,
        open_positions_count=open_count,
        held_symbols=held,
    )


def params(**overrides: Any) -> ScanParams:
    """Test defaults: a 30-day holding and a 5% threshold, so plain BTC carries pass."""
    values: dict[str, Any] = {
        "min_annualized_return": D("0.05"),
        "expected_holding_days": D(30),
        "max_position_value": D(6000),
    }
    values.update(overrides)
    return ScanParams(**values)
