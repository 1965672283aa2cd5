"""What the scanner sees in one cycle: market data and the account's room, as plain values.

The engine builds one from pushes and polls (live, paper) or from the simulated clock's state
(backtest). Order books are needed only for candidates that pass the cheap checks (funding
band, volume, lists): the engine may fetch both legs' books for those alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from laicai.domain.instrument import Instrument
from laicai.domain.market import BorrowTerms, EarnRate, FeeRates, FundingRate, OrderBook, Ticker


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketSnapshot:
    """Market data keyed by instrument id (books, tickers, funding) or currency (Earn, borrow).

    ``total_capital_usdt`` is the account equity in USDT, ``free_capital_usdt`` what is not
    committed yet. ``held_symbols`` names the open carries, by base currency (``"BTC"``) or by
    either leg's instrument id; ``open_positions_count`` counts them.
    """

    instruments: Mapping[str, Instrument]
    funding_rates: Mapping[str, FundingRate]
    order_books: Mapping[str, OrderBook]
    tickers: Mapping[str, Ticker]
    fee_rates: FeeRates
    earn_rates: Mapping[str, EarnRate] = field(default_factory=dict)
    borrow_terms: Mapping[str, BorrowTerms] = field(default_factory=dict)
    total_capital_usdt: Decimal = Decimal(0)
    free_capital_usdt: Decimal = Decimal(0)
    open_positions_count: int = 0
    held_symbols: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        *,
        instruments: Iterable[Instrument],
        funding_rates: Iterable[FundingRate],
        order_books: Iterable[OrderBook],
        tickers: Iterable[Ticker],
        fee_rates: FeeRates,
        earn_rates: Iterable[EarnRate] = (),
        borrow_terms: Iterable[BorrowTerms] = (),
        total_capital_usdt: Decimal = Decimal(0),
        free_capital_usdt: Decimal = Decimal(0),
        open_positions_count: int = 0,
        held_symbols: Iterable[str] = (),
    ) -> MarketSnapshot:
        """Build from sequences as the Exchange port returns them."""
        return cls(
            instruments={i.inst_id: i for i in instruments},
            funding_rates={f.inst_id: f for f in funding_rates},
            order_books={b.inst_id: b for b in order_books},
            tickers={t.inst_id: t for t in tickers},
            fee_rates=fee_rates,
            earn_rates={e.ccy: e for e in earn_rates},
            borrow_terms={b.ccy: b for b in borrow_terms},
            total_capital_usdt=total_capital_usdt,
            free_capital_usdt=free_capital_usdt,
            open_positions_count=open_positions_count,
            held_symbols=frozenset(held_symbols),
        )
