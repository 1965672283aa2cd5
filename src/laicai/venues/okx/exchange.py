"""``OkxExchange``: the :class:`laicai.venues.port.Exchange` port over OKX (or anything that
speaks OKX v5: its demo trading, ``laicai sim``).

Build it with :func:`laicai.venues.okx.factories.create_exchange`; it owns the process's one
ccxt client and closes it on :meth:`close` or on leaving ``async with``. Every method returns
domain values and raises only :mod:`laicai.errors` exceptions (transient ones already retried).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

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
from laicai.venues.okx.account import OkxAccountReads
from laicai.venues.okx.constants import MAX_BOOK_DEPTH, TRADING_ACCOUNT
from laicai.venues.okx.data import OkxMarketData
from laicai.venues.okx.gateway import OkxGateway
from laicai.venues.okx.providers import OkxInstrumentProvider
from laicai.venues.okx.types import OpenInterest

if TYPE_CHECKING:
    from laicai.venues.port import Exchange


class OkxExchange:
    """Market data and account reads of OKX as laicai domain values."""

    def __init__(self, gateway: OkxGateway) -> None:
        self.gateway = gateway
        self.instrument_provider = OkxInstrumentProvider(gateway)
        self.market_data = OkxMarketData(gateway)
        self.account = OkxAccountReads(gateway, self.instrument_provider)
        self._closed = False

    @property
    def client(self) -> Any:
        """The ccxt.pro client (for the execution half of the adapter; nothing above
        ``venues`` may touch it)."""
        return self.gateway.client

    # ------------------------------------------------------------------ lifecycle
    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self.gateway.close()

    async def __aenter__(self) -> OkxExchange:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    # ------------------------------------------------------------------ market data
    async def instruments(self) -> Sequence[Instrument]:
        return await self.instrument_provider.load()

    async def funding_rates(self) -> Sequence[FundingRate]:
        return await self.market_data.funding_rates()

    async def funding_history(self, inst_id: str, limit: int = 100
                              ) -> Sequence[FundingSettlement]:
        return await self.market_data.funding_history(inst_id, limit)

    async def order_book(self, inst_id: str, depth: int = MAX_BOOK_DEPTH) -> OrderBook:
        return await self.market_data.order_book(inst_id, depth)

    async def order_books(self, inst_ids: Iterable[str], depth: int = MAX_BOOK_DEPTH
                          ) -> dict[str, OrderBook]:
        return await self.market_data.order_books(inst_ids, depth)

    async def tickers(self) -> Sequence[Ticker]:
        return await self.market_data.tickers()

    async def open_interest(self) -> Sequence[OpenInterest]:
        return await self.market_data.open_interest()

    async def earn_rates(self) -> Sequence[EarnRate]:
        return await self.market_data.earn_rates()

    async def watch_order_book(self, inst_id: str, depth: int = MAX_BOOK_DEPTH) -> OrderBook:
        return await self.market_data.watch_order_book(inst_id, depth)

    async def watch_funding_rate(self, inst_id: str) -> FundingRate:
        return await self.market_data.watch_funding_rate(inst_id)

    async def watch_ticker(self, inst_id: str) -> Ticker:
        return await self.market_data.watch_ticker(inst_id)

    # ------------------------------------------------------------------ account
    async def fee_rates(self) -> FeeRates:
        return await self.account.fee_rates()

    async def borrow_terms(self, ccys: Sequence[str]) -> Sequence[BorrowTerms]:
        return await self.account.borrow_terms(ccys)

    async def balances(self, account: str = TRADING_ACCOUNT) -> Sequence[Balance]:
        return await self.account.balances(account)

    async def positions(self) -> Sequence[PerpPosition]:
        return await self.account.positions()

    async def account_config(self) -> AccountConfig:
        return await self.account.account_config()


if TYPE_CHECKING:  # mypy proves OkxExchange implements the port

    def _implements_port(exchange: OkxExchange) -> Exchange:
        return exchange
