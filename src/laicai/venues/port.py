"""The Exchange port: everything above ``venues`` talks to a venue only through this.

Adapters translate the venue's shapes into :mod:`laicai.domain` values at the edge and raise
only :mod:`laicai.errors` exceptions (``TransientExchangeError`` may be retried).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Protocol

from laicai.domain.account import AccountConfig, Balance, Bill, PerpPosition
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
from laicai.domain.orders import OrderRequest, OrderState, Trade


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

    async def bills(self, account: str = "trading", *, newer_than: str | None = None,
                    begin_ms: int | None = None, bill_type: str | None = None,
                    inst_id: str | None = None, ccy: str | None = None) -> Sequence[Bill]:
        """Every bill of the ``trading`` (``account/bills``, 7 days) or ``funding``
        (``asset/bills``) account newer than the bill id ``newer_than`` and not before
        ``begin_ms``, filtered by type, instrument (trading only) and currency; oldest first.
        The adapter pages through as many requests as it takes."""
        ...


class Exchange(MarketData, AccountReads, Protocol):
    """A venue laicai can read (and, from the execution issue on, trade)."""

    async def close(self) -> None: ...


class Trading(Protocol):
    """The write side: orders, leverage, transfers, Simple Earn, margin loans.

    ``place_order`` either returns the venue's state of the order, raises ``OrderRejected`` /
    ``InsufficientFunds`` when the venue refused it (nothing happened), or raises
    ``OutcomeUnknown`` when the request may or may not have reached the venue: the caller must
    then look the order up by its client order id and never send a second order blindly.
    """

    async def place_order(self, request: OrderRequest) -> OrderState: ...

    async def get_order(self, inst_id: str, client_order_id: str) -> OrderState | None:
        """The order by our id, or None if the venue never accepted it."""
        ...

    async def cancel_order(self, inst_id: str, client_order_id: str) -> OrderState: ...

    async def cancel_venue_order(self, inst_id: str, venue_order_id: str) -> None:
        """Cancel by the venue's order id (an order may have no client id of ours, e.g. one
        placed by hand). An order that is already final is not an error."""
        ...

    async def order_trades(self, inst_id: str, venue_order_id: str) -> Sequence[Trade]:
        """The fills of one order (recent: OKX keeps 3 days here)."""
        ...

    async def open_orders(self) -> Sequence[OrderState]:
        """Every order of the account still resting on the venue (any instrument)."""
        ...

    async def set_leverage(self, inst_id: str, leverage: int, margin_mode: str = "cross"
                           ) -> None: ...

    async def transfer(self, ccy: str, amount: Decimal, from_account: str, to_account: str,
                       client_id: str | None = None) -> None:
        """Move ``amount`` between the "trading" and "funding" accounts. ``client_id`` (1-32
        letters and digits; generated when None) is what :meth:`transfer_state` is asked
        about when the answer is lost."""
        ...

    async def transfer_state(self, client_id: str) -> str | None:
        """``success``, ``pending`` or ``failed`` for the transfer sent with ``client_id``;
        None when the venue does not know it (not arrived, or never sent)."""
        ...

    async def transferable(self, ccy: str) -> Decimal:
        """What of ``ccy`` may leave the trading account now: its free cash less what it
        owes, and for the margin currency no more than the margin requirements can spare."""
        ...

    async def adjust_margin(self, inst_id: str, amount: Decimal, add: bool) -> None:
        """Move USDT into (``add``) or out of an isolated perp position's margin."""
        ...

    async def earn_purchase(self, ccy: str, amount: Decimal) -> None: ...

    async def earn_redeem(self, ccy: str, amount: Decimal) -> None: ...

    async def earn_balance(self, ccy: str) -> Decimal:
        """Coin held in Simple Earn (principal plus interest, not counting redemptions)."""
        ...

    async def earn_balances(self) -> Mapping[str, Decimal]:
        """Every currency held in Simple Earn (as :meth:`earn_balance`), only those above 0."""
        ...

    async def borrow(self, ccy: str, amount: Decimal) -> None: ...

    async def repay(self, ccy: str, amount: Decimal) -> None: ...

    async def liability(self, ccy: str) -> Decimal:
        """Borrowed principal plus unpaid interest of ``ccy`` (0 when nothing is owed)."""
        ...


class TradingExchange(Exchange, Trading, Protocol):
    """A venue laicai reads and trades on."""
