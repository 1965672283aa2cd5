"""The books balance, through the real ccxt against the simulator: a SHORT carry (positive
funding, its coin in Simple Earn) and a LONG carry (negative funding, borrowed coin) live
through funding settlements, hours of Earn and borrow interest and price moves; the bills are
booked (again: nothing new), both carries close, and each decomposition matches the
simulator account's own numbers, and their sum equals the account's equity change to the
cent — while open (marked at the venue's prices) and after closing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from laicai.config import load_config
from laicai.config.sections import DatabaseConfig, OkxConfig
from laicai.domain.enums import Direction
from laicai.engine.bookkeeping import BookingReport, account_holdings, book_bills
from laicai.engine.pnl import CarryPnl, Valuation, carry_pnl, equity_usdt, reconcile
from laicai.engine.scan import scan_once
from laicai.execution.carry import CarryExecutor, ExecutionParams
from laicai.sim.account import Account
from laicai.sim.clock import ManualClock
from laicai.sim.exchange import SimExchange
from laicai.sim.ledger import total_equity_usdt
from laicai.sim.market import ConstantFunding, CurrencyTerms, SwapTerms
from laicai.sim.server.app import SimServer
from laicai.store import Store, open_store
from laicai.store.records import BorrowEvent, EarnEvent, Fill, PositionRecord
from laicai.store.states import BorrowEventKind, PositionStatus
from laicai.strategy import Opportunity, ScanParams
from laicai.testing.sim import (
    API_KEY,
    PASSPHRASE,
    SECRET,
    START_MS,
    SimTimeClock,
    make_exchange,
)
from laicai.venues.okx import OkxCredentials, OkxExchange, create_exchange

D = Decimal
HOUR = 3_600_000
CENT = D("0.01")
BTC_SWAP, DOGE_SWAP = "BTC-USDT-SWAP", "DOGE-USDT-SWAP"


def venue() -> SimExchange:
    ex = make_exchange(
        prices={"BTC": D(60000), "DOGE": D("0.2")},
        funding={BTC_SWAP: (D("0.0005"), 8), DOGE_SWAP: (D("-0.0008"), 8)},
        currencies={
            "BTC": CurrencyTerms(earn_apr=D("0.02")),
            "DOGE": CurrencyTerms(borrow_apr=D("0.10"), borrow_limit=D(10_000_000)),
            "USDT": CurrencyTerms(),
        },
    )
    # the perps' marks sit off the index, so a perp valued at the index would not balance
    ex.plan.swaps[BTC_SWAP] = SwapTerms(ConstantFunding(D("0.0005"), 8), basis_bps=D(4))
    ex.plan.swaps[DOGE_SWAP] = SwapTerms(ConstantFunding(D("-0.0008"), 8), basis_bps=D(-6))
    return ex


@dataclass
class Books:
    ex: SimExchange
    okx: OkxExchange
    store: Store
    executor: CarryExecutor

    @property
    def acct(self) -> Account:
        return self.ex.accounts["main"]

    def now(self) -> Any:
        return SimTimeClock(self.ex).now()

    def advance(self, hours: int) -> None:
        clock = self.ex.clock
        assert isinstance(clock, ManualClock)
        clock.advance(hours * HOUR)
        self.ex.sync()

    async def opportunity(self, base: str) -> Opportunity:
        report = await scan_once(self.okx, ScanParams.from_settings(load_config(None, env={})))
        found = [o for o in report.result.accepted if o.base == base]
        assert found, report.result.reasons()
        return found[0]

    async def book(self, *closed: PositionRecord) -> BookingReport:
        return await book_bills(self.okx, self.store, positions=closed, since_ms=START_MS,
                                now=self.now())

    async def fills(self, position_id: int) -> list[Fill]:
        out: list[Fill] = []
        for order in await self.store.list_orders(position_id):
            out.extend(await self.store.list_fills(order.client_order_id))
        return out


@asynccontextmanager
async def books(tmp_path: Path) -> AsyncIterator[Books]:
    ex = venue()
    store = await open_store(DatabaseConfig(path=tmp_path / "books.db"), None)
    try:
        async with SimServer(ex, rate_limits=False) as srv, create_exchange(
                OkxConfig(rest_url=srv.rest_url, sandbox_mode=False, enable_rate_limit=False),
                OkxCredentials.plain(API_KEY, SECRET, PASSPHRASE)) as okx:
            instruments = {i.inst_id: i for i in await okx.instruments()}
            fees = await okx.fee_rates()
            executor = CarryExecutor(okx, store, SimTimeClock(ex), instruments=instruments,
                                     spot_fee_rate=fees.spot_taker, params=ExecutionParams())
            yield Books(ex, okx, store, executor)
    finally:
        await store.close()


def prices(ex: SimExchange) -> dict[str, Decimal]:
    return {"BTC": ex.index_px("BTC"), "DOGE": ex.index_px("DOGE")}


async def decompose(b: Books, pos: PositionRecord, earn: list[EarnEvent],
                    borrow: list[BorrowEvent], reference_px: dict[str, Decimal],
                    interest_px: Decimal | None = None) -> CarryPnl:
    coin = pos.spot_inst_id.split("-")[0]
    return carry_pnl(
        pos, await b.fills(pos.id), await b.store.list_funding_payments(pos.id),
        contract_value=b.ex.instruments[pos.swap_inst_id].ct_val,
        valuation=Valuation(b.ex.index_px(coin), b.ex.mark_px(pos.swap_inst_id), interest_px),
        earn=[e for e in earn if e.position_id == pos.id],
        borrow=[e for e in borrow if e.position_id == pos.id], reference_px=reference_px)


def assert_matches_the_venue(b: Books, pos: PositionRecord, pnl: CarryPnl) -> None:
    """Each part of the decomposition against the simulator account's own records."""
    acct, coin, swap = b.acct, pos.spot_inst_id.split("-")[0], pos.swap_inst_id
    funding = [x for x in acct.bills if x.type == "8" and x.inst_id == swap]
    assert len(funding) == 3
    assert pnl.breakdown.funding == sum(x.pnl for x in funding) == acct.positions[swap].funding_fee
    fills = [f for f in acct.fills if f.inst_id in (pos.spot_inst_id, swap)]
    fees = sum(-f.fee * (f.px if f.fee_ccy == coin else 1) for f in fills)
    assert pnl.breakdown.fees == fees > 0
    realised = sum(x.pnl for x in acct.bills if x.type == "2" and x.inst_id == swap)
    assert pnl.perp_basis == realised  # closed: the venue's realised PnL of the perp
    bal = acct.trading.get(coin)
    held = ((bal.cash - bal.liab) if bal else 0) + acct.funding.get(coin, 0) + \
        acct.savings.get(coin, 0)
    assert pnl.coin_net == held  # the dust the carry left, to the last unit
    assert pnl.perp_contracts == 0
    assert pnl.breakdown.slippage > 0  # takers pay the spread against the index / mark


async def test_two_carries_book_their_bills_and_the_books_balance(tmp_path: Path) -> None:
    async with books(tmp_path) as b:
        acct = b.acct
        equity_0 = total_equity_usdt(b.ex, acct)
        assert equity_usdt(await account_holdings(b.okx, ["BTC", "DOGE"]),
                           prices(b.ex)) == equity_0

        short = await b.executor.open(await b.opportunity("BTC"))
        long = await b.executor.open(await b.opportunity("DOGE"))
        assert (short.direction, long.direction) == (Direction.SHORT, Direction.LONG)
        assert short.status is long.status is PositionStatus.OPEN
        assert acct.savings["BTC"] > 0 and acct.trading["DOGE"].liab > 0

        b.advance(5)
        b.ex.set_price("BTC", pct=D(2))
        b.advance(9)
        b.ex.set_price("DOGE", pct=D(-3))
        b.advance(11)  # 25 h: three settlements of each swap, 25 hours of interest

        first = await b.book()
        assert len(first.funding) == 6 and first.unattributed == 0
        funding = first.funding_usdt()
        assert funding[short.id] > 0 and funding[long.id] > 0  # both carries earn funding
        assert funding[short.id] == sum(x.pnl for x in acct.bills
                                        if x.type == "8" and x.inst_id == BTC_SWAP)
        assert len(first.earn) == 25 and first.earn_interest()[short.id] == \
            acct.savings_earnings["BTC"]
        interest = [x.interest for x in acct.bills if x.type == "7" and x.ccy == "DOGE"]
        assert len(interest) == 25 and first.borrow_interest()[long.id] == sum(interest)
        assert [e.kind for e in first.borrow if e.kind is not BorrowEventKind.INTEREST] == \
            [BorrowEventKind.BORROW]
        stored = await b.store.get_position(short.id)
        assert stored is not None and stored.total_funding_fee == funding[short.id]

        again = await b.book()  # nothing new since the cursor
        assert (again.read, again.booked) == (0, 0)
        await b.store.set_bot_state("bills_cursor", None, ts=b.now())
        replay = await b.book()  # everything read again: all of it booked before
        assert replay.booked == 0 and replay.duplicates == first.booked
        assert replay.cursor == first.cursor

        earn, borrow = list(first.earn), list(first.borrow)
        refs = dict(first.reference_px)
        # open carries, marked at the venue's index and mark: the books balance already
        open_pnl = [await decompose(b, p, earn, borrow, refs) for p in (short, long)]
        open_rec = reconcile(equity_0, total_equity_usdt(b.ex, acct),
                             [p.breakdown for p in open_pnl])
        assert open_rec.balanced(CENT), open_rec
        # the port's view of the account (Earn, the loan, the perps' upl) is the same equity
        held = equity_usdt(await account_holdings(b.okx, ["BTC", "DOGE"]), prices(b.ex))
        assert abs(held - open_rec.equity_after) < CENT
        assert open_pnl[0].perp_contracts < 0 < open_pnl[1].perp_contracts

        b.advance(2)
        closed = [await b.executor.close(p.id, "test") for p in (short, long)]
        assert all(p.status is PositionStatus.CLOSED for p in closed)
        last = await b.book(*closed)
        assert last.unattributed == 0 and not last.funding  # no settlement in those 2 h
        assert len(last.earn) == 2 and len(last.borrow) == 3  # 2 h of interest, 1 repayment
        earn += last.earn
        borrow += last.borrow
        refs.update(last.reference_px)
        assert (await b.book(*closed)).booked == 0

        final = [await decompose(b, p, earn, borrow, refs, p.exit_spot_price) for p in closed]
        for pos, pnl in zip(closed, final, strict=True):
            assert_matches_the_venue(b, pos, pnl)
        assert final[0].earn_coin == acct.savings_earnings["BTC"] > 0
        assert final[0].breakdown.earn == final[0].earn_coin * closed[0].exit_spot_price
        assert final[1].borrow_coin == sum(
            x.interest for x in acct.bills if x.type == "7" and x.ccy == "DOGE") > 0
        assert final[0].breakdown.borrow == final[1].breakdown.earn == 0
        assert final[0].breakdown.funding > 0 and final[1].breakdown.funding > 0

        equity_1 = total_equity_usdt(b.ex, acct)
        books_ = reconcile(equity_0, equity_1, [p.breakdown for p in final])
        assert books_.balanced(CENT), books_
        assert books_.change != 0 and abs(books_.unexplained) < D("1e-9")
        # the account read through the port agrees with the simulator's own equity
        held = equity_usdt(await account_holdings(b.okx, ["BTC", "DOGE"]), prices(b.ex))
        assert abs(held - equity_1) < CENT
        # and from the open snapshot to the close, the change is explained as well
        later = reconcile(open_rec.equity_after, equity_1, [p.breakdown for p in final],
                          before=[p.breakdown for p in open_pnl])
        assert later.balanced(CENT), later
