"""Booking bills to carries, with an in-memory venue and book: attribution by instrument, coin
and window; each bill booked once however often and in whatever slices it is read; the cursor
moves only after everything read was booked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from laicai.domain.account import Bill
from laicai.domain.enums import Direction
from laicai.engine.bookkeeping import CURSOR_KEY, book_bills, booking, owner, reference_prices
from laicai.store.records import BorrowEvent, EarnEvent, FundingPayment, PositionRecord
from laicai.store.states import (
    BorrowEventKind,
    EarnEventKind,
    PositionStatus,
    SpotEarningStatus,
)

D = Decimal
T0 = datetime(2026, 1, 1, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)
HOUR_MS = 3_600_000


def position(pid: int, direction: Direction, coin: str, opened_h: int,
             closed_h: int | None = None) -> PositionRecord:
    return PositionRecord(
        id=pid, symbol=coin, direction=direction,
        status=PositionStatus.OPEN if closed_h is None else PositionStatus.CLOSED,
        leverage=D(2), open_timestamp=T0 + timedelta(hours=opened_h),
        close_timestamp=None if closed_h is None else T0 + timedelta(hours=closed_h),
        last_update_timestamp=None, position_amount=D(1), entry_spot_price=D(1),
        entry_swap_price=D(1), exit_spot_price=None, exit_swap_price=None,
        spot_earning_status=SpotEarningStatus.NONE, total_spot_earning_yield=D(0),
        initial_spot_earning_rate=None, margin_ratio=None, initial_funding_rate=D(0),
        total_funding_fee=D(0), total_trade_fee=D(0), resets_count=0, pnl_usd=None,
        spot_inst_id=f"{coin}-USDT", swap_inst_id=f"{coin}-USDT-SWAP", swap_contracts=None,
        notional_usdt=None, funding_interval_hours=8, earn_amount=D(0), okx_mgn_ratio=None,
        liq_px=None, reset_cost=D(0), unrealized_pnl_usd=None,
        borrow_ccy=coin if direction is Direction.LONG else None, borrowed_amount=D(0),
        initial_borrow_rate=None, total_borrow_interest=D(0), close_reason=None)


def bill(bill_id: int, kind: str, at_h: float, *, ccy: str = "USDT", inst_id: str = "",
         amount: str = "1", account: str = "trading", **kw: Any) -> Bill:
    """``kind``: funding | interest | earn | borrow | repay | trade | transfer | liquidation."""
    types = {"funding": "8", "interest": "7", "earn": "150", "borrow": "16", "repay": "22",
             "trade": "2", "transfer": "1", "liquidation": "5"}
    ts = T0_MS + int(at_h * HOUR_MS)
    value = D(amount)
    fields: dict[str, Any] = {"bal_chg": value}
    if kind == "funding":
        fields["pnl"] = value
    if kind == "interest":
        fields.update(bal_chg=D(0), interest=value)
    if kind == "repay":
        fields["bal_chg"] = -value
    if kind == "earn":
        account = "funding"
    fields.update(kw)
    return Bill(str(bill_id), account, ccy, types[kind], "", ts_ms=ts, inst_id=inst_id,
                **fields)


class Venue:
    def __init__(self, bills: Sequence[Bill] = ()) -> None:
        self.all: list[Bill] = list(bills)
        self.reads = 0

    async def bills(self, account: str = "trading", *, newer_than: str | None = None,
                    begin_ms: int | None = None, bill_type: str | None = None,
                    inst_id: str | None = None, ccy: str | None = None) -> list[Bill]:
        self.reads += 1
        return sorted((b for b in self.all if b.account == account
                       and (newer_than is None or b.id_number > int(newer_than))
                       and (begin_ms is None or b.ts_ms >= begin_ms)),
                      key=lambda b: b.id_number)


class Book:
    """The store's bill tables and bot state in memory: insert once by bill id."""

    def __init__(self, open_positions: Sequence[PositionRecord] = (),
                 fail_at: int | None = None) -> None:
        self.open = list(open_positions)
        self.funding: dict[str, FundingPayment] = {}
        self.earn: dict[str, EarnEvent] = {}
        self.borrow: dict[str, BorrowEvent] = {}
        self.state: dict[str, Any] = {}
        self.adds = 0
        self.fail_at = fail_at

    def _add(self, table: dict[str, Any], key: str, record: Any) -> bool:
        self.adds += 1
        if self.fail_at is not None and self.adds == self.fail_at:
            raise ConnectionError("database went away")
        if key in table:
            assert table[key] == record  # the same bill always books the same record
            return False
        table[key] = record
        return True

    async def list_open_positions(self) -> list[PositionRecord]:
        return list(self.open)

    async def add_funding_payment(self, payment: FundingPayment) -> bool:
        return self._add(self.funding, payment.bill_id, payment)

    async def add_earn_event(self, event: EarnEvent) -> bool:
        return self._add(self.earn, event.ref_id, event)

    async def add_borrow_event(self, event: BorrowEvent) -> bool:
        return self._add(self.borrow, event.ref_id, event)

    async def get_bot_state(self, key: str) -> Any | None:
        return self.state.get(key)

    async def set_bot_state(self, key: str, value: Any, *, ts: datetime) -> None:
        self.state[key] = value

    def booked(self) -> dict[str, int | None]:
        return {k: r.position_id for table in (self.funding, self.earn, self.borrow)
                for k, r in ((getattr(r, "bill_id", None) or r.ref_id, r)
                             for r in table.values())}


OLD_BTC = position(1, Direction.SHORT, "BTC", opened_h=0, closed_h=10)
NEW_BTC = position(2, Direction.SHORT, "BTC", opened_h=12)
DOGE = position(3, Direction.LONG, "DOGE", opened_h=0)


async def test_each_bill_goes_to_the_carry_that_held_it() -> None:
    venue = Venue([
        bill(1, "funding", 8, inst_id="BTC-USDT-SWAP", amount="3"),
        bill(2, "funding", 8, inst_id="DOGE-USDT-SWAP", amount="2"),
        bill(3, "earn", 9, ccy="BTC", amount="0.0001"),
        bill(4, "earn", 11, ccy="BTC", amount="0.0002"),  # between the two BTC carries
        bill(5, "funding", 16, inst_id="BTC-USDT-SWAP", amount="4"),
        bill(6, "funding", 16, inst_id="ETH-USDT-SWAP", amount="5"),  # nobody's
        bill(7, "interest", 16, ccy="DOGE", amount="0.5"),
        bill(8, "interest", 16, ccy="BTC", amount="0.1"),  # no LONG in BTC
        bill(9, "borrow", 0, ccy="DOGE", amount="1000"),
        bill(10, "repay", 17, ccy="DOGE", amount="100"),
        bill(11, "trade", 17, ccy="USDT", inst_id="BTC-USDT-SWAP", inst_type="SWAP",
             trade_id="77", fill_mark_px=D("60010"), fill_idx_px=D("60000")),
        bill(12, "trade", 17, ccy="BTC", inst_id="BTC-USDT", inst_type="SPOT", trade_id="78",
             fill_idx_px=D("60000")),
        bill(13, "transfer", 17),
        bill(14, "liquidation", 17, inst_id="DOGE-USDT-SWAP", amount="-7"),
    ])
    book = Book(open_positions=[NEW_BTC, DOGE])
    report = await book_bills(venue, book, positions=[OLD_BTC], now=T0)
    assert book.booked() == {"1": 1, "2": 3, "3": 1, "4": None, "5": 2, "6": None, "7": 3,
                             "8": None, "9": 3, "10": 3}
    assert report.booked == 10 and report.unattributed == 3 and report.duplicates == 0
    assert report.read == 14
    assert report.funding_usdt() == {1: D(3), 3: D(2), 2: D(4), None: D(5)}
    assert report.earn_interest() == {1: D("0.0001"), None: D("0.0002")}
    assert report.borrow_interest() == {3: D("0.5"), None: D("0.1")}
    assert [e.kind for e in book.borrow.values()] == [
        BorrowEventKind.INTEREST, BorrowEventKind.INTEREST, BorrowEventKind.BORROW,
        BorrowEventKind.REPAY]
    assert book.borrow["10"].amount == 100  # a repayment's size, positive
    assert [b.bill_id for b in report.liquidations] == ["14"]
    assert report.reference_px == {"77": D("60010"), "78": D("60000")}
    assert book.state[CURSOR_KEY] == report.cursor == {"trading": "14", "funding": "4"}
    assert book.earn["3"].kind is EarnEventKind.INTEREST


async def test_a_second_booking_adds_nothing_and_a_lost_cursor_only_finds_duplicates() -> None:
    venue = Venue([bill(1, "funding", 8, inst_id="DOGE-USDT-SWAP"),
                   bill(2, "interest", 9, ccy="DOGE")])
    book = Book(open_positions=[DOGE])
    first = await book_bills(venue, book)
    assert first.booked == 2
    second = await book_bills(venue, book)
    assert (second.read, second.booked) == (0, 0)
    book.state.clear()
    replay = await book_bills(venue, book)
    assert (replay.read, replay.booked, replay.duplicates) == (2, 0, 2)
    venue.all.append(bill(3, "funding", 16, inst_id="DOGE-USDT-SWAP", amount="-1.5"))
    third = await book_bills(venue, book)
    assert third.read == 1 and third.funding_usdt() == {3: D("-1.5")}


async def test_the_cursor_moves_only_after_everything_read_was_booked() -> None:
    venue = Venue([bill(i, "funding", i, inst_id="DOGE-USDT-SWAP") for i in range(1, 6)])
    book = Book(open_positions=[DOGE], fail_at=3)
    with pytest.raises(ConnectionError):
        await book_bills(venue, book)
    assert CURSOR_KEY not in book.state and len(book.funding) == 2
    book.fail_at = None
    again = await book_bills(venue, book)
    assert (again.booked, again.duplicates) == (3, 2)
    assert sorted(book.funding, key=int) == ["1", "2", "3", "4", "5"]


async def test_since_ms_limits_the_first_read_and_a_corrupt_cursor_is_refused() -> None:
    venue = Venue([bill(1, "funding", 1, inst_id="DOGE-USDT-SWAP"),
                   bill(2, "funding", 9, inst_id="DOGE-USDT-SWAP")])
    book = Book(open_positions=[DOGE])
    report = await book_bills(venue, book, since_ms=T0_MS + 5 * HOUR_MS)
    assert [p.bill_id for p in report.funding] == ["2"]
    book.state[CURSOR_KEY] = {"trading": "not-an-id"}
    with pytest.raises(ValueError, match="corrupt"):
        await book_bills(venue, book)


def test_amounts_follow_the_bill_type() -> None:
    isolated = bill(1, "funding", 1, inst_id="X-USDT-SWAP", bal_chg=D(0), pnl=D("-0.7"))
    payment = booking(isolated, 4)
    assert isinstance(payment, FundingPayment) and payment.amount == D("-0.7")
    deducted = bill(2, "interest", 1, ccy="DOGE", interest=D(0), bal_chg=D("-0.3"))
    event = booking(deducted, None)
    assert isinstance(event, BorrowEvent) and event.amount == D("0.3")
    assert event.kind is BorrowEventKind.INTEREST
    assert booking(bill(3, "trade", 1), 1) is None
    odd = replace(bill(5, "funding", 0), ts_ms=1_767_225_600_123)
    stamped = booking(odd, None)
    assert stamped is not None and stamped.ts == datetime(2026, 1, 1, 0, 0, 0, 123000, UTC)
    assert booking(replace(bill(4, "earn", 1), type="149"), 1) is None  # a subscription


def test_owner_window_edges_and_ties() -> None:
    at_open = bill(1, "funding", 12, inst_id="BTC-USDT-SWAP")
    at_close = bill(2, "funding", 10, inst_id="BTC-USDT-SWAP")
    assert owner(at_open, [OLD_BTC, NEW_BTC]) is NEW_BTC
    assert owner(at_close, [OLD_BTC, NEW_BTC]) is OLD_BTC
    handover = replace(NEW_BTC, open_timestamp=OLD_BTC.close_timestamp)
    assert owner(at_close, [OLD_BTC, handover]) is handover  # the last opened wins
    assert owner(bill(3, "earn", 3, ccy="DOGE"), [DOGE]) is None  # a LONG earns no Earn
    assert owner(bill(4, "interest", 3, ccy="BTC"), [OLD_BTC]) is None  # a SHORT owes none


def test_reference_prices_take_the_mark_for_swaps_and_the_index_for_spot() -> None:
    bills = [bill(1, "trade", 1, inst_type="SWAP", trade_id="a", fill_mark_px=D(2),
                  fill_idx_px=D(1)),
             bill(2, "trade", 1, inst_type="SPOT", trade_id="b", fill_idx_px=D(3)),
             bill(3, "trade", 1, inst_type="SPOT", trade_id="b"),  # the other side's bill
             bill(4, "funding", 1, trade_id="c", fill_mark_px=D(9))]
    assert reference_prices(bills) == {"a": D(2), "b": D(3)}


# ---------------------------------------------------------------------- idempotence
KINDS = st.sampled_from(["funding", "interest", "earn", "trade", "transfer", "borrow"])


@settings(max_examples=60, deadline=None)
@given(kinds=st.lists(KINDS, min_size=1, max_size=40),
       plan=st.lists(st.tuples(st.integers(0, 40), st.booleans()), max_size=8))
async def test_every_bookable_bill_is_booked_exactly_once(
        kinds: list[str], plan: list[tuple[int, bool]]) -> None:
    """However the bills arrive (in slices between bookings), and whatever bookings are
    repeated or start over without a cursor, each bookable bill ends up booked once, and the
    reports' new bookings add up to exactly those."""
    bills = [bill(i + 1, k, (i + 1) / 4, ccy="DOGE", inst_id="DOGE-USDT-SWAP")
             for i, k in enumerate(kinds)]
    venue, book = Venue(), Book(open_positions=[DOGE])
    booked_total = shown = 0
    for more, lose_cursor in [*plan, (len(bills), False)]:
        shown = min(len(bills), shown + more)  # bills appear, oldest first
        venue.all = bills[:shown]
        if lose_cursor:
            book.state.pop(CURSOR_KEY, None)  # everything is read again
        booked_total += (await book_bills(venue, book)).booked
    bookable = {b.bill_id for b in bills if b.type in ("8", "7", "16") or b.type == "150"}
    assert book.booked() == dict.fromkeys(bookable, DOGE.id) | {
        b.bill_id: None for b in bills if b.type == "150"}  # Earn: DOGE is a LONG
    assert booked_total == len(bookable)
    cursor = book.state.get(CURSOR_KEY)
    if cursor is not None:
        for account in ("trading", "funding"):
            ids = [b.id_number for b in bills if b.account == account]
            if ids and account in cursor:
                assert int(cursor[account]) == max(ids)
