"""The self-check's judging functions over plain values, and its orchestration over a fake
venue and a fake store (which checks run, which are skipped, what the leverage probe does)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import pytest

from laicai.config import Secrets, load_config
from laicai.config.schema import Settings
from laicai.config.secrets import secrets_from_env
from laicai.domain.account import AccountConfig, Balance, PerpPosition
from laicai.domain.enums import Direction, InstKind, Side
from laicai.domain.instrument import Instrument
from laicai.domain.orders import OrderState, OrderStatus
from laicai.engine.selfcheck import (
    TITLES,
    CheckStatus,
    EngineRecord,
    check_account_mode,
    check_clock,
    check_config,
    check_funds,
    check_keys_present,
    check_keys_refused,
    check_last_exit,
    check_leftovers,
    check_permissions,
    check_position_mode,
    config_failure_report,
    run_self_check,
)
from laicai.errors import AuthenticationFailed, ConfigError, ExchangeError, PermissionDenied
from laicai.store.records import PositionRecord
from laicai.store.states import PositionStatus, SpotEarningStatus

D = Decimal
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
KEY, SECRET, PASS = "unit-key-4d1f", "unit-secret-9a7c", "unit-pass-22b0"
FULL_ENV = {"LAICAI_OKX_API_KEY": KEY, "LAICAI_OKX_SECRET_KEY": SECRET,
            "LAICAI_OKX_PASSPHRASE": PASS}


def acfg(perm: str = "read_only,trade", level: int = 2, mode: str = "net_mode") -> AccountConfig:
    return AccountConfig(account_level=level, position_mode=mode,
                         permissions=frozenset(perm.split(",")), uid="42")


def record(id: int = 1, symbol: str = "BTC", direction: Direction = Direction.SHORT,
           status: PositionStatus = PositionStatus.OPEN, amount: str = "0.5",
           borrow_ccy: str | None = None) -> PositionRecord:
    return PositionRecord(
        id=id, symbol=symbol, direction=direction, status=status, leverage=D(2),
        open_timestamp=NOW, close_timestamp=None, last_update_timestamp=NOW,
        position_amount=D(amount), entry_spot_price=D(60000), entry_swap_price=D(60010),
        exit_spot_price=None, exit_swap_price=None,
        spot_earning_status=SpotEarningStatus.NONE, total_spot_earning_yield=D(0),
        initial_spot_earning_rate=None, margin_ratio=D("0.5"), initial_funding_rate=D("0.0001"),
        total_funding_fee=D(0), total_trade_fee=D(0), resets_count=0, pnl_usd=None,
        spot_inst_id=f"{symbol}-USDT", swap_inst_id=f"{symbol}-USDT-SWAP", swap_contracts=None,
        notional_usdt=None, funding_interval_hours=8, earn_amount=D(0), okx_mgn_ratio=None,
        liq_px=None, reset_cost=D(0), unrealized_pnl_usd=None, borrow_ccy=borrow_ccy,
        borrowed_amount=D(0), initial_borrow_rate=None, total_borrow_interest=D(0),
        close_reason=None)


def perp(inst_id: str = "BTC-USDT-SWAP", base: str = "-0.5", ct_val: str = "0.01"
         ) -> PerpPosition:
    b = D(base)
    return PerpPosition(inst_id=inst_id, contracts=b / D(ct_val), base_qty=b, avg_px=D(60000),
                        mark_px=D(60000), leverage=D(2), margin_mode="cross", upl=D(0),
                        okx_mgn_ratio=D(20), liq_px=None, notional_usdt=abs(b) * 60000)


def order(cl: str, inst_id: str = "ETH-USDT", size: str = "1") -> OrderState:
    return OrderState(client_order_id=cl, venue_order_id="9" + cl, inst_id=inst_id,
                      side=Side.BUY, status=OrderStatus.OPEN, size=D(size), filled=D(0),
                      avg_px=None, fee=D(0), fee_ccy="ETH", ts_ms=NOW_MS)


def usdt(available: str, total: str | None = None, ccy: str = "USDT",
         liability: str = "0") -> Balance:
    return Balance(ccy=ccy, total=D(total or available), available=D(available),
                   liability=D(liability))


# ---------------------------------------------------------------------- pure checks
def test_config_reports_the_file_and_warns_on_live_defaults(tmp_path: Path) -> None:
    paper = load_config(None, env={})
    assert check_config(paper, tmp_path / "c.yml").status is CheckStatus.OK
    assert str(tmp_path / "c.yml") in check_config(paper, tmp_path / "c.yml").detail
    assert "built-in defaults" in check_config(paper, None).detail
    live = load_config(None, env=FULL_ENV).model_copy(update={"mode": "live"})
    got = check_config(live, None)
    assert got.status is CheckStatus.WARN and got.fix and "config.example.yml" in got.fix
    assert "demo trading" in got.detail  # sandbox_mode defaults to true


@pytest.mark.parametrize("missing", ["LAICAI_OKX_API_KEY", "LAICAI_OKX_SECRET_KEY",
                                     "LAICAI_OKX_PASSPHRASE"])
@pytest.mark.parametrize("mode", ["live", "paper"])
def test_a_missing_key_is_named_and_no_value_is_shown(missing: str, mode: str) -> None:
    secrets = secrets_from_env({k: v for k, v in FULL_ENV.items() if k != missing})
    got = check_keys_present(mode, secrets)
    assert got.status is CheckStatus.FAIL
    assert missing in got.detail and got.fix is not None and missing in got.fix
    text = got.detail + got.fix
    assert not any(v in text for v in FULL_ENV.values())


def test_keys_present_in_full_or_none_in_paper_mode() -> None:
    full = load_config(None, env=FULL_ENV).secrets
    assert check_keys_present("live", full).status is CheckStatus.OK
    assert KEY not in check_keys_present("live", full).detail
    assert check_keys_present("paper", Secrets()).status is CheckStatus.OK
    assert check_keys_present("live", Secrets()).status is CheckStatus.FAIL


def test_permissions() -> None:
    assert check_permissions(acfg()).status is CheckStatus.OK
    withdraw = check_permissions(acfg("read_only,trade,withdraw"))
    assert withdraw.status is CheckStatus.FAIL and "WITHDRAW" in withdraw.detail
    assert withdraw.fix is not None and "Read and Trade" in withdraw.fix
    read_only = check_permissions(acfg("read_only"))
    assert read_only.status is CheckStatus.FAIL and "trade" in read_only.detail


@pytest.mark.parametrize(("level", "status"), [(1, CheckStatus.FAIL), (2, CheckStatus.OK),
                                               (3, CheckStatus.OK), (4, CheckStatus.FAIL)])
def test_account_mode(level: int, status: CheckStatus) -> None:
    got = check_account_mode(acfg(level=level))
    assert got.status is status
    assert f"acctLv {level}" in got.detail
    if status is CheckStatus.FAIL:
        assert got.fix is not None and "Account mode" in got.fix


def test_position_mode() -> None:
    assert check_position_mode(acfg()).status is CheckStatus.OK
    got = check_position_mode(acfg(mode="long_short_mode"))
    assert got.status is CheckStatus.FAIL
    assert got.fix is not None and "net_mode" in got.fix


@pytest.mark.parametrize(("skew", "paper", "status"), [
    (40, False, CheckStatus.OK), (-999, False, CheckStatus.OK),
    (1_500, False, CheckStatus.WARN), (-24_000, False, CheckStatus.WARN),
    (26_000, False, CheckStatus.FAIL), (-90_000_000, True, CheckStatus.OK),
])
def test_clock(skew: int, paper: bool, status: CheckStatus) -> None:
    got = check_clock(skew, 20, paper=paper, max_skew_ms=1_000)
    assert got.status is status, got
    assert (got.fix is None) is (status is CheckStatus.OK)


def engine_row(**kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"state": "IDLE", "mode": "paper", "dry_run": False, "pid": 4242,
                           "started_at": (NOW - timedelta(hours=3)).isoformat(),
                           "heartbeat": (NOW - timedelta(seconds=10)).isoformat(),
                           "clean_exit": False}
    row.update(kw)
    return row


def test_last_exit_first_start_clean_crashed_and_running() -> None:
    assert check_last_exit(None, NOW).status is CheckStatus.OK
    assert "first start" in check_last_exit(None, NOW).detail
    stale = (NOW - timedelta(hours=2)).isoformat()
    clean = check_last_exit(engine_row(clean_exit=True, state="STOPPED", heartbeat=stale), NOW)
    assert clean.status is CheckStatus.OK and "cleanly" in clean.detail
    crashed = check_last_exit(engine_row(heartbeat=stale), NOW, own_pid=1)
    assert crashed.status is CheckStatus.WARN and "did not exit cleanly" in crashed.detail
    assert crashed.fix is not None and "crash recovery" in crashed.fix
    running = check_last_exit(engine_row(), NOW, own_pid=1)
    assert running.status is CheckStatus.FAIL and "running" in running.detail
    assert "pid 4242" in running.detail
    assert check_last_exit(engine_row(), NOW, own_pid=4242).status is CheckStatus.OK
    no_beat = check_last_exit(engine_row(heartbeat=None), NOW, own_pid=1)
    assert no_beat.status is CheckStatus.WARN  # no heartbeat: not running, not clean
    assert check_last_exit(["not", "a", "record"], NOW).status is CheckStatus.WARN


def test_engine_record_parses_leniently_and_judges_the_heartbeat() -> None:
    rec = EngineRecord.parse(engine_row(pid=True, dry_run="no", heartbeat="2026-03-01T11:59:30"))
    assert rec.pid is None and rec.dry_run is None  # wrong types read as unknown
    assert rec.heartbeat == datetime(2026, 3, 1, 11, 59, 30, tzinfo=UTC)  # naive = UTC
    assert rec.heartbeat_age_s(NOW) == 30
    assert rec.running(NOW)
    assert not rec.running(NOW + timedelta(seconds=61))  # 91 s: stale
    assert not EngineRecord.parse(engine_row(state="STOPPED")).running(NOW)
    assert not EngineRecord.parse(engine_row(clean_exit=True)).running(NOW)
    with pytest.raises(ValueError, match="JSON object"):
        EngineRecord.parse("IDLE")


def test_a_heartbeat_on_another_clock_proves_nothing() -> None:
    """A record written on a simulated clock far ahead is not a running engine."""
    ahead = EngineRecord.parse(engine_row(heartbeat=(NOW + timedelta(days=30)).isoformat()))
    assert not ahead.running(NOW)
    got = check_last_exit(engine_row(heartbeat=(NOW + timedelta(days=30)).isoformat()), NOW,
                          own_pid=1)
    assert got.status is CheckStatus.WARN and "in the future" in got.detail
    assert EngineRecord.parse(engine_row(heartbeat=(NOW + timedelta(seconds=2)).isoformat())
                              ).running(NOW)  # a little skew between machines is fine


def test_leftovers_agree() -> None:
    got = check_leftovers([record()], [perp(base="-0.5")], [usdt("100")], {"USDT": D(5)}, [],
                          set())
    assert got.status is CheckStatus.OK, got


def test_leftovers_perp_unknown_to_the_database_warns_with_the_fix() -> None:
    got = check_leftovers([], [perp("ETH-USDT-SWAP", "2", "0.1")], [], {}, [], set())
    assert got.status is CheckStatus.WARN
    assert "ETH-USDT-SWAP long 20 contracts (2 base) has no open position" in got.detail
    assert got.fix is not None and "laicai close-all" in got.fix and "crash recovery" in got.fix


def test_leftovers_sizes_and_missing_legs() -> None:
    off = check_leftovers([record()], [perp(base="-0.4")], [], {}, [], set())
    assert off.status is CheckStatus.WARN and "expects -0.5" in off.detail
    within = check_leftovers([record()], [perp(base="-0.499")], [], {}, [], set())
    assert within.status is CheckStatus.OK  # under 1%: rounding to contracts
    gone = check_leftovers([record(id=7)], [], [], {}, [], set())
    assert gone.status is CheckStatus.WARN and "#7" in gone.detail
    flight = check_leftovers([record(status=PositionStatus.CLOSING)], [], [], {}, [], set())
    assert "CLOSING" in flight.detail and "no BTC-USDT-SWAP" not in flight.detail


def test_leftovers_borrow_earn_and_orders() -> None:
    long_doge = record(2, "DOGE", Direction.LONG, amount="1000", borrow_ccy="DOGE")
    got = check_leftovers(
        [long_doge], [perp("DOGE-USDT-SWAP", "1000", "1000")],
        [usdt("5", ccy="DOGE", liability="1000"), usdt("0", ccy="ETH", liability="3")],
        {"BTC": D("0.2"), "USDT": D(500)}, [order("mine"), order("manual1")], {"mine"})
    assert got.status is CheckStatus.WARN
    assert "borrowed 3 ETH" in got.detail and "borrowed 1000 DOGE" not in got.detail
    assert "0.2 BTC in Simple Earn" in got.detail and "USDT in Simple Earn" not in got.detail
    assert "1 open order(s) laicai did not place: ETH-USDT buy 1" in got.detail
    assert "1 open order(s) of laicai still resting" in got.detail
    earn_ok = check_leftovers([record()], [perp()], [], {"BTC": D("0.5")}, [], set())
    assert earn_ok.status is CheckStatus.OK


def test_funds() -> None:
    assert check_funds([usdt("100")], [], None).status is CheckStatus.OK
    move = check_funds([usdt("0", "10")], [usdt("50")], None)
    assert move.status is CheckStatus.FAIL and move.fix is not None and "transfer" in move.fix
    empty = check_funds([], [], None)
    assert empty.status is CheckStatus.FAIL and empty.fix is not None and "deposit" in empty.fix
    short = check_funds([usdt("100")], [usdt("50")], D(1000))
    assert short.status is CheckStatus.WARN and "total_capital" in short.detail
    assert check_funds([usdt("900")], [usdt("100")], D(1000)).status is CheckStatus.OK


def okx_error(cls: type[ExchangeError], code: str, msg: str) -> ExchangeError:
    e = cls(f"account config: OKX {code} (AuthenticationError): {msg}")
    e.__cause__ = ccxt.AuthenticationError(f'okx {{"code":"{code}","msg":"{msg}","data":[]}}')
    return e


@pytest.mark.parametrize(("code", "names"), [
    ("50113", "LAICAI_OKX_SECRET_KEY"), ("50111", "LAICAI_OKX_API_KEY"),
    ("50105", "LAICAI_OKX_PASSPHRASE"), ("50102", "clock"), ("59999", "belong to one key"),
])
def test_a_refused_key_gets_the_fix_for_its_code(code: str, names: str) -> None:
    got = check_keys_refused(okx_error(AuthenticationFailed, code, "refused"))
    assert got.status is CheckStatus.FAIL and f"OKX {code}" in got.detail
    assert got.fix is not None and names in got.fix


def test_a_config_that_does_not_load_fails_first_and_skips_the_rest(tmp_path: Path) -> None:
    error = ConfigError("bad", ["risk.leverage: too high", "mode: unknown"])
    report = config_failure_report(error, tmp_path / "c.yml", now=NOW)
    assert [c.name for c in report.checks] == list(TITLES)
    assert report.checks[0].status is CheckStatus.FAIL
    assert "risk.leverage: too high; mode: unknown" in report.checks[0].detail
    assert {c.status for c in report.checks[1:]} == {CheckStatus.SKIP}
    assert not report.ok
    assert json.loads(json.dumps(report.as_dict()))["checks"][0]["status"] == "fail"


# ---------------------------------------------------------------------- orchestration
def swap(inst_id: str, max_lev: int = 100) -> Instrument:
    return Instrument(inst_id=inst_id, kind=InstKind.SWAP, base=inst_id.split("-")[0],
                      quote="USDT", tick_size=D("0.1"), lot_size=D("0.01"), min_size=D("0.01"),
                      contract_value=D("0.01"), max_leverage=max_lev)


@dataclass
class FakeVenue:
    config: AccountConfig = field(default_factory=acfg)
    config_error: ExchangeError | None = None
    set_error: ExchangeError | None = None
    perps: list[PerpPosition] = field(default_factory=list)
    swaps: list[Instrument] = field(default_factory=lambda: [swap("BTC-USDT-SWAP"),
                                                             swap("ETH-USDT-SWAP")])
    lever: dict[str, int] = field(default_factory=dict)
    calls: list[tuple[str, int]] = field(default_factory=list)
    trading: list[Balance] = field(default_factory=lambda: [usdt("1000")])
    server_ms: int = NOW_MS
    closed: bool = False

    async def server_time_ms(self) -> int:
        return self.server_ms

    async def account_config(self) -> AccountConfig:
        if self.config_error is not None:
            raise self.config_error
        return self.config

    async def positions(self) -> list[PerpPosition]:
        return self.perps

    async def instruments(self) -> list[Instrument]:
        return self.swaps

    async def leverage(self, inst_id: str, margin_mode: str = "cross") -> int:
        return self.lever.get(inst_id, 3)

    async def set_leverage(self, inst_id: str, leverage: int, margin_mode: str = "cross"
                           ) -> None:
        if self.set_error is not None:
            raise self.set_error
        self.calls.append((inst_id, leverage))
        self.lever[inst_id] = leverage

    async def balances(self, account: str = "trading") -> list[Balance]:
        return self.trading if account == "trading" else []

    async def earn_balances(self) -> Mapping[str, Decimal]:
        return {}

    async def open_orders(self) -> Sequence[OrderState]:
        return []

    async def close(self) -> None:
        self.closed = True


@dataclass
class FakeStore:
    engine_state: Any = None
    positions: list[PositionRecord] = field(default_factory=list)

    async def get_bot_state(self, key: str) -> Any:
        assert key == "engine"
        return self.engine_state

    async def list_open_positions(self) -> list[PositionRecord]:
        return self.positions

    async def get_order(self, client_order_id: str) -> None:
        return None


def settings(**env: str) -> Settings:
    return load_config(None, env={**FULL_ENV, **env})


async def check(venue: FakeVenue, store: FakeStore | None = None,
                s: Settings | None = None) -> dict[str, Any]:
    report = await run_self_check(s or settings(), venue=venue,  # type: ignore[arg-type]
                                  store=store or FakeStore(), now_ms=lambda: NOW_MS, own_pid=1)
    assert [c.name for c in report.checks] == list(TITLES)
    assert not venue.closed  # a venue passed in is the caller's to close
    return {c.name: c for c in report.checks}


async def test_all_good_with_simple_values() -> None:
    venue = FakeVenue(lever={"BTC-USDT-SWAP": 5})
    got = await check(venue)
    assert {n: c.status for n, c in got.items() if c.status is not CheckStatus.OK} == {}
    # leverage: risk.leverage (2) set on BTC, then its earlier 5x put back
    assert venue.calls == [("BTC-USDT-SWAP", 2), ("BTC-USDT-SWAP", 5)]
    assert "restored" in got["leverage"].detail


async def test_leverage_is_probed_on_a_flat_swap_and_not_restored_when_equal() -> None:
    venue = FakeVenue(perps=[perp()], lever={"ETH-USDT-SWAP": 2})
    got = await check(venue, FakeStore(positions=[record()]))
    assert venue.calls == [("ETH-USDT-SWAP", 2)]
    assert got["leverage"].status is CheckStatus.OK and "ETH-USDT-SWAP" in got["leverage"].detail


async def test_leverage_above_the_instrument_maximum_and_refused() -> None:
    low = await check(FakeVenue(swaps=[swap("BTC-USDT-SWAP", max_lev=1)]))
    assert low.get("leverage").status is CheckStatus.FAIL  # type: ignore[union-attr]
    assert "at most 1x" in low["leverage"].detail
    refused = await check(FakeVenue(set_error=PermissionDenied("set leverage: OKX 50120")))
    assert refused["leverage"].status is CheckStatus.FAIL
    assert refused["leverage"].fix is not None and "Trade" in refused["leverage"].fix
    none_flat = await check(FakeVenue(swaps=[swap("BTC-USDT-SWAP")], perps=[perp()]),
                            FakeStore(positions=[record()]))
    assert none_flat["leverage"].status is CheckStatus.WARN


async def test_refused_keys_skip_what_needs_them() -> None:
    venue = FakeVenue(config_error=okx_error(AuthenticationFailed, "50113", "Invalid Sign"))
    got = await check(venue)
    assert got["keys_accepted"].status is CheckStatus.FAIL
    for name in ("key_permissions", "account_mode", "position_mode", "leverage", "leftovers",
                 "funds"):
        assert got[name].status is CheckStatus.SKIP, name
        assert "did not accept the keys" in got[name].detail
    assert got["clock"].status is CheckStatus.OK  # the public time still answered
    assert venue.calls == []


async def test_simple_account_fails_and_skips_the_leverage_probe() -> None:
    venue = FakeVenue(config=acfg(level=1))
    got = await check(venue)
    assert got["account_mode"].status is CheckStatus.FAIL
    assert got["leverage"].status is CheckStatus.SKIP and venue.calls == []


async def test_an_engine_running_elsewhere_fails_and_a_crash_warns() -> None:
    busy = FakeVenue()
    running = await check(busy, FakeStore(engine_state=engine_row()))
    assert running["last_exit"].status is CheckStatus.FAIL
    # beside a running engine the check touches nothing: no leverage probe
    assert running["leverage"].status is CheckStatus.SKIP and busy.calls == []
    stale = engine_row(heartbeat=(NOW - timedelta(minutes=5)).isoformat())
    idle = FakeVenue()
    crashed = await check(idle, FakeStore(engine_state=stale))
    assert crashed["last_exit"].status is CheckStatus.WARN
    assert crashed["leverage"].status is CheckStatus.OK and idle.calls


async def test_live_clock_skew_from_the_venue_time() -> None:
    live = settings().model_copy(update={"mode": "live"})
    far = await check(FakeVenue(server_ms=NOW_MS + 40_000), s=live)
    assert far["clock"].status is CheckStatus.FAIL and "+40,000 ms" in far["clock"].detail
    near = await check(FakeVenue(server_ms=NOW_MS + 300), s=live)
    assert near["clock"].status is CheckStatus.OK
