"""The repository, run on every backend (SQLite and PostgreSQL): constraints, exact amounts,
aware timestamps, idempotent bookings, the journal, orders, scans and the bot's state."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from decimal import Context, Decimal

import pytest
from sqlalchemy import text

from laicai.domain.enums import Direction, Side
from laicai.store import (
    AlertEvent,
    AlertLevel,
    BorrowEvent,
    BorrowEventKind,
    ConflictingDuplicate,
    ConstraintViolation,
    EarnEvent,
    EarnEventKind,
    EquitySnapshot,
    Fill,
    FundingPayment,
    IllegalTransition,
    JournalStatus,
    Liquidity,
    NewPosition,
    NotFound,
    OrderUpdate,
    PositionChanges,
    PositionStatus,
    Repository,
    ScanRow,
    ScanRun,
    SpotEarningStatus,
    Store,
    StoreError,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
S = PositionStatus


def new_position(**overrides: object) -> NewPosition:
    base = NewPosition(
        symbol="BTC-USDT",
        direction=Direction.SHORT,
        spot_inst_id="BTC-USDT",
        swap_inst_id="BTC-USDT-SWAP",
        leverage=Decimal("3"),
        open_timestamp=T0,
        position_amount=Decimal("0.25"),
        entry_spot_price=Decimal("65000.1"),
        entry_swap_price=Decimal("65010.3"),
        initial_funding_rate=Decimal("0.0001"),
        funding_interval_hours=8,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def order(client_order_id: str = "lc1o1", **overrides: object) -> OrderUpdate:
    base = OrderUpdate(
        client_order_id=client_order_id,
        inst_id="BTC-USDT-SWAP",
        side=Side.SELL,
        ord_type="market",
        size=Decimal("25"),
        state="pending",
        ts=T0,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def test_the_store_is_a_repository(store: Store) -> None:
    repository: Repository = store
    assert repository is store
    assert "Store(" in repr(store)


# --- positions: the seed's constraints -------------------------------------------------------


async def test_create_get_and_list_open(store: Store) -> None:
    created = await store.create_position(new_position())
    assert created.id > 0
    assert created.status is S.OPENING
    assert created.direction is Direction.SHORT
    assert created.spot_earning_status is SpotEarningStatus.NONE
    assert created.total_funding_fee == 0 and created.resets_count == 0
    assert await store.get_position(created.id) == created
    assert await store.get_position(created.id + 1000) is None
    other = await store.create_position(new_position(symbol="ETH-USDT", direction=Direction.LONG))
    assert [p.id for p in await store.list_open_positions()] == [created.id, other.id]


@pytest.mark.parametrize(
    ("column", "value"), [("direction", "SIDEWAYS"), ("status", "HALF_OPEN"), ("status", "open")]
)
async def test_check_constraints_reject_bad_values(store: Store, column: str, value: str) -> None:
    # A plain string passes Python untouched: the table's CHECK is what rejects it.
    with pytest.raises(ConstraintViolation):
        await store.create_position(new_position(**{column: value}))
    assert await store.list_open_positions() == []


async def test_check_constraint_holds_for_raw_sql_too(store: Store) -> None:
    created = await store.create_position(new_position())
    with pytest.raises(ConstraintViolation):
        async with store._tx() as s:
            await s.execute(
                text("UPDATE positions SET direction = 'BOTH' WHERE id = :id"), {"id": created.id}
            )
    assert (await store.get_position(created.id)) == created


async def test_symbol_and_open_timestamp_are_unique(store: Store) -> None:
    await store.create_position(new_position())
    with pytest.raises(ConstraintViolation):
        await store.create_position(new_position(position_amount=Decimal("1")))
    # The same instant in another time zone is the same timestamp.
    with pytest.raises(ConstraintViolation):
        await store.create_position(
            new_position(open_timestamp=T0.astimezone(timezone(timedelta(hours=8))))
        )
    later = await store.create_position(new_position(open_timestamp=T0 + timedelta(seconds=1)))
    assert later.id > 0


# --- positions: states -----------------------------------------------------------------------


async def test_position_lifecycle_with_a_reset(store: Store) -> None:
    p = await store.create_position(new_position())
    t = T0
    for to in (S.OPEN, S.RESETTING):
        t += timedelta(hours=1)
        p = await store.transition_position(p.id, to, ts=t)
        assert p.status is to and p.last_update_timestamp == t
    p = await store.transition_position(
        p.id,
        S.OPEN,
        ts=t + timedelta(minutes=1),
        changes=PositionChanges(entry_spot_price=Decimal("60000"), reset_cost=Decimal("12.5")),
    )
    assert (p.status, p.resets_count, p.entry_spot_price, p.reset_cost) == (
        S.OPEN,
        1,
        Decimal("60000"),
        Decimal("12.5"),
    )
    for to in (S.REDEEMING, S.CLOSING):
        p = await store.transition_position(p.id, to, ts=t + timedelta(hours=2))
    assert p.close_timestamp is None
    closed_at = t + timedelta(hours=3)
    p = await store.transition_position(
        p.id,
        S.CLOSED,
        ts=closed_at,
        changes=PositionChanges(exit_spot_price=Decimal("61000"), pnl_usd=Decimal("-3.25")),
    )
    assert p.status is S.CLOSED and p.close_timestamp == closed_at
    assert p.pnl_usd == Decimal("-3.25") and p.exit_spot_price == Decimal("61000")
    assert await store.list_open_positions() == []


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ((), S.CLOSED),
        ((), S.RESETTING),
        ((S.OPEN,), S.OPENING),
        ((S.OPEN, S.CLOSING), S.OPEN),
        ((S.FAILED,), S.OPEN),
    ],
)
async def test_illegal_transitions_are_refused(
    store: Store, path: tuple[PositionStatus, ...], illegal: PositionStatus
) -> None:
    p = await store.create_position(new_position())
    for to in path:
        p = await store.transition_position(p.id, to, ts=T0)
    with pytest.raises(IllegalTransition, match=f"{p.status} -> {illegal}"):
        await store.transition_position(p.id, illegal, ts=T0)
    assert await store.get_position(p.id) == p


async def test_update_position_and_missing_positions(store: Store) -> None:
    p = await store.create_position(new_position())
    t = T0 + timedelta(minutes=5)
    changes = PositionChanges(
        margin_ratio=Decimal("0.3125"),
        okx_mgn_ratio=Decimal("12.345678901234567891"),
        spot_earning_status=SpotEarningStatus.SUBSCRIBED,
        earn_amount=Decimal("0.25"),
    )
    updated = await store.update_position(p.id, changes, ts=t)
    assert updated.margin_ratio == Decimal("0.3125")
    assert updated.okx_mgn_ratio == Decimal("12.345678901234567891")
    assert updated.spot_earning_status is SpotEarningStatus.SUBSCRIBED
    assert updated.last_update_timestamp == t
    assert updated.entry_spot_price == p.entry_spot_price  # untouched
    with pytest.raises(NotFound):
        await store.update_position(p.id + 99, changes, ts=t)
    with pytest.raises(NotFound):
        await store.transition_position(p.id + 99, S.OPEN, ts=t)


# --- amounts and time ------------------------------------------------------------------------

EXACT = [
    Decimal("0.000000000000000001"),
    Decimal("0.123456789012345678"),
    Decimal("-0.999999999999999999"),
    Decimal("123456789012345678.123456789012345678"),
    Decimal("999999999999999999.999999999999999999"),
    Decimal("-999999999999999999.999999999999999999"),
    Decimal("0"),
]


async def test_amounts_round_trip_exactly(store: Store) -> None:
    for i, value in enumerate(EXACT):
        stored = await store.upsert_order(
            order(f"c{i}", size=value, price=value, fee=value, filled_size=value, avg_px=value)
        )
        assert (stored.size, stored.price, stored.fee, stored.filled_size, stored.avg_px) == (
            value,
        ) * 5
        again = await store.get_order(f"c{i}")
        assert again is not None and again.size == value
        # Same digits, not merely equal: a scale-18 column gives 18 places on every backend.
        assert again.size.as_tuple().exponent == -18
        assert format(again.size, "f") == format(
            value.quantize(Decimal("1e-18"), context=Context(prec=60)), "f"
        )


async def test_sqlite_keeps_amounts_as_text_and_postgresql_as_numeric(store: Store) -> None:
    await store.upsert_order(order(size=Decimal("0.1")))
    async with store._tx() as s:
        if store.engine.dialect.name == "sqlite":
            sql = "SELECT typeof(size), size FROM orders"
            expected = ("text", "0.100000000000000000")
        else:
            sql = "SELECT pg_typeof(size)::text, size::text FROM orders"
            expected = ("numeric", "0.100000000000000000")
        assert tuple((await s.execute(text(sql))).one()) == expected


async def test_seed_columns_keep_the_seed_precision(store: Store) -> None:
    p = await store.create_position(
        new_position(
            position_amount=Decimal("9999999999.9999999999"),
            entry_spot_price=Decimal("0.0000012345"),
            leverage=Decimal("125.5"),
        )
    )
    assert p.position_amount == Decimal("9999999999.9999999999")
    assert p.entry_spot_price == Decimal("0.0000012345")
    assert p.leverage == Decimal("125.50")
    # More places than the column has: rounded half away from zero, the same on every backend.
    p = await store.update_position(
        p.id, PositionChanges(entry_swap_price=Decimal("1.00000000005")), ts=T0
    )
    assert p.entry_swap_price == Decimal("1.0000000001")
    # More integer digits than NUMERIC(20, 10) holds: refused, never truncated.
    with pytest.raises(ConstraintViolation, match="does not fit"):
        await store.update_position(
            p.id, PositionChanges(position_amount=Decimal("12345678901")), ts=T0
        )


async def test_floats_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="Decimal"):
        await store.upsert_order(order(size=0.1))


async def test_timestamps_are_aware_and_in_utc(store: Store) -> None:
    shanghai = timezone(timedelta(hours=8))
    local = datetime(2026, 3, 1, 16, 30, 15, 123456, tzinfo=shanghai)
    p = await store.create_position(new_position(open_timestamp=local))
    fetched = await store.get_position(p.id)
    assert fetched is not None
    assert fetched.open_timestamp == local
    assert fetched.open_timestamp.tzinfo is UTC
    assert fetched.open_timestamp == datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
    with pytest.raises(StoreError, match="naive"):
        await store.create_position(new_position(open_timestamp=datetime(2026, 3, 1)))


# --- the exchange's bills, once each ---------------------------------------------------------


async def test_funding_payments_are_booked_once(store: Store) -> None:
    p = await store.create_position(new_position())
    payment = FundingPayment(
        bill_id="b-1001",
        inst_id="BTC-USDT-SWAP",
        amount=Decimal("1.625"),
        rate=Decimal("0.000123456789012345"),
        ts=T0 + timedelta(hours=8),
        position_id=p.id,
    )
    assert await store.add_funding_payment(payment) is True
    assert await store.add_funding_payment(payment) is False
    second = dataclasses.replace(payment, bill_id="b-1002", amount=Decimal("-0.125"))
    assert await store.add_funding_payment(second) is True
    assert await store.list_funding_payments(p.id) == [payment, second]
    after = await store.get_position(p.id)
    assert after is not None and after.total_funding_fee == Decimal("1.5")
    with pytest.raises(ConflictingDuplicate, match="amount"):
        await store.add_funding_payment(dataclasses.replace(payment, amount=Decimal("9")))
    after = await store.get_position(p.id)
    assert after is not None and after.total_funding_fee == Decimal("1.5")


async def test_fills_are_stored_once_per_instrument_trade(store: Store) -> None:
    placed = await store.upsert_order(order())
    fill = Fill(
        inst_id="BTC-USDT-SWAP",
        trade_id="t-1",
        side=Side.SELL,
        px=Decimal("65010.3"),
        size=Decimal("25"),
        fee=Decimal("-0.812628750000000001"),
        fee_ccy="USDT",
        liquidity=Liquidity.TAKER,
        ts=T0,
        client_order_id=placed.client_order_id,
    )
    assert await store.add_fill(fill) is True
    assert await store.add_fill(fill) is False
    spot_fill = dataclasses.replace(fill, inst_id="BTC-USDT", side=Side.BUY)
    assert await store.add_fill(spot_fill) is True  # same trade id, other instrument
    assert await store.list_fills(placed.client_order_id) == [fill, spot_fill]
    with pytest.raises(ConflictingDuplicate):
        await store.add_fill(dataclasses.replace(fill, px=Decimal("1")))
    async with store._tx() as s:
        order_ids = (await s.execute(text("SELECT DISTINCT order_id FROM fills"))).scalars()
        assert list(order_ids) == [placed.id]


async def test_earn_and_borrow_events_are_booked_once(store: Store) -> None:
    p = await store.create_position(new_position())
    interest = EarnEvent(
        ref_id="e-1",
        kind=EarnEventKind.INTEREST,
        ccy="BTC",
        amount=Decimal("0.0000012"),
        ts=T0,
        position_id=p.id,
    )
    subscribe = dataclasses.replace(
        interest, ref_id="e-0", kind=EarnEventKind.SUBSCRIBE, amount=Decimal("0.25")
    )
    assert await store.add_earn_event(subscribe) is True
    assert await store.add_earn_event(interest) is True
    assert await store.add_earn_event(interest) is False
    borrow = BorrowEvent(
        ref_id="l-1",
        kind=BorrowEventKind.INTEREST,
        ccy="ETH",
        amount=Decimal("0.00000321"),
        ts=T0,
        rate=Decimal("0.0000045"),
        position_id=p.id,
    )
    assert await store.add_borrow_event(borrow) is True
    assert await store.add_borrow_event(borrow) is False
    with pytest.raises(ConflictingDuplicate):
        await store.add_borrow_event(dataclasses.replace(borrow, kind=BorrowEventKind.REPAY))
    after = await store.get_position(p.id)
    assert after is not None
    assert after.total_spot_earning_yield == Decimal("0.0000012")
    assert after.total_borrow_interest == Decimal("0.00000321")


# --- journal and orders ----------------------------------------------------------------------


async def test_journal_lifecycle(store: Store) -> None:
    p = await store.create_position(new_position())
    payload = {
        "legs": [
            {"inst_id": "BTC-USDT", "side": "buy", "size": Decimal("0.25"), "cl_ord_id": "a1"},
            {"inst_id": "BTC-USDT-SWAP", "side": "sell", "size": Decimal("25"), "cl_ord_id": "a2"},
        ],
        "notional_usdt": Decimal("16250.025"),
    }
    opening = await store.add_intent("OPEN", payload, ts=T0, position_id=p.id)
    assert opening.status is JournalStatus.PENDING and opening.created_at == T0
    assert opening.payload["legs"][1]["cl_ord_id"] == "a2"
    assert Decimal(opening.payload["legs"][0]["size"]) == Decimal("0.25")  # exact, as text
    closing = await store.add_intent("TRANSFER", {"amount": "10"}, ts=T0 + timedelta(seconds=1))
    assert [i.id for i in await store.list_pending_intents()] == [opening.id, closing.id]

    sent = await store.mark_intent_sent(opening.id, ts=T0 + timedelta(seconds=2))
    assert sent.status is JournalStatus.SENT and sent.updated_at == T0 + timedelta(seconds=2)
    assert [i.id for i in await store.list_pending_intents()] == [opening.id, closing.id]
    done = await store.mark_intent_done(opening.id, ts=T0 + timedelta(seconds=3))
    assert done.status is JournalStatus.DONE and done.created_at == T0
    failed = await store.mark_intent_failed(closing.id, "51008 insufficient", ts=T0)
    assert failed.status is JournalStatus.FAILED and failed.error == "51008 insufficient"
    assert await store.list_pending_intents() == []

    with pytest.raises(IllegalTransition):
        await store.mark_intent_sent(opening.id, ts=T0)
    with pytest.raises(NotFound):
        await store.mark_intent_done(closing.id + 100, ts=T0)


async def test_orders_upsert_by_client_order_id(store: Store) -> None:
    p = await store.create_position(new_position())
    intent = await store.add_intent("OPEN", {}, ts=T0, position_id=p.id)
    first = await store.upsert_order(order(position_id=p.id, journal_id=intent.id))
    assert first.state == "pending" and first.venue_order_id is None
    acked = await store.upsert_order(
        order(
            state="live",
            venue_order_id="v-77",
            ts=T0 + timedelta(milliseconds=30),
            raw={"ordId": "v-77", "state": "live", "fillSz": "0"},
        )
    )
    assert acked.id == first.id
    assert (acked.state, acked.venue_order_id, acked.position_id) == ("live", "v-77", p.id)
    filled = await store.upsert_order(
        order(
            state="filled",
            filled_size=Decimal("25"),
            avg_px=Decimal("65010.3"),
            fee=Decimal("-0.81"),
            fee_ccy="USDT",
            ts=T0 + timedelta(milliseconds=90),
        )
    )
    assert filled.venue_order_id == "v-77"  # a None field keeps what is stored
    assert filled.raw == {"ordId": "v-77", "state": "live", "fillSz": "0"}
    assert (filled.state, filled.filled_size, filled.created_at) == ("filled", Decimal(25), T0)
    stale = await store.upsert_order(order(state="live", ts=T0 + timedelta(milliseconds=60)))
    assert stale == filled  # older than what is stored: ignored
    assert await store.list_orders(p.id) == [filled]
    assert await store.get_order("nope") is None


# --- scans, snapshots, alerts, bot state -----------------------------------------------------


def scan_row(inst_id: str, accepted: bool, **overrides: object) -> ScanRow:
    base = ScanRow(
        ts=T0,
        inst_id=inst_id,
        direction=Direction.SHORT,
        funding_rate=Decimal("0.000312345678901234"),
        interval_hours=4,
        funding_apr=Decimal("0.683936535"),
        accepted=accepted,
        spot_inst_id=inst_id.removesuffix("-SWAP"),
        earn_apr=Decimal("0.021"),
        spot_slippage=Decimal("0.00012"),
        swap_slippage=Decimal("0.00009"),
        fees=Decimal("0.002"),
        net_apr=Decimal("0.61"),
        breakeven_days=Decimal("1.25"),
        planned_size=Decimal("12"),
        planned_notional_usdt=Decimal("1500"),
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


async def test_scan_results_save_and_load(store: Store) -> None:
    assert await store.latest_scan() is None
    old = ScanRun(started_at=T0, finished_at=T0 + timedelta(seconds=3), candidates=1)
    await store.save_scan(old, [scan_row("DOGE-USDT-SWAP", False, reject_reason="slippage")])
    run = ScanRun(
        started_at=T0 + timedelta(minutes=1),
        finished_at=T0 + timedelta(minutes=1, seconds=2),
        candidates=3,
        accepted=1,
    )
    rows = [
        scan_row("BTC-USDT-SWAP", True),
        scan_row("ETH-USDT-SWAP", False, reject_reason="net APR 3% < 5%", net_apr=Decimal("0.03")),
        scan_row(
            "PEPE-USDT-SWAP",
            False,
            direction=Direction.LONG,
            funding_rate=Decimal("-0.002"),
            earn_apr=None,
            borrow_apr=Decimal("0.35"),
            reject_reason="no borrow",
        ),
    ]
    scan_id = await store.save_scan(run, rows)
    latest = await store.latest_scan()
    assert latest is not None
    assert latest.run == dataclasses.replace(run, id=scan_id)
    assert latest.rows == tuple(rows)


async def test_equity_events_and_bot_state(store: Store) -> None:
    assert await store.latest_equity_snapshot() is None
    for minutes, equity in ((0, "10000.5"), (5, "10001.000000000000000001")):
        await store.add_equity_snapshot(
            EquitySnapshot(
                ts=T0 + timedelta(minutes=minutes),
                equity_usdt=Decimal(equity),
                open_positions=1,
                details={"trading": Decimal(equity)},
            )
        )
    latest = await store.latest_equity_snapshot()
    assert latest is not None
    assert latest.equity_usdt == Decimal("10001.000000000000000001")
    assert latest.details == {"trading": "10001.000000000000000001"}

    p = await store.create_position(new_position())
    first = await store.add_event(
        AlertEvent(
            ts=T0,
            level=AlertLevel.WARN,
            kind="margin",
            message="margin 0.18",
            position_id=p.id,
            payload={"ratio": Decimal("0.18")},
        )
    )
    second = await store.add_event(
        AlertEvent(ts=T0 + timedelta(seconds=1), level=AlertLevel.INFO, kind="open", message="ok")
    )
    events = await store.list_events()
    assert [e.message for e in events] == ["ok", "margin 0.18"]
    assert events[1].payload == {"ratio": "0.18"} and second > first
    assert len(await store.list_events(limit=1)) == 1
    with pytest.raises(ConstraintViolation):
        await store.add_event(AlertEvent(ts=T0, level="LOUD", kind="x", message="y"))  # type: ignore[arg-type]

    assert await store.get_bot_state("state") is None
    await store.set_bot_state("state", "IDLE", ts=T0)
    await store.set_bot_state("clean_exit", False, ts=T0)
    await store.set_bot_state("state", "PAUSED", ts=T0 + timedelta(seconds=1))
    assert await store.get_bot_state("state") == "PAUSED"
    assert await store.get_bot_state("clean_exit") is False
    await store.set_bot_state("paused", {"reason": "operator", "until": None}, ts=T0)
    assert await store.get_bot_state("paused") == {"reason": "operator", "until": None}
