"""OKX facts the adapter relies on: endpoint paths, documented rate limits and error codes.

Paths are what follows ``/api/v5/`` (ccxt's implicit-API ``path``); the rate-limit table is keyed
by them. Limits are OKX's documented ones (requests per window, per IP for public endpoints and
per user for private ones); an endpoint missing here gets :data:`DEFAULT_RATE_LIMIT`.
"""

from __future__ import annotations

from typing import Final

# ---------------------------------------------------------------------- endpoints used here
INSTRUMENTS: Final = "public/instruments"
SERVER_TIME: Final = "public/time"
FUNDING_RATE: Final = "public/funding-rate"
FUNDING_RATE_HISTORY: Final = "public/funding-rate-history"
OPEN_INTEREST: Final = "public/open-interest"
BOOKS: Final = "market/books"
TICKERS: Final = "market/tickers"
LENDING_RATE_SUMMARY: Final = "finance/savings/lending-rate-summary"
BALANCE: Final = "account/balance"
POSITIONS: Final = "account/positions"
ACCOUNT_CONFIG: Final = "account/config"
TRADE_FEE: Final = "account/trade-fee"
INTEREST_RATE: Final = "account/interest-rate"
MAX_LOAN: Final = "account/max-loan"
ASSET_BALANCES: Final = "asset/balances"
ACCOUNT_BILLS: Final = "account/bills"  # trading account, last 7 days
ASSET_BILLS: Final = "asset/bills"  # funding account
# write side (see ``execution``)
ORDER: Final = "trade/order"  # POST places one order, GET reads one
FILLS: Final = "trade/fills"  # fills of the last 3 days
CANCEL_ORDER: Final = "trade/cancel-order"
ORDERS_PENDING: Final = "trade/orders-pending"  # every resting order, newest first
ORDERS_PENDING_PAGE: Final = 100  # OKX answers at most 100 orders a page
SET_LEVERAGE: Final = "account/set-leverage"
LEVERAGE_INFO: Final = "account/leverage-info"
TRANSFER: Final = "asset/transfer"
TRANSFER_STATE: Final = "asset/transfer-state"
MARGIN_BALANCE: Final = "account/position/margin-balance"  # isolated margin in/out
SAVINGS_PURCHASE_REDEMPT: Final = "finance/savings/purchase-redempt"
SAVINGS_BALANCE: Final = "finance/savings/balance"
SPOT_MANUAL_BORROW_REPAY: Final = "account/spot-manual-borrow-repay"

# ---------------------------------------------------------------------- rate limits
# path -> (requests, window in seconds). From OKX's v5 API reference.
RATE_LIMITS: Final[dict[str, tuple[int, float]]] = {
    "public/time": (10, 2.0),
    "public/instruments": (20, 2.0),
    "public/funding-rate": (10, 2.0),
    "public/funding-rate-history": (10, 2.0),
    "public/mark-price": (10, 2.0),
    "public/open-interest": (20, 2.0),
    "market/books": (40, 2.0),
    "market/books-full": (10, 2.0),
    "market/ticker": (20, 2.0),
    "market/tickers": (20, 2.0),
    "market/trades": (100, 2.0),
    "finance/savings/lending-rate-summary": (6, 1.0),
    "finance/savings/lending-rate-history": (6, 1.0),
    "finance/savings/balance": (6, 1.0),
    "finance/savings/purchase-redempt": (6, 1.0),
    "account/balance": (10, 2.0),
    "account/positions": (10, 2.0),
    "account/config": (5, 2.0),
    "account/trade-fee": (5, 2.0),
    "account/interest-rate": (5, 2.0),
    "account/interest-accrued": (5, 2.0),
    "account/max-loan": (20, 2.0),
    "account/max-size": (20, 2.0),
    "account/max-avail-size": (20, 2.0),
    "account/set-leverage": (20, 2.0),
    "account/leverage-info": (20, 2.0),
    "account/bills": (5, 1.0),
    "account/bills-archive": (5, 2.0),
    "account/borrow-repay": (6, 1.0),
    "account/spot-manual-borrow-repay": (6, 1.0),
    "account/position/margin-balance": (20, 2.0),
    "asset/balances": (6, 1.0),
    "asset/currencies": (6, 1.0),
    "asset/transfer": (2, 1.0),
    "asset/transfer-state": (10, 1.0),
    "asset/bills": (6, 1.0),
    "trade/order": (60, 2.0),
    "trade/batch-orders": (300, 2.0),  # counted in orders, not requests
    "trade/cancel-order": (60, 2.0),
    "trade/cancel-batch-orders": (300, 2.0),
    "trade/amend-order": (60, 2.0),
    "trade/orders-pending": (60, 2.0),
    "trade/orders-history": (40, 2.0),
    "trade/fills": (60, 2.0),
    "trade/fills-history": (10, 2.0),
}
DEFAULT_RATE_LIMIT: Final = (5, 2.0)
MAX_CONCURRENCY_PER_ENDPOINT: Final = 8  # requests of one endpoint in flight at once

# ---------------------------------------------------------------------- error codes
# OKX codes whose meaning ccxt's exception class gets wrong or leaves generic.
RATE_LIMIT_CODES: Final = frozenset({"50011", "50061"})
PERMISSION_CODES: Final = frozenset({"50110", "50120", "50121"})
TRANSIENT_CODES: Final = frozenset({"50001", "50004", "50013", "50026", "50102"})
DUPLICATE_CL_ORD_ID_CODES: Final = frozenset({"51016"})  # clOrdId already used: look it up
# Not enough balance or margin (ccxt knows most of them; listed so none depends on ccxt).
INSUFFICIENT_FUNDS_CODES: Final = frozenset({
    "51008", "51119", "51127", "51131", "51502", "51720", "58350", "59200",
})
ORDER_NOT_FOUND_CODE: Final = "51603"  # GET trade/order: no such order
# cancel-order of an order that is already final (filled, canceled) or unknown
CANCEL_FINAL_CODES: Final = frozenset({"51400", "51401", "51402"})

# ---------------------------------------------------------------------- misc
HOUR_MS: Final = 3_600_000
MAX_BOOK_DEPTH: Final = 400  # market/books answers at most 400 levels per side
FUNDING_HISTORY_PAGE: Final = 100
BILLS_PAGE: Final = 100  # account/bills and asset/bills answer at most 100 rows per request
SETTLE_CCY: Final = "USDT"  # laicai trades USDT spot and USDT-margined linear swaps
TRADING_ACCOUNT: Final = "trading"
FUNDING_ACCOUNT: Final = "funding"
ACCOUNT_TYPES: Final = {TRADING_ACCOUNT: "18", FUNDING_ACCOUNT: "6"}  # asset/transfer from/to
# Simple Earn purchase: the minimum annual rate the coin may be lent at, set to the lowest OKX
# accepts (1%) so the coin is lent whenever anyone borrows it (interest is the market's rate,
# not this one); a higher floor would leave coin idle whenever the market rate is below it.
EARN_PURCHASE_RATE: Final = "0.01"
