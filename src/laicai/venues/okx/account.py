"""Account reads (signed): fee rates, borrow terms, balances, positions, account config."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from laicai.domain.account import AccountConfig, Balance, PerpPosition
from laicai.domain.market import BorrowTerms, FeeRates
from laicai.errors import ExchangeError
from laicai.venues.okx import parsing
from laicai.venues.okx.constants import (
    ACCOUNT_CONFIG,
    ASSET_BALANCES,
    BALANCE,
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
