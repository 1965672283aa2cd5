"""OKX's per-endpoint rate limits (requests per window, per API key or per IP for public).

A fixed table from OKX's documentation; exceeding it answers HTTP 429 with code 50011, which
ccxt raises as ``RateLimitExceeded``. Batch order endpoints count orders, not requests.
"""

from __future__ import annotations

from collections import deque

# endpoint (path after /api/v5/) -> (max count, window in ms)
LIMITS: dict[str, tuple[int, int]] = {
    "public/time": (10, 2000),
    "public/instruments": (20, 2000),
    "public/funding-rate": (10, 2000),
    "public/funding-rate-history": (10, 2000),
    "public/mark-price": (10, 2000),
    "public/open-interest": (20, 2000),
    "market/books": (40, 2000),
    "market/ticker": (20, 2000),
    "market/tickers": (20, 2000),
    "account/balance": (10, 2000),
    "account/positions": (10, 2000),
    "account/config": (5, 2000),
    "account/set-leverage": (20, 2000),
    "account/leverage-info": (20, 2000),
    "account/max-size": (20, 2000),
    "account/max-avail-size": (20, 2000),
    "account/trade-fee": (5, 2000),
    "account/bills": (5, 1000),
    "account/bills-archive": (5, 2000),
    "account/interest-rate": (5, 2000),
    "account/interest-accrued": (5, 2000),
    "account/borrow-repay": (6, 1000),
    "account/spot-manual-borrow-repay": (6, 1000),
    "account/position/margin-balance": (20, 2000),
    "trade/order": (60, 2000),
    "trade/batch-orders": (300, 2000),
    "trade/cancel-order": (60, 2000),
    "trade/cancel-batch-orders": (300, 2000),
    "trade/amend-order": (60, 2000),
    "trade/orders-pending": (60, 2000),
    "trade/orders-history": (40, 2000),
    "trade/fills": (60, 2000),
    "trade/fills-history": (10, 2000),
    "asset/transfer": (2, 1000),
    "asset/transfer-state": (10, 1000),
    "asset/balances": (6, 1000),
    "asset/bills": (6, 1000),
    "asset/currencies": (6, 1000),
    "finance/savings/purchase-redempt": (6, 1000),
    "finance/savings/balance": (6, 1000),
    "finance/savings/lending-rate-summary": (6, 1000),
    "finance/savings/lending-rate-history": (6, 1000),
}


class RateLimiter:
    """Sliding-window counters per (endpoint, identity)."""

    def __init__(self, limits: dict[str, tuple[int, int]] | None = None, scale: float = 1.0):
        self.limits = LIMITS if limits is None else limits
        self.scale = scale
        self._hits: dict[tuple[str, str], deque[int]] = {}

    def allow(self, endpoint: str, identity: str, now_ms: int, cost: int = 1) -> bool:
        limit = self.limits.get(endpoint)
        if limit is None:
            return True
        count, window = limit
        count = max(1, int(count * self.scale))
        q = self._hits.setdefault((endpoint, identity), deque())
        while q and q[0] <= now_ms - window:
            q.popleft()
        if len(q) + cost > count:
            return False
        q.extend([now_ms] * cost)
        return True
