"""OKX v5 objects -> laicai domain values. Pure functions over OKX's raw rows (numbers as
strings, ``""`` for empty), so nothing passes through a float on the way to a Decimal.

A malformed field raises :class:`~laicai.errors.ExchangeError` naming the object and the field
(fail fast on corrupt data); rows laicai does not trade (other settle currencies, inverse
swaps) give ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from laicai.domain.account import AccountConfig, Balance, Bill, PerpPosition
from laicai.domain.enums import InstKind
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
from laicai.errors import ExchangeError
from laicai.venues.okx.constants import HOUR_MS, SETTLE_CCY
from laicai.venues.okx.types import OpenInterest, Row

ZERO = Decimal(0)


# ---------------------------------------------------------------------- fields
def _bad(what: str, key: str, value: object) -> ExchangeError:
    return ExchangeError(f"malformed OKX {what}: {key}={value!r}")


def dec(row: Row, key: str, what: str) -> Decimal:
    """A required decimal field."""
    value = row.get(key)
    if not isinstance(value, str | int) or value == "":
        raise _bad(what, key, value)
    try:
        out = Decimal(value)
    except InvalidOperation:
        raise _bad(what, key, value) from None
    if not out.is_finite():
        raise _bad(what, key, value)
    return out


def opt_dec(row: Row, key: str, what: str) -> Decimal | None:
    """An optional decimal field: ``None`` when absent or ``""``."""
    if row.get(key) in (None, ""):
        return None
    return dec(row, key, what)


def dec_or_zero(row: Row, key: str, what: str) -> Decimal:
    found = opt_dec(row, key, what)
    return ZERO if found is None else found


def first_dec(row: Row, keys: Sequence[str], what: str) -> Decimal:
    """The first of ``keys`` that holds a number."""
    for key in keys:
        found = opt_dec(row, key, what)
        if found is not None:
            return found
    raise _bad(what, "|".join(keys), None)


def ms(row: Row, key: str, what: str) -> int:
    value = row.get(key)
    if isinstance(value, int):
        return value
    if not isinstance(value, str) or not value.isdigit():
        raise _bad(what, key, value)
    return int(value)


def text(row: Row, key: str, what: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value:
        raise _bad(what, key, value)
    return value


def is_usdt_swap(inst_id: str) -> bool:
    return inst_id.endswith(f"-{SETTLE_CCY}-SWAP")


# ---------------------------------------------------------------------- instruments
def instrument(row: Row) -> Instrument | None:
    """``public/instruments`` row -> Instrument for USDT spot and USDT-margined linear swaps."""
    what = "instrument"
    inst_type = row.get("instType")
    inst_id = text(row, "instId", what)
    if inst_type == "SPOT":
        if row.get("quoteCcy") != SETTLE_CCY:
            return None
        kind, base, quote = InstKind.SPOT, text(row, "baseCcy", what), SETTLE_CCY
        contract_value = Decimal(1)
    elif inst_type == "SWAP":
        if row.get("ctType") != "linear" or row.get("settleCcy") != SETTLE_CCY:
            return None
        kind, quote = InstKind.SWAP, SETTLE_CCY
        base = str(row.get("ctValCcy") or "") or inst_id.split("-")[0]
        mult = opt_dec(row, "ctMult", what) or Decimal(1)
        contract_value = dec(row, "ctVal", what) * mult
    else:
        return None
    lever = opt_dec(row, "lever", what)
    return Instrument(
        inst_id=inst_id,
        kind=kind,
        base=base,
        quote=quote,
        tick_size=dec(row, "tickSz", what),
        lot_size=dec(row, "lotSz", what),
        min_size=dec(row, "minSz", what),
        contract_value=contract_value,
        max_leverage=int(lever) if lever is not None and lever >= 1 else 1,
        live=row.get("state") == "live",
    )


# ---------------------------------------------------------------------- funding
def funding_rate(row: Row) -> FundingRate:
    """``public/funding-rate`` row (or the ``funding-rate`` WebSocket push).

    ``fundingTime`` is when the current rate settles, ``nextFundingTime`` the settlement after
    it: their distance is the swap's interval, read, never assumed.
    """
    what = "funding rate"
    inst_id = text(row, "instId", what)
    funding_ms = ms(row, "fundingTime", what)
    next_ms = ms(row, "nextFundingTime", what)
    gap_ms = next_ms - funding_ms
    if gap_ms <= 0 or gap_ms % HOUR_MS:
        raise _bad(what, "nextFundingTime-fundingTime", f"{inst_id}: {gap_ms} ms")
    return FundingRate(
        inst_id=inst_id,
        rate=dec(row, "fundingRate", what),
        next_funding_ms=funding_ms,
        interval_hours=gap_ms // HOUR_MS,
        ts_ms=ms(row, "ts", what),
    )


def funding_settlement(row: Row) -> FundingSettlement:
    """``public/funding-rate-history`` row: the rate actually settled (``realizedRate``)."""
    what = "funding history"
    rate = opt_dec(row, "realizedRate", what)
    return FundingSettlement(
        inst_id=text(row, "instId", what),
        rate=rate if rate is not None else dec(row, "fundingRate", what),
        ts_ms=ms(row, "fundingTime", what),
    )


# ---------------------------------------------------------------------- market
def _levels(raw: object, key: str, what: str) -> tuple[tuple[Decimal, Decimal], ...]:
    if not isinstance(raw, list):
        raise _bad(what, key, raw)
    out = []
    for level in raw:
        if not isinstance(level, list | tuple) or len(level) < 2:
            raise _bad(what, key, level)
        try:
            out.append((Decimal(level[0]), Decimal(level[1])))
        except (InvalidOperation, TypeError):
            raise _bad(what, key, level) from None
    return tuple(out)


def order_book(inst_id: str, row: Row) -> OrderBook:
    """``market/books`` row: levels ``[px, sz, "0", orders]``, best first."""
    what = f"order book of {inst_id}"
    return OrderBook(
        inst_id=inst_id,
        bids=_levels(row.get("bids"), "bids", what),
        asks=_levels(row.get("asks"), "asks", what),
        ts_ms=ms(row, "ts", what),
    )


def _float_dec(x: object) -> Decimal:
    # repr of a float parsed from OKX's decimal string gives that string back (<= 15 digits)
    return Decimal(repr(x)) if isinstance(x, float) else Decimal(str(x))


def order_book_from_ccxt(inst_id: str, book: Mapping[str, Any], depth: int) -> OrderBook:
    """A ccxt.pro order book (float levels, kept by ccxt from the WebSocket diffs)."""
    def side(levels: Iterable[Sequence[Any]]) -> tuple[tuple[Decimal, Decimal], ...]:
        return tuple((_float_dec(lv[0]), _float_dec(lv[1])) for lv in list(levels)[:depth])

    ts = book.get("timestamp")
    return OrderBook(inst_id=inst_id, bids=side(book.get("bids") or []),
                     asks=side(book.get("asks") or []), ts_ms=int(ts) if ts else 0)


def ticker(row: Row) -> Ticker | None:
    """``market/tickers`` row (or the ``tickers`` push) of a USDT spot or USDT swap.

    OKX's ``volCcy24h`` is in quote currency for spot but in *base* currency for derivatives,
    so a swap's quote volume is ``volCcy24h`` x ``last``.
    """
    what = "ticker"
    inst_id = text(row, "instId", what)
    is_swap = row.get("instType") == "SWAP" or inst_id.endswith("-SWAP")
    if is_swap and not is_usdt_swap(inst_id):
        return None
    if not is_swap and not inst_id.endswith(f"-{SETTLE_CCY}"):
        return None
    last = dec(row, "last", what)
    vol_ccy = dec_or_zero(row, "volCcy24h", what)
    return Ticker(
        inst_id=inst_id,
        last=last,
        bid=opt_dec(row, "bidPx", what),
        ask=opt_dec(row, "askPx", what),
        volume_24h_quote=vol_ccy * last if is_swap else vol_ccy,
        ts_ms=ms(row, "ts", what),
    )


def open_interest(row: Row) -> OpenInterest:
    what = "open interest"
    return OpenInterest(
        inst_id=text(row, "instId", what),
        contracts=dec(row, "oi", what),
        base_qty=dec(row, "oiCcy", what),
        notional_usd=dec_or_zero(row, "oiUsd", what),
        ts_ms=ms(row, "ts", what),
    )


def earn_rate(row: Row) -> EarnRate:
    """``finance/savings/lending-rate-summary`` row: the estimated APR of the next period."""
    what = "lending rate summary"
    return EarnRate(ccy=text(row, "ccy", what),
                    apr=first_dec(row, ("estRate", "avgRate", "preRate"), what))


# ---------------------------------------------------------------------- account
def _fee(row: Row, keys: Sequence[str], group_key: str, what: str) -> Decimal:
    for key in keys:
        found = opt_dec(row, key, what)
        if found is not None:
            return found
    groups = row.get("feeGroup")
    if isinstance(groups, list) and groups and isinstance(groups[0], Mapping):
        return dec(groups[0], group_key, what)
    raise _bad(what, "|".join(keys), None)


def fee_rates(spot: Row, swap: Row) -> FeeRates:
    """``account/trade-fee`` rows of SPOT and SWAP. OKX signs fees from the user's side
    (negative = charged, positive = rebate); laicai's are costs, so the sign flips. A USDT swap's
    rates are ``makerU``/``takerU``; newer spot answers carry them in ``feeGroup``."""
    return FeeRates(
        spot_maker=-_fee(spot, ("maker",), "maker", "SPOT trade fee"),
        spot_taker=-_fee(spot, ("taker",), "taker", "SPOT trade fee"),
        swap_maker=-_fee(swap, ("makerU", "maker"), "maker", "SWAP trade fee"),
        swap_taker=-_fee(swap, ("takerU", "taker"), "taker", "SWAP trade fee"),
    )


def borrow_terms(ccy: str, hourly_rate_row: Row, max_loan_row: Row | None) -> BorrowTerms:
    """``account/interest-rate`` (hourly rate) and ``account/max-loan`` rows of ``ccy``."""
    return BorrowTerms(
        ccy=ccy,
        hourly_rate=dec(hourly_rate_row, "interestRate", "interest rate"),
        available=ZERO if max_loan_row is None else dec_or_zero(max_loan_row, "maxLoan",
                                                                "max loan"),
    )


def trading_balances(row: Row) -> list[Balance]:
    """``account/balance``: one Balance per currency of the trading account. ``total`` is the
    equity (cash - liability + unrealised PnL), ``available`` what orders can still use."""
    what = "trading balance"
    details = row.get("details")
    if not isinstance(details, list):
        raise _bad(what, "details", details)
    out = []
    for d in details:
        liab = opt_dec(d, "liab", what)
        out.append(Balance(
            ccy=text(d, "ccy", what),
            total=dec(d, "eq", what),
            available=first_dec(d, ("availBal", "availEq", "cashBal"), what),
            liability=abs(liab if liab is not None else dec_or_zero(d, "crossLiab", what)),
        ))
    return out


def funding_balance(row: Row) -> Balance:
    """``asset/balances`` row (funding account)."""
    what = "funding balance"
    return Balance(ccy=text(row, "ccy", what), total=dec(row, "bal", what),
                   available=first_dec(row, ("availBal", "bal"), what))


def position(row: Row, contract_value: Decimal) -> PerpPosition | None:
    """``account/positions`` row of a swap; ``None`` for a flat one. Contracts are signed
    (net mode signs ``pos``; long/short mode signs by ``posSide``)."""
    what = "position"
    inst_id = text(row, "instId", what)
    pos = dec(row, "pos", what)
    if pos == 0:
        return None
    side = row.get("posSide")
    contracts = abs(pos) if side == "long" else -abs(pos) if side == "short" else pos
    return PerpPosition(
        inst_id=inst_id,
        contracts=contracts,
        base_qty=contracts * contract_value,
        avg_px=dec(row, "avgPx", what),
        mark_px=dec(row, "markPx", what),
        leverage=dec_or_zero(row, "lever", what),
        margin_mode=text(row, "mgnMode", what),
        upl=dec_or_zero(row, "upl", what),
        okx_mgn_ratio=opt_dec(row, "mgnRatio", what),
        liq_px=opt_dec(row, "liqPx", what),
        notional_usdt=abs(dec_or_zero(row, "notionalUsd", what)),
    )


def account_config(row: Row) -> AccountConfig:
    """``account/config``: account level, position mode and the key's permissions."""
    what = "account config"
    level = text(row, "acctLv", what)
    if not level.isdigit():
        raise _bad(what, "acctLv", level)
    perm = row.get("perm")
    return AccountConfig(
        account_level=int(level),
        position_mode=text(row, "posMode", what),
        permissions=frozenset(p.strip() for p in str(perm or "").split(",") if p.strip()),
        uid=str(row.get("uid") or ""),
    )


def mark_price(row: Row) -> MarkPrice:
    """A ``mark-price`` channel row: ``{"instId", "instType", "markPx", "ts"}``."""
    inst_id = str(row.get("instId", ""))
    return MarkPrice(inst_id, dec(row, "markPx", f"mark price of {inst_id}"),
                     int(row.get("ts") or 0))


# ---------------------------------------------------------------------- bills
def _bill_id(row: Row, what: str) -> str:
    bill_id = text(row, "billId", what)
    if not bill_id.isdigit():  # paging and the bookkeeping cursor compare ids as numbers
        raise _bad(what, "billId", bill_id)
    return bill_id


def bill(row: Row) -> Bill:
    """An ``account/bills`` row (trading account). OKX's ``fee`` is negative when charged;
    the Bill's is positive when paid."""
    what = "bill"
    return Bill(
        bill_id=_bill_id(row, what),
        account="trading",
        ccy=text(row, "ccy", what),
        type=text(row, "type", what),
        sub_type=str(row.get("subType") or ""),
        bal_chg=dec(row, "balChg", what),
        ts_ms=ms(row, "ts", what),
        inst_id=str(row.get("instId") or ""),
        inst_type=str(row.get("instType") or ""),
        pnl=dec_or_zero(row, "pnl", what),
        fee=-dec_or_zero(row, "fee", what),
        interest=dec_or_zero(row, "interest", what),
        sz=dec_or_zero(row, "sz", what),
        px=opt_dec(row, "px", what),
        venue_order_id=str(row.get("ordId") or ""),
        client_order_id=str(row.get("clOrdId") or ""),
        trade_id="" if row.get("tradeId") in (None, "", "0") else str(row["tradeId"]),
        fill_idx_px=opt_dec(row, "fillIdxPx", what),
        fill_mark_px=opt_dec(row, "fillMarkPx", what),
        notes=str(row.get("notes") or ""),
    )


def asset_bill(row: Row) -> Bill:
    """An ``asset/bills`` row (funding account): id, currency, type, change, time."""
    what = "asset bill"
    return Bill(
        bill_id=_bill_id(row, what),
        account="funding",
        ccy=text(row, "ccy", what),
        type=text(row, "type", what),
        sub_type="",
        bal_chg=dec(row, "balChg", what),
        ts_ms=ms(row, "ts", what),
        notes=str(row.get("notes") or ""),
    )
