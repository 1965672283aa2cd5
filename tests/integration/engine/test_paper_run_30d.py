"""A paper run of thirty simulated days of REAL funding history, through the real ccxt client
against the simulator (``paper_run_support.py``; scenario ``paper_run_30d.yml``): the bot opens
only what clears the bar, books every funding settlement exactly once, survives a squeeze by
topping up (or resetting) without being liquidated, closes on a funding flip, trips the
circuit breaker on forced losses and opens nothing while tripped, and its books balance: the
PnL decompositions of all its carries sum to the simulator account's equity change to the
cent.

One run is shared by the tests of this module (module-scoped fixture). Its engine settings
are set for the CI budget (<= 90 s on two busy cores; about 60 s on a quiet machine): through
ccxt and SQLite a full risk check costs about 20 ms of CPU, a scan 20 ms, a bookkeeping round
20 ms, and 30 days hold 720 hourly scans and bookkeeping rounds. So the full risk check runs
hourly, while the held swaps' mark prices are pushed every 5 minutes, as the live runner's
WebSocket watcher pushes them: each push re-judges the margin ladder and the exit rules at
once (a reset or close goes out at once; a milder rung crossed brings the full check forward).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from paper_run_support import (
    BTC_SWAP,
    SQUEEZE_AT,
    SQUEEZE_LEN,
    TON_SWAP,
    TRX_SWAP,
    PaperRun,
    run_paper,
)

from laicai.data.funding_history import history_for
from laicai.domain.enums import Direction
from laicai.engine.events import (
    BreakerTripped,
    MarginLevelChanged,
    MarginToppedUp,
    PositionClosed,
)
from laicai.engine.pnl import reconcile
from laicai.engine.schedule import DAY_MS, HOUR_MS, MINUTE_MS
from laicai.engine.states import BotState
from laicai.execution.events import CarryClosed, CarryOpened, CarryReset
from laicai.sim.scenario import ReplayedFunding
from laicai.store.states import PositionStatus

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

D = Decimal
CENT = D("0.01")


@contextlib.contextmanager
def fast_dir(factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A RAM disk for the SQLite file when there is one (a fifth of the run's time is the
    store's commits), else pytest's temporary directory."""
    shm = Path("/dev/shm")
    try:
        path = Path(tempfile.mkdtemp(prefix="laicai-paper-", dir=shm))
    except OSError:
        yield factory.mktemp("paper")
        return
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperRun]:
    with fast_dir(tmp_path_factory) as workdir:
        result = run_paper(workdir)
        print(f"\npaper run: {(result.end_ms - result.start_ms) / DAY_MS:g} simulated days "
              f"in {result.wall_s:.1f} s wall; {result.requests} REST requests; jobs "
              f"{result.jobs}; {result.marks_pushed} mark pushes")
        yield result


def at(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%m-%d %H:%M")


def test_thirty_days_of_real_funding_history_through_ccxt(run: PaperRun) -> None:
    assert run.end_ms - run.start_ms >= 30 * DAY_MS
    # every settlement the simulator made is the real one (Binance history, OKX stand-in)
    for swap, coin in ((TON_SWAP, "TON"), (TRX_SWAP, "TRX"), (BTC_SWAP, "BTC")):
        assert isinstance(run.ex.plan.swaps[swap].funding, ReplayedFunding)
        real = {r.ts_ms // MINUTE_MS: r for r in history_for(coin)}
        settled = run.ex.funding_history[swap]
        assert len(settled) >= 30 * 24 // 8
        for ts, rate, mark in settled:
            row = real[ts // MINUTE_MS]
            assert rate == row.rate, (swap, at(ts))
            if ts < run.start_ms + SQUEEZE_AT:  # the injected squeeze moves TON's price
                assert mark == row.mark_price, (swap, at(ts))
    assert len(run.ex.funding_history[TON_SWAP]) >= 30 * 6  # TON settles every 4 hours
    assert not run.ex.funding_override  # nothing forced: the flip is history's own
    # the whole bot ran, through the OKX adapter and ccxt, for the whole month
    assert run.requests > 15_000
    assert run.jobs["scan"] >= 30 * 24 and run.jobs["bookkeeping"] >= 30 * 24
    assert run.jobs["risk"] >= 30 * 24 and run.marks_pushed > 10_000
    assert run.final_state is BotState.IDLE
    assert len(run.carries) >= 5 and all(c.record.status in (PositionStatus.OPEN,
                                                             PositionStatus.CLOSED)
                                         for c in run.carries.values())


def test_opens_only_what_clears_the_net_apr_bar(run: PaperRun) -> None:
    bar = run.min_apr
    opened = run.of(CarryOpened)
    assert len(opened) >= 5
    assert {e.symbol for e in opened} == {"TON", "TRX"}
    assert {e.direction for e in opened} == {Direction.LONG, Direction.SHORT}
    for e in opened:
        assert e.net_apr is not None and e.net_apr >= bar, e
    # every open followed a scan that accepted it, and the scans applied the bar: accepted
    # rows clear it, rows held back for their return do not
    rows = run.sql("SELECT ts, inst_id, net_apr, accepted, reject_reason FROM scan_results")
    scans = {ts for ts, *_ in rows}
    assert len(scans) >= 27 * 24  # hourly, but for the two days paused
    assert len(rows) == 3 * len(scans)  # TON, TRX and BTC judged at every scan
    accepted = {(ts[:16], inst) for ts, inst, _, ok, _ in rows if ok}
    for ts, inst, apr, ok, reason in rows:
        if ok:
            assert D(apr) >= bar, (ts, inst, apr)
        elif reason == "net_apr_too_low":
            assert apr is not None and D(apr) < bar, (ts, inst, apr)
    for e in opened:
        assert (e.ts.strftime("%Y-%m-%d %H:%M"), f"{e.symbol}-USDT-SWAP") in accepted, e
    too_low = {inst for _, inst, _, _, reason in rows if reason == "net_apr_too_low"}
    assert {TON_SWAP, TRX_SWAP} <= too_low  # the bar held them back at times
    assert not [r for r in rows if r[1] == BTC_SWAP and r[3]]  # BTC's carry never pays enough


def test_every_funding_settlement_is_booked_exactly_once(run: PaperRun) -> None:
    bills = {b.bill_id: b for b in run.acct.bills if b.type == "8"}
    assert len(bills) >= 100
    booked = [p for c in run.carries.values() for p in c.funding]
    assert sorted(p.bill_id for p in booked) == sorted(bills)  # each bill once, none extra
    (unowned,) = run.sql("SELECT COUNT(*) FROM funding_payments WHERE position_id IS NULL")[0]
    (rows,) = run.sql("SELECT COUNT(*) FROM funding_payments")[0]
    assert unowned == 0 and rows == len(bills)
    for c in run.carries.values():
        end = c.close_ms if c.close_ms is not None else run.end_ms
        for p in c.funding:
            bill = bills[p.bill_id]
            assert p.amount == bill.pnl and p.inst_id == bill.inst_id == c.record.swap_inst_id
            assert c.open_ms <= bill.ts_ms <= end
        # funding was collected at every settlement while the carry was held
        settled = {ts for ts, _, _ in run.ex.funding_history[c.record.swap_inst_id]
                   if c.open_ms < ts < end}
        got = {int(p.ts.timestamp() * 1000) for p in c.funding}
        assert settled <= got, (c.record.id, sorted(at(t) for t in settled - got))
        assert got - settled <= {c.open_ms, end}
        # and the store's running total is the sum of its bills
        assert c.record.total_funding_fee == pytest.approx(sum(p.amount for p in c.funding),
                                                           abs=D("1e-8"))
    # LONG carries on negative funding were paid to hold: funding is income overall
    assert sum(p.amount for p in booked) > 0


def test_the_squeeze_is_met_by_the_margin_ladder_without_liquidation(run: PaperRun) -> None:
    squeeze = run.start_ms + SQUEEZE_AT
    ex = run.ex
    assert ex.index_px("TON", squeeze + SQUEEZE_LEN) / ex.index_px("TON", squeeze) > D("1.35")
    held = [c for c in run.carries.values() if c.record.swap_inst_id == TON_SWAP
            and c.record.direction is Direction.SHORT and c.open_ms < squeeze
            and (c.close_ms is None or c.close_ms > squeeze)]
    assert len(held) == 1, "a SHORT TON carry must hold the squeezed coin"
    carry = held[0]
    window = range(squeeze, squeeze + 2 * HOUR_MS)
    topups = [e for e in run.of(MarginToppedUp)
              if e.position_id == carry.record.id and run.ms(e) in window]
    resets = [e for e in run.of(CarryReset)
              if e.position_id == carry.record.id and run.ms(e) in window]
    assert topups or resets, "the ladder did not act"
    assert all(e.amount_usdt > 0 for e in topups)
    levels = [e for e in run.of(MarginLevelChanged)
              if e.position_id == carry.record.id and run.ms(e) in window]
    assert {e.new for e in levels} & {"TOPUP", "RESET"}
    assert "EMERGENCY" not in {e.new for e in levels}
    # never liquidated: no liquidation bill, the carry still open and still hedged
    assert not [b for b in run.acct.bills if b.type == "5"]
    assert carry.record.status is PositionStatus.OPEN
    perp = run.acct.positions[TON_SWAP]
    assert perp.pos < 0 and carry.pnl.perp_contracts == perp.pos
    # the margin ladder also acted on the real prices earlier in the month
    assert len(run.of(MarginToppedUp)) > len(topups)


def test_a_carry_closes_when_its_funding_flips(run: PaperRun) -> None:
    flips = [e for e in run.of(CarryClosed) if e.reason.startswith("funding_flipped")]
    assert len(flips) == 1, [e.reason for e in run.of(CarryClosed)]
    flip = flips[0]
    carry = run.carries[flip.position_id]
    assert carry.record.swap_inst_id == TON_SWAP
    assert carry.record.direction is Direction.LONG
    assert carry.record.status is PositionStatus.CLOSED
    # the next settlement after the close paid the other way, past the threshold
    close_ms = run.ms(flip)
    nxt = min((t, r) for t, r, _ in run.ex.funding_history[TON_SWAP] if t > close_ms)
    assert nxt[1] > D("0.0001") and nxt[0] - close_ms <= 4 * HOUR_MS
    # while it lasted, the LONG carry was paid by TON's negative funding
    assert carry.pnl.breakdown.funding > 0 and len(carry.funding) > 100
    closed = [e for e in run.of(PositionClosed) if e.position_id == carry.record.id]
    assert closed and closed[0].reason == flip.reason
    # and the flip made the opposite carry worth opening
    assert any(e.symbol == "TON" and e.direction is Direction.SHORT and run.ms(e) >= close_ms
               for e in run.of(CarryOpened))


def test_forced_losses_trip_the_breaker_and_nothing_opens_while_tripped(
        run: PaperRun) -> None:
    assert run.tripped_ms is not None, run.forced_closes
    trips = run.of(BreakerTripped)
    assert len(trips) == 1 and "losing closes in a row" in trips[0].reason
    before = [pnl for ts, _, pnl in run.forced_closes if ts <= run.tripped_ms]
    assert len(before) >= 3 and all(pnl < 0 for pnl in before[-3:])
    assert run.state_after_trip is BotState.PAUSED
    assert run.states_while_paused == {BotState.PAUSED}
    assert run.resumed_ms is not None and run.resumed_ms - run.tripped_ms >= DAY_MS
    # something worth opening was on offer the whole time, and nothing was opened
    assert [o for o in run.offered_while_paused if o.net_apr is not None
            and o.net_apr >= run.min_apr]
    paused = range(run.tripped_ms, run.resumed_ms)
    assert not [e for e in run.of(CarryOpened) if run.ms(e) in paused]
    # once resumed, the bot takes it at the next scan
    after = [run.ms(e) for e in run.of(CarryOpened) if run.ms(e) >= run.resumed_ms]
    assert after and after[0] - run.resumed_ms <= HOUR_MS + 5 * MINUTE_MS
    # the trip is on record for the operator
    assert run.sql("SELECT COUNT(*) FROM events WHERE kind = 'breaker'")[0][0] == 1


def test_the_books_balance_to_the_cent(run: PaperRun) -> None:
    parts = [c.pnl.breakdown for c in run.carries.values()]
    books = reconcile(run.equity_start, run.equity_end, parts)
    assert books.balanced(CENT), books
    assert abs(books.change) > 10 and abs(books.unexplained) < D("1e-6")
    total = books.explained
    assert total.funding > 0 and total.fees > 0 and total.borrow > 0 and total.earn > 0
    # each part against the simulator's own records
    bills = run.acct.bills
    assert total.funding == sum(b.pnl for b in bills if b.type == "8")
    fees = sum(-f.fee * (f.px if f.fee_ccy != "USDT" else 1) for f in run.acct.fills)
    assert abs(total.fees - fees) < D("1e-9")
    # a closed carry's stored PnL is its decomposition (the breaker judged these numbers)
    for c in run.carries.values():
        if c.record.status is PositionStatus.CLOSED:
            assert c.record.pnl_usd is not None
            assert abs(c.record.pnl_usd - c.pnl.total) < CENT, c.record.id
    # the equity snapshots' running books agree with every carry decomposed afresh
    assert run.running_books is not None and run.direct_books is not None
    for name in ("funding", "earn", "basis", "fees", "borrow"):
        assert abs(getattr(run.running_books, name) - getattr(run.direct_books, name)) < \
            D("1e-6"), name
