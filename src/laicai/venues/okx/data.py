"""Market data: funding, books, tickers, open interest and Earn rates over REST, and thin
ccxt.pro WebSocket watchers that return the same domain values.

A watcher follows ccxt.pro's semantics: the first call subscribes and returns the snapshot, each
later call waits for the next push (a book that does not change is not pushed again). A dropped
connection is a transient error: the retrier resubscribes and a fresh snapshot comes back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from laicai.domain.market import (
    EarnRate,
    FundingRate,
    FundingSettlement,
    MarkPrice,
    OrderBook,
    Ticker,
)
from laicai.errors import ExchangeError
from laicai.venues.okx import parsing
from laicai.venues.okx.constants import (
    BOOKS,
    FUNDING_HISTORY_PAGE,
    FUNDING_RATE,
    FUNDING_RATE_HISTORY,
    LENDING_RATE_SUMMARY,
    MAX_BOOK_DEPTH,
    OPEN_INTEREST,
    SERVER_TIME,
    SETTLE_CCY,
    TICKERS,
)
from laicai.venues.okx.gateway import OkxGateway, gather_or_cancel
from laicai.venues.okx.types import OpenInterest


def _check_depth(depth: int) -> None:
    if not 1 <= depth <= MAX_BOOK_DEPTH:
        raise ValueError(f"book depth must be 1..{MAX_BOOK_DEPTH}, got {depth}")


class OkxMarketData:
    def __init__(self, gateway: OkxGateway) -> None:
        self._gw = gateway

    # ------------------------------------------------------------------ time
    async def server_time_ms(self) -> int:
        """The venue's clock (``public/time``), in ms since the epoch."""
        rows = await self._gw.rows(SERVER_TIME, what="server time")
        if not rows:
            raise ExchangeError("server time: OKX answered no data")
        return parsing.ms(rows[0], "ts", "server time")

    # ------------------------------------------------------------------ funding
    async def funding_rates(self) -> list[FundingRate]:
        """Every USDT swap's current rate, next settlement and interval, in one request."""
        rows = await self._gw.rows(FUNDING_RATE, {"instId": "ANY"}, what="funding rates")
        return [parsing.funding_rate(r) for r in rows
                if parsing.is_usdt_swap(str(r.get("instId", "")))]

    async def funding_history(self, inst_id: str, limit: int = 100) -> list[FundingSettlement]:
        """The last ``limit`` settlements of ``inst_id``, oldest first (paged by 100)."""
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        out: list[FundingSettlement] = []
        older_than: int | None = None
        while len(out) < limit:
            want = min(FUNDING_HISTORY_PAGE, limit - len(out))
            params = {"instId": inst_id, "limit": str(want)}
            if older_than is not None:
                params["after"] = str(older_than)
            rows = await self._gw.rows(FUNDING_RATE_HISTORY, params,
                                       what=f"funding history {inst_id}")
            page = [parsing.funding_settlement(r) for r in rows]
            page = [s for s in page if older_than is None or s.ts_ms < older_than]
            if not page:
                break
            out.extend(page)
            older_than = min(s.ts_ms for s in page)
            if len(rows) < want:  # no older settlements
                break
        return sorted(out, key=lambda s: s.ts_ms)[-limit:]

    # ------------------------------------------------------------------ books
    async def order_book(self, inst_id: str, depth: int = MAX_BOOK_DEPTH) -> OrderBook:
        """L2 book of ``inst_id`` (swap sizes in contracts), up to ``depth`` levels a side."""
        _check_depth(depth)
        rows = await self._gw.rows(BOOKS, {"instId": inst_id, "sz": str(depth)},
                                   what=f"order book {inst_id}")
        if not rows:
            raise ExchangeError(f"order book {inst_id}: OKX answered no book")
        return parsing.order_book(inst_id, rows[0])

    async def order_books(self, inst_ids: Iterable[str], depth: int = MAX_BOOK_DEPTH
                          ) -> dict[str, OrderBook]:
        """Many books at once, as fast as ``market/books``' rate limit allows. The first error
        cancels the rest and is raised."""
        _check_depth(depth)
        ids = list(dict.fromkeys(inst_ids))
        books = await gather_or_cancel(*(self.order_book(i, depth) for i in ids))
        return dict(zip(ids, books, strict=True))

    # ------------------------------------------------------------------ tickers etc.
    async def tickers(self) -> list[Ticker]:
        """24 h tickers of every USDT spot and USDT swap (two requests)."""
        spot, swap = await gather_or_cancel(
            self._gw.rows(TICKERS, {"instType": "SPOT"}, what="tickers SPOT"),
            self._gw.rows(TICKERS, {"instType": "SWAP"}, what="tickers SWAP"),
        )
        return [t for t in map(parsing.ticker, [*spot, *swap]) if t is not None]

    async def open_interest(self) -> list[OpenInterest]:
        """Open interest of every USDT swap, in one request."""
        rows = await self._gw.rows(OPEN_INTEREST, {"instType": "SWAP"}, what="open interest")
        return [parsing.open_interest(r) for r in rows
                if parsing.is_usdt_swap(str(r.get("instId", "")))]

    async def earn_rates(self) -> list[EarnRate]:
        """Simple Earn estimated APR of every currency (a public endpoint)."""
        rows = await self._gw.rows(LENDING_RATE_SUMMARY, what="earn rates")
        return [parsing.earn_rate(r) for r in rows]

    # ------------------------------------------------------------------ WebSocket
    async def _symbol(self, inst_id: str) -> str:
        client = self._gw.client
        if client.markets is None:
            await self._gw.call("load markets", client.load_markets)
        markets = client.markets_by_id.get(inst_id) if client.markets_by_id else None
        if not markets:
            raise ExchangeError(f"OKX has no instrument {inst_id!r} among spot and swaps")
        return str(markets[0]["symbol"])

    async def watch_order_book(self, inst_id: str, depth: int = MAX_BOOK_DEPTH) -> OrderBook:
        """The next state of ``inst_id``'s book pushed on OKX's ``books`` channel (400 levels,
        cut to ``depth``). ccxt.pro keeps it in floats; levels come back as the exact Decimals
        of OKX's strings for up to 15 significant digits."""
        _check_depth(depth)
        symbol = await self._symbol(inst_id)
        client = self._gw.client
        book = await self._gw.call(f"watch order book {inst_id}",
                                   lambda: client.watch_order_book(symbol))
        return parsing.order_book_from_ccxt(inst_id, book, depth)

    async def watch_funding_rate(self, inst_id: str) -> FundingRate:
        """The next push of ``inst_id``'s ``funding-rate`` channel."""
        symbol = await self._symbol(inst_id)
        client = self._gw.client
        got = await self._gw.call(f"watch funding rate {inst_id}",
                                  lambda: client.watch_funding_rate(symbol))
        return parsing.funding_rate(got["info"])

    async def watch_mark_price(self, inst_id: str) -> MarkPrice:
        """The next push of ``inst_id``'s ``mark-price`` channel."""
        symbol = await self._symbol(inst_id)
        client = self._gw.client
        got = await self._gw.call(f"watch mark price {inst_id}",
                                  lambda: client.watch_mark_price(symbol))
        return parsing.mark_price(got["info"])

    async def watch_ticker(self, inst_id: str) -> Ticker:
        """The next push of ``inst_id``'s ``tickers`` channel."""
        symbol = await self._symbol(inst_id)
        client = self._gw.client
        got = await self._gw.call(f"watch ticker {inst_id}",
                                  lambda: client.watch_ticker(symbol))
        parsed = parsing.ticker(got["info"])
        if parsed is None:
            raise ExchangeError(f"watch ticker {inst_id}: not a USDT spot or USDT swap")
        return parsed


def inst_ids_of_pairs(bases: Sequence[str]) -> list[str]:
    """Both legs of each base coin: ``BTC`` -> ``BTC-USDT``, ``BTC-USDT-SWAP``."""
    return [leg for b in bases for leg in (f"{b}-{SETTLE_CCY}", f"{b}-{SETTLE_CCY}-SWAP")]
