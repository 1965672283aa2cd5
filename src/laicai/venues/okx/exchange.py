"""``OkxExchange``: the :class:`laicai.venues.port.TradingExchange` port over OKX (or anything
that speaks OKX v5: its demo trading, ``laicai sim``): reads, and the write side of
:mod:`laicai.venues.okx.execution`.

Build it with :func:`laicai.venues.okx.factories.create_exchange`; it owns the process's one
ccxt client and closes it on :meth:`close` or on leaving ``async with``. Every method returns
domain values and raises only :mod:`laicai.errors` exceptions (transient ones already retried).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any

from laicai.domain.account import AccountConfig, Balance, Bill, PerpPosition
from laicai.domain.instrument import Instrument
from laicai.domain.market import (
    BorrowTerms,
    EarnRate,
    FeeRates,
    FundingRate,
    FundingSettlement,
    MarkPrice,
    OrderBook,
    Ticker,
)
from laicai.domain.orders import OrderRequest, OrderState, Trade
from laicai.venues.okx.account import OkxAccountReads
from laicai.venues.okx.constants import BILLS_PAGE, MAX_BOOK_DEPTH, TRADING_ACCOUNT
from laicai.venues.okx.data import OkxMarketData
from laicai.venues.okx.execution import OkxExecution
from laicai.venues.okx.gateway import OkxGateway
from laicai.venues.okx.providers import OkxInstrumentProvider
from laicai.venues.okx.types import OpenInterest

if TYPE_CHECKING:
    from laicai.venues.port import Exchange, TradingExchange


class OkxExchange:
    """Market data, account reads and trading on OKX in laicai domain values."""

    def __init__(self, gateway: OkxGateway) -> None:
        self.gateway = gateway
        self.instrument_provider = OkxInstrumentProvider(gateway)
        self.market_data = OkxMarketData(gateway)
        self.account = OkxAccountReads(gateway, self.instrument_provider)
        self.execution = OkxExecution(gateway, self.instrument_provider)
        self._closed = False

    @property
    def client(self) -> Any:
        """The ccxt.pro client (nothing above ``venues`` may touch it)."""
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
    async def server_time_ms(self) -> int:
        return await self.market_data.server_time_ms()

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

    async def watch_mark_price(self, inst_id: str) -> MarkPrice:
        return await self.market_data.watch_mark_price(inst_id)

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

    async def bills(self, account: str = TRADING_ACCOUNT, *, newer_than: str | None = None,
                    begin_ms: int | None = None, bill_type: str | None = None,
                    inst_id: str | None = None, ccy: str | None = None,
                    page_size: int = BILLS_PAGE) -> list[Bill]:
        return await self.account.bills(account, newer_than=newer_than, begin_ms=begin_ms,
                                        bill_type=bill_type, inst_id=inst_id, ccy=ccy,
                                        page_size=page_size)

    # ------------------------------------------------------------------ trading
    async def place_order(self, request: OrderRequest) -> OrderState:
        return await self.execution.place_order(request)

    async def get_order(self, inst_id: str, client_order_id: str) -> OrderState | None:
        return await self.execution.get_order(inst_id, client_order_id)

    async def cancel_order(self, inst_id: str, client_order_id: str) -> OrderState:
        return await self.execution.cancel_order(inst_id, client_order_id)

    async def order_trades(self, inst_id: str, venue_order_id: str) -> list[Trade]:
        return await self.execution.order_trades(inst_id, venue_order_id)

    async def cancel_venue_order(self, inst_id: str, venue_order_id: str) -> None:
        await self.execution.cancel_venue_order(inst_id, venue_order_id)

    async def open_orders(self) -> list[OrderState]:
        return await self.execution.open_orders()

    async def set_leverage(self, inst_id: str, leverage: int, margin_mode: str = "cross"
                           ) -> None:
        await self.execution.set_leverage(inst_id, leverage, margin_mode)

    async def leverage(self, inst_id: str, margin_mode: str = "cross") -> int:
        return await self.execution.leverage(inst_id, margin_mode)

    async def transfer(self, ccy: str, amount: Decimal, from_account: str, to_account: str,
                       client_id: str | None = None) -> None:
        await self.execution.transfer(ccy, amount, from_account, to_account, client_id)

    async def transfer_state(self, client_id: str) -> str | None:
        return await self.execution.transfer_state(client_id)

    async def transferable(self, ccy: str) -> Decimal:
        return await self.execution.transferable(ccy)

    async def adjust_margin(self, inst_id: str, amount: Decimal, add: bool) -> None:
        await self.execution.adjust_margin(inst_id, amount, add)

    async def earn_purchase(self, ccy: str, amount: Decimal) -> None:
        await self.execution.earn_purchase(ccy, amount)

    async def earn_redeem(self, ccy: str, amount: Decimal) -> None:
        await self.execution.earn_redeem(ccy, amount)

    async def earn_balance(self, ccy: str) -> Decimal:
        return await self.execution.earn_balance(ccy)

    async def earn_balances(self) -> dict[str, Decimal]:
        return await self.execution.earn_balances()

    async def borrow(self, ccy: str, amount: Decimal) -> None:
        await self.execution.borrow(ccy, amount)

    async def repay(self, ccy: str, amount: Decimal) -> None:
        await self.execution.repay(ccy, amount)

    async def liability(self, ccy: str) -> Decimal:
        return await self.execution.liability(ccy)


if TYPE_CHECKING:  # mypy proves OkxExchange implements the ports

    def _implements_port(exchange: OkxExchange) -> Exchange:
        return exchange

    def _implements_trading_port(exchange: OkxExchange) -> TradingExchange:
        return exchange
