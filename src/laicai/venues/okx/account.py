"""Account reads (signed): fee rates, borrow terms, balances, positions, account config,
bills."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from laicai.domain.account import AccountConfig, Balance, Bill, PerpPosition
from laicai.domain.market import BorrowTerms, FeeRates
from laicai.errors import ExchangeError
from laicai.venues.okx import parsing
from laicai.venues.okx.constants import (
    ACCOUNT_BILLS,
    ACCOUNT_CONFIG,
    ASSET_BALANCES,
    ASSET_BILLS,
    BALANCE,
    BILLS_PAGE,
    FUNDING_ACCOUNT,
    INTEREST_RATE,
    MAX_LOAN,
    POSITIONS,
    TRADE_FEE,
    TRADING_ACCOUNT,
)
from laicai.venues.okx.gateway import OkxGateway, gather_or_cancel
from laicai.venues.okx.providers import OkxInstrumentProvider
from laicai.venues.okx.types import Row

log = logging.getLogger(__name__)


class OkxAccountReads:
    def __init__(self, gateway: OkxGateway, instruments: OkxInstrumentProvider) -> None:
        self._gw = gateway
        self._instruments = instruments

    async def _one(self, path: str, params: dict[str, str] | None, what: str) -> Row:
        rows = await self._gw.rows(path, params, private=True, what=what)
        if not rows:
            raise ExchangeError(f"{what}: OKX answered no data")
        return rows[0]

    async def fee_rates(self) -> FeeRates:
        """The account's own maker/taker rates for spot and USDT swaps, as positive costs."""
        spot, swap = await gather_or_cancel(
            self._one(TRADE_FEE, {"instType": "SPOT"}, "trade fee SPOT"),
            self._one(TRADE_FEE, {"instType": "SWAP", "instFamily": "BTC-USDT"},
                      "trade fee SWAP"),
        )
        return parsing.fee_rates(spot, swap)

    async def borrow_terms(self, ccys: Sequence[str]) -> list[BorrowTerms]:
        """Hourly borrow rate and how much more can be borrowed now (cross, manual borrow),
        for each of ``ccys`` that OKX lends; the others are left out."""
        wanted = list(dict.fromkeys(c.upper() for c in ccys))
        if not wanted:
            return []
        rate_params = {"ccy": wanted[0]} if len(wanted) == 1 else None
        rates, *loans = await gather_or_cancel(
            self._gw.rows(INTEREST_RATE, rate_params, private=True, what="interest rates"),
            *(self._gw.rows(MAX_LOAN, {"mgnMode": "cross", "ccy": c}, private=True,
                            what=f"max loan {c}") for c in wanted),
        )
        rate_by_ccy = {str(r.get("ccy")): r for r in rates}
        out = []
        for ccy, loan_rows in zip(wanted, loans, strict=True):
            rate = rate_by_ccy.get(ccy)
            if rate is None:
                log.info("OKX quotes no borrow rate for %s: left out", ccy)
                continue
            loan = next((r for r in loan_rows if r.get("ccy") == ccy), None)
            out.append(parsing.borrow_terms(ccy, rate, loan))
        return out

    async def balances(self, account: str = TRADING_ACCOUNT) -> list[Balance]:
        """Per-currency balances of the ``trading`` (unified) or ``funding`` account."""
        if account == TRADING_ACCOUNT:
            return parsing.trading_balances(await self._one(BALANCE, None, "trading balance"))
        if account == FUNDING_ACCOUNT:
            rows = await self._gw.rows(ASSET_BALANCES, private=True, what="funding balance")
            return [parsing.funding_balance(r) for r in rows]
        raise ValueError(f"account must be {TRADING_ACCOUNT!r} or {FUNDING_ACCOUNT!r}, "
                         f"got {account!r}")

    async def positions(self) -> list[PerpPosition]:
        """Open USDT-swap positions, with OKX's own ``mgnRatio`` and ``liqPx`` (others, e.g.
        a coin-margined swap opened by hand, are logged and left out)."""
        rows = await self._gw.rows(POSITIONS, {"instType": "SWAP"}, private=True,
                                   what="positions")
        out = []
        for row in rows:
            inst_id = str(row.get("instId", ""))
            if not parsing.is_usdt_swap(inst_id):
                log.warning("position in %s is not a USDT swap: not laicai's, left out", inst_id)
                continue
            inst = await self._instruments.get(inst_id)
            pos = parsing.position(row, inst.contract_value)
            if pos is not None:
                out.append(pos)
        return out

    async def account_config(self) -> AccountConfig:
        """Account level, position mode and what the API key may do."""
        return parsing.account_config(await self._one(ACCOUNT_CONFIG, None, "account config"))

    async def bills(self, account: str = TRADING_ACCOUNT, *, newer_than: str | None = None,
                    begin_ms: int | None = None, bill_type: str | None = None,
                    inst_id: str | None = None, ccy: str | None = None,
                    page_size: int = BILLS_PAGE) -> list[Bill]:
        """Every bill of ``account`` newer than bill id ``newer_than`` (and with ``ts`` not
        before ``begin_ms``) that passes the filters, oldest first.

        OKX answers newest first, at most 100 rows a request. Pages are walked backwards with
        ``after`` (= older than that id) from the newest bill until a page reaches
        ``newer_than`` or comes back short. ``before`` is not relied on: OKX does not say
        which of the rows newer than an id it returns first when there are more than a page.
        A bill booked while the pages are read is newer than the first page: the next call
        finds it."""
        if account == TRADING_ACCOUNT:
            path, parse = ACCOUNT_BILLS, parsing.bill
        elif account == FUNDING_ACCOUNT:
            if inst_id is not None:
                raise ValueError("funding-account bills have no instrument filter")
            path, parse = ASSET_BILLS, parsing.asset_bill
        else:
            raise ValueError(f"account must be {TRADING_ACCOUNT!r} or {FUNDING_ACCOUNT!r}, "
                             f"got {account!r}")
        if not 1 <= page_size <= BILLS_PAGE:
            raise ValueError(f"page_size must be within 1..{BILLS_PAGE}, got {page_size}")
        if newer_than is not None and not newer_than.isdigit():
            raise ValueError(f"newer_than must be a bill id, got {newer_than!r}")
        floor = int(newer_than) if newer_than is not None else None
        query = {"limit": str(page_size)}
        for key, value in (("type", bill_type), ("instId", inst_id), ("ccy", ccy),
                           ("begin", None if begin_ms is None else str(begin_ms))):
            if value is not None:
                query[key] = value
        what = f"{account} bills"
        found: dict[str, Bill] = {}
        after: int | None = None
        while True:
            params = dict(query) if after is None else {**query, "after": str(after)}
            page = [parse(row) for row in await self._gw.rows(path, params, private=True,
                                                              what=what)]
            done = len(page) < page_size
            for b in page:
                number = b.id_number
                if after is not None and number >= after:
                    raise ExchangeError(f"{what}: OKX answered bill {b.bill_id} to a request "
                                        f"for bills older than {after}")
                if floor is not None and number <= floor:
                    done = True
                    continue
                found[b.bill_id] = b
            if done:
                break
            after = min(b.id_number for b in page)
        return sorted(found.values(), key=lambda b: b.id_number)
