"""Book what the exchange booked: funding settlements, Simple Earn interest and margin
interest come from the venue's own bills, de-duplicated by bill id, attributed to the carry
they belong to, never estimated.

One call of :func:`book_bills` reads every bill newer than the stored cursor (bot state
``bills_cursor``: the newest bill id seen per account), books the ones laicai keeps (each
exactly once: the store's bill tables are unique on the bill id, so a restart or an overlapping
read books nothing twice), then moves the cursor. The cursor only moves after everything read
was booked: a crash in between reads the same bills again, and they are duplicates.

Attribution: a funding bill (trading ``type`` 8) goes to the carry whose swap is the bill's
instrument and whose open..close window holds the bill's time; Earn interest (funding-account
bills of :data:`~laicai.domain.account.ASSET_BILL_EARN_INTEREST`) to the SHORT carry of that
coin, margin interest (``type`` 7), borrows (16) and repayments (22) to the LONG carry of that
coin, each in its window. A bill no carry owns is booked with no position (it is still the
account's money), and counted in the report. Every carry not closed is looked up in the store;
pass the carries closed since the last call as ``positions`` (the engine does, at each close).
Liquidation bills (type 5) are not booked to a carry: they are reported, for an alert.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from laicai.domain.account import (
    ASSET_BILL_EARN_INTEREST,
    BILL_BORROW,
    BILL_FUNDING,
    BILL_INTEREST,
    BILL_LIQUIDATION,
    BILL_REPAY,
    BILL_TRADE,
    Bill,
)
from laicai.domain.enums import Direction
from laicai.engine.pnl import Holdings, base_ccy
from laicai.store.records import BorrowEvent, EarnEvent, FundingPayment, PositionRecord
from laicai.store.states import BorrowEventKind, EarnEventKind
from laicai.venues.port import TradingExchange

log = logging.getLogger(__name__)

ZERO = Decimal(0)
CURSOR_KEY = "bills_cursor"
ACCOUNTS = ("trading", "funding")


class BillBook(Protocol):
    """The part of :class:`laicai.store.repository.Repository` bookkeeping uses."""

    async def list_open_positions(self) -> list[PositionRecord]: ...

    async def add_funding_payment(self, payment: FundingPayment) -> bool: ...

    async def add_earn_event(self, event: EarnEvent) -> bool: ...

    async def add_borrow_event(self, event: BorrowEvent) -> bool: ...

    async def get_bot_state(self, key: str) -> Any | None: ...

    async def set_bot_state(self, key: str, value: Any, *, ts: datetime) -> None: ...


class BillSource(Protocol):
    """The part of the venue port bookkeeping reads."""

    async def bills(self, account: str = "trading", *, newer_than: str | None = None,
                    begin_ms: int | None = None, bill_type: str | None = None,
                    inst_id: str | None = None, ccy: str | None = None) -> Sequence[Bill]: ...


@dataclass(frozen=True, slots=True)
class BookingReport:
    """What one :func:`book_bills` booked (new records only) and saw."""

    read: int  # bills read from the venue, both accounts, every type
    funding: tuple[FundingPayment, ...] = ()
    earn: tuple[EarnEvent, ...] = ()
    borrow: tuple[BorrowEvent, ...] = ()
    duplicates: int = 0  # bills read again that were booked before
    unattributed: int = 0  # newly booked bills no carry owns
    liquidations: tuple[Bill, ...] = ()
    reference_px: Mapping[str, Decimal] = field(default_factory=dict)  # trade id -> index/mark
    cursor: Mapping[str, str] = field(default_factory=dict)

    @property
    def booked(self) -> int:
        return len(self.funding) + len(self.earn) + len(self.borrow)

    def funding_usdt(self) -> dict[int | None, Decimal]:
        """USDT of the new funding bills per position (None: no carry's)."""
        return _per_position((p.position_id, p.amount) for p in self.funding)

    def earn_interest(self) -> dict[int | None, Decimal]:
        """Coin of the new Earn interest per position."""
        return _per_position((e.position_id, e.amount) for e in self.earn
                             if e.kind is EarnEventKind.INTEREST)

    def borrow_interest(self) -> dict[int | None, Decimal]:
        """Coin of the new margin interest per position."""
        return _per_position((e.position_id, e.amount) for e in self.borrow
                             if e.kind is BorrowEventKind.INTEREST)


def _per_position(items: Iterable[tuple[int | None, Decimal]]) -> dict[int | None, Decimal]:
    out: dict[int | None, Decimal] = {}
    for pid, amount in items:
        out[pid] = out.get(pid, ZERO) + amount
    return out


def _ts(bill: Bill) -> datetime:
    """The bill's time, to the millisecond (no float on the way)."""
    seconds, millis = divmod(bill.ts_ms, 1000)
    return datetime.fromtimestamp(seconds, UTC) + timedelta(milliseconds=millis)


def owner(bill: Bill, positions: Iterable[PositionRecord]) -> PositionRecord | None:
    """The carry ``bill`` belongs to (see the module doc), or None. Of several candidates
    (one closing and one opening at the same instant) the one opened last wins."""
    ts = _ts(bill)
    found: list[PositionRecord] = []
    for p in positions:
        if ts < p.open_timestamp or (p.close_timestamp is not None and ts > p.close_timestamp):
            continue
        if bill.account == "trading" and bill.type == BILL_FUNDING:
            match = bill.inst_id == p.swap_inst_id
        elif bill.account == "trading" and bill.type in (BILL_INTEREST, BILL_BORROW,
                                                           BILL_REPAY):
            match = p.direction is Direction.LONG and bill.ccy == (p.borrow_ccy or base_ccy(p))
        elif bill.account == "funding" and bill.type == ASSET_BILL_EARN_INTEREST:
            match = p.direction is Direction.SHORT and bill.ccy == base_ccy(p)
        else:
            match = False
        if match:
            found.append(p)
    if len(found) > 1:
        log.warning("bill %s (%s %s) fits positions %s: booked to the last opened",
                    bill.bill_id, bill.type, bill.inst_id or bill.ccy, [p.id for p in found])
    return max(found, key=lambda p: p.open_timestamp) if found else None


def booking(bill: Bill, position_id: int | None
            ) -> FundingPayment | EarnEvent | BorrowEvent | None:
    """The store record of a bill laicai books, or None for the others (trades are stored as
    fills by execution; transfers and Earn subscriptions move money within the account)."""
    ts = _ts(bill)
    if bill.account == "trading":
        if bill.type == BILL_FUNDING:
            # isolated margin takes the fee into the position (balChg 0): pnl is the fee
            amount = bill.pnl if bill.pnl != 0 else bill.bal_chg
            return FundingPayment(bill.bill_id, bill.inst_id, amount, ts, ccy=bill.ccy,
                                  position_id=position_id)
        if bill.type == BILL_INTEREST:
            # interest added to the liability (balChg 0) or taken from the balance
            amount = bill.interest if bill.interest != 0 else -bill.bal_chg
            return BorrowEvent(bill.bill_id, BorrowEventKind.INTEREST, bill.ccy, abs(amount),
                               ts, position_id=position_id)
        if bill.type == BILL_BORROW:
            return BorrowEvent(bill.bill_id, BorrowEventKind.BORROW, bill.ccy,
                               abs(bill.bal_chg), ts, position_id=position_id)
        if bill.type == BILL_REPAY:
            return BorrowEvent(bill.bill_id, BorrowEventKind.REPAY, bill.ccy,
                               abs(bill.bal_chg), ts, position_id=position_id)
        return None
    if bill.type == ASSET_BILL_EARN_INTEREST:
        return EarnEvent(bill.bill_id, EarnEventKind.INTEREST, bill.ccy, bill.bal_chg, ts,
                         position_id=position_id)
    return None


def reference_prices(bills: Iterable[Bill]) -> dict[str, Decimal]:
    """The venue's reference price at each fill, by trade id, from trade bills: the mark for
    a swap (``fillMarkPx``), the index for spot (``fillIdxPx``)."""
    out: dict[str, Decimal] = {}
    for b in bills:
        if b.account != "trading" or b.type != BILL_TRADE or not b.trade_id:
            continue
        ref = b.fill_mark_px if b.inst_type == "SWAP" else b.fill_idx_px
        if ref is not None and ref > 0:
            out[b.trade_id] = ref
    return out


def _cursor(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
            a in ACCOUNTS and isinstance(v, str) and v.isdigit() for a, v in value.items()):
        raise ValueError(f"bot state {CURSOR_KEY!r} is corrupt: {value!r}")
    return dict(value)


async def book_bills(venue: BillSource, store: BillBook, *,
                     positions: Sequence[PositionRecord] = (), since_ms: int | None = None,
                     now: datetime | None = None) -> BookingReport:
    """Read the bills newer than the cursor (and not before ``since_ms``), book funding, Earn
    interest and margin interest (and borrows / repayments) to their carries, move the
    cursor; returns what was newly booked. ``positions``: carries closed since the last call
    (the open ones are read from the store). ``now`` stamps the cursor's update (default: the
    newest bill's time)."""
    cursor = _cursor(await store.get_bot_state(CURSOR_KEY))
    read: list[Bill] = []
    for account in ACCOUNTS:
        read.extend(await venue.bills(account, newer_than=cursor.get(account),
                                      begin_ms=since_ms))
    if not read:
        return BookingReport(0, cursor=cursor)
    known = {p.id: p for p in await store.list_open_positions()}
    known.update({p.id: p for p in positions})
    candidates = list(known.values())
    funding: list[FundingPayment] = []
    earn: list[EarnEvent] = []
    borrow: list[BorrowEvent] = []
    duplicates = unattributed = 0
    liquidations: list[Bill] = []
    for bill in read:
        if bill.account == "trading" and bill.type == BILL_LIQUIDATION:
            log.error("liquidation bill %s: %s %s %s", bill.bill_id, bill.inst_id,
                      bill.bal_chg, bill.ccy)
            liquidations.append(bill)
            continue
        pos = owner(bill, candidates)
        record = booking(bill, pos.id if pos is not None else None)
        if record is None:
            continue
        if isinstance(record, FundingPayment):
            new = await store.add_funding_payment(record)
            bucket: list[Any] = funding
        elif isinstance(record, EarnEvent):
            new = await store.add_earn_event(record)
            bucket = earn
        else:
            new = await store.add_borrow_event(record)
            bucket = borrow
        if not new:
            duplicates += 1
            continue
        bucket.append(record)
        if pos is None:
            unattributed += 1
            log.warning("bill %s (type %s, %s) belongs to no carry: booked to the account",
                        bill.bill_id, bill.type, bill.inst_id or bill.ccy)
    for account in ACCOUNTS:
        ids = [b.id_number for b in read if b.account == account]
        if ids:
            cursor[account] = str(max([*ids, int(cursor.get(account, "0"))]))
    stamp = now or max(_ts(b) for b in read)
    await store.set_bot_state(CURSOR_KEY, cursor, ts=stamp)
    report = BookingReport(len(read), tuple(funding), tuple(earn), tuple(borrow), duplicates,
                           unattributed, tuple(liquidations), reference_prices(read), cursor)
    if report.booked:
        log.info("booked %d bills (%d funding, %d Earn, %d borrow; %d seen before)",
                 report.booked, len(funding), len(earn), len(borrow), duplicates)
    return report


async def account_holdings(venue: TradingExchange, ccys: Iterable[str] = ()) -> Holdings:
    """The account's :class:`~laicai.engine.pnl.Holdings` as the venue reports them: equity
    of each trading-account currency, the funding account, and the coin in Simple Earn of
    every currency held in either account or named in ``ccys``. Name the coins of the carries:
    a SHORT's coin sits wholly in Earn and shows in neither account. (A redemption on its way
    is in neither account nor in Earn: snapshot when none is.)"""
    trading = {b.ccy: b.total for b in await venue.balances("trading")}
    funding = {b.ccy: b.total for b in await venue.balances("funding")}
    earn = {c: await venue.earn_balance(c) for c in sorted({*trading, *funding, *ccys})}
    return Holdings(trading, funding, {c: q for c, q in earn.items() if q != 0})
