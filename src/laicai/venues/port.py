"""The Exchange port: everything above ``venues`` talks to a venue only through this.

Adapters translate the venue's shapes into :mod:`laicai.domain` values at the edge and raise
only :mod:`laicai.errors` exceptions (``TransientExchangeError`` may be retried).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from laicai.domain.account import AccountConfig, Balance, PerpPosition
from laicai.domain.instrument import Instrument
from laicai.domain.market import (
    BorrowTerms,
    EarnRate,
    FeeRates,
    FundingRate,
    FundingSettlement,
    OrderBook,
    Ticker,
)


class MarketData(Protocol):
    async def instruments(self) -> Sequence[Instrument]: ...

    async def funding_rates(self) -> Sequence[FundingRate]:
        """Every swap's current funding, in one call where the venue allows."""
        ...

    async def funding_history(self, inst_id: str, limit: int = 100
                              ) -> Sequence[FundingSettlement]: ...

    async def order_book(self, inst_id: str, depth: int = 400) -> OrderBook: ...

    async def tickers(self) -> Sequence[Ticker]: ...

    async def earn_rates(self) -> Sequence[EarnRate]: ...


class AccountReads(Protocol):
    async def fee_rates(self) -> FeeRates: ...

    async def borrow_terms(self, ccys: Sequence[str]) -> Sequence[BorrowTerms]: ...

    async def balances(self, account: str = "trading") -> Sequence[Balance]: ...

    async def positions(self) -> Sequence[PerpPosition]: ...

    async def account_config(self) -> AccountConfig: ...


class Exchange(MarketData, AccountReads, Protocol):
    """A venue laicai can read (and, from the execution issue on, trade)."""

    async def close(self) -> None: ...
