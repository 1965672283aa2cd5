"""Scenario files: built-ins, schema errors, build output, determinism."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from laicai.sim.exchange import AccountSetup
from laicai.sim.fees import FEE_TIERS
from laicai.sim.instruments import SWAP
from laicai.sim.scenario import (
    AccountSpec,
    ScenarioError,
    builtin_scenario_text,
    builtin_scenarios,
    load_scenario,
    scenario_from_yaml,
)
from laicai.sim.scenario.schema import parse_duration, parse_timestamp

HOUR = 3_600_000

GENERATED = ["squeeze", "crash", "funding-flip", "thin-book"]
MINIMAL = """
start: 2026-05-04T00:00:00Z
coins:
  BTC:
    price: {kind: random_walk, start: 78000, vol: 0.4}
"""


def test_builtins_listed() -> None:
    assert set(builtin_scenarios()) >= {"calm", "squeeze", "crash", "funding-flip", "thin-book"}


@pytest.mark.parametrize("name", builtin_scenarios())
def test_every_builtin_loads_and_builds(name: str) -> None:
    text = builtin_scenario_text(name)
    assert text.startswith(f"# {name} — ")  # documented at the top
    scenario = load_scenario(name)
    assert scenario.name == name
    setup = scenario.build()
    assert setup.seed == scenario.seed
    assert setup.start_ms == scenario.start
    ids = {i.inst_id for i in setup.instruments}
    for coin in setup.coins:
        assert {f"{coin}-USDT", f"{coin}-USDT-SWAP"} <= ids
        assert setup.plan.prices[coin].price_at(setup.start_ms) > 0
        assert f"{coin}-USDT-SWAP" in setup.plan.swaps
        assert setup.plan.book_shape(f"{coin}-USDT").levels >= 1
    assert setup.accounts[0].name == "main"
    assert setup.accounts[0].balances.trading["USDT"] == Decimal("100000")
    assert setup.duration_ms is not None and setup.duration_ms > 0


def test_calm_replays_real_history() -> None:
    from laicai.data.funding_history import history_for

    setup = load_scenario("calm").build()
    assert 8 <= len(setup.coins) <= 12
    btc = history_for("BTC")
    row = next(r for r in btc if r.ts_ms >= setup.start_ms)
    assert setup.plan.prices["BTC"].price_at(setup.start_ms) == row.mark_price
    assert setup.plan.swaps["BTC-USDT-SWAP"].funding.rate_at(setup.start_ms) == row.rate
    intervals = {t.funding.interval_hours_at(setup.start_ms) for t in setup.plan.swaps.values()}
    assert intervals == {4, 8}
    viewer = setup.account("viewer")
    assert viewer.can("read_only") and not viewer.can("trade")


@pytest.mark.parametrize("name", GENERATED)
def test_generated_scenarios_cover_the_legs(name: str) -> None:
    setup = load_scenario(name).build()
    start = setup.start_ms
    swaps = setup.plan.swaps
    negatives = [i for i, t in swaps.items() if t.funding.rate_at(start + 8 * HOUR) < 0]
    assert negatives, "a coin with negative funding"
    borrowable = {c for c in setup.coins if setup.plan.currency(c).borrow_limit > 0}
    assert any(i.removesuffix("-USDT-SWAP") in borrowable for i in negatives)
    intervals = {t.funding.interval_hours_at(start) for t in swaps.values()}
    assert {1, 4, 8} <= intervals


def test_default_account() -> None:
    setup = scenario_from_yaml(MINIMAL).build()
    (acct,) = setup.accounts
    assert acct == AccountSpec()
    assert (acct.name, acct.api_key, acct.secret_key, acct.passphrase, acct.perm) == (
        "main", "laicai-sim-key", "laicai-sim-secret", "laicai-sim-pass", "read_only,trade"
    )
    assert (acct.acct_lv, acct.pos_mode, acct.fee_tier) == (2, "net_mode", "VIP0")
    assert acct.balances.trading == {"USDT": Decimal("100000")} and acct.balances.funding == {}
    assert acct.fees == FEE_TIERS["VIP0"]
    assert (acct.fees.spot_maker, acct.fees.spot_taker) == (Decimal("0.0008"), Decimal("0.001"))
    assert (acct.fees.swap_maker, acct.fees.swap_taker) == (Decimal("0.0002"), Decimal("0.0005"))


def test_fee_tier_and_core_setup() -> None:
    text = MINIMAL + """
accounts:
  - fee_tier: VIP1
    balances: {trading: {USDT: 5000, BTC: 0.1}, funding: {USDT: 7}}
"""
    (acct,) = scenario_from_yaml(text).build().accounts
    assert acct.fees == FEE_TIERS["VIP1"]
    core = acct.to_setup()
    assert isinstance(core, AccountSetup)
    assert (core.name, core.fee_tier, core.acct_lv) == ("main", "VIP1", 2)
    assert core.pos_mode == "net_mode"
    (key,) = core.keys
    assert (key.api_key, key.secret_key, key.passphrase, key.perm) == (
        "laicai-sim-key", "laicai-sim-secret", "laicai-sim-pass", "read_only,trade"
    )
    assert core.trading == {"USDT": Decimal("5000"), "BTC": Decimal("0.1")}
    assert core.funding == {"USDT": Decimal("7")}


def test_instrument_overrides() -> None:
    setup = load_scenario("thin-book").build()
    ordi = setup.instrument("ORDI-USDT")
    assert ordi.min_sz == Decimal("1") and ordi.lot_sz == Decimal("0.01")
    text = MINIMAL + """
instruments:
  BTC-USDT-SWAP: {state: suspend, minSz: 1, lever: 20}
"""
    swap = scenario_from_yaml(text).build().instrument("BTC-USDT-SWAP")
    assert swap.inst_type == SWAP and swap.state == "suspend" and swap.min_sz == 1
    assert swap.to_okx()["state"] == "suspend" and swap.to_okx()["lever"] == "20"


def test_books_merge() -> None:
    setup = load_scenario("thin-book").build()
    spot, swap = setup.plan.book_shape("ORDI-USDT"), setup.plan.book_shape("ORDI-USDT-SWAP")
    assert swap.spread_bps == 60 and spot.spread_bps == 80
    assert spot.levels == swap.levels == 12
    assert spot.level_notional_usdt == 150 and swap.level_notional_usdt == 300


def test_build_is_deterministic_per_seed() -> None:
    scenario = load_scenario("squeeze")
    times = [scenario.start + k * 37_000 for k in range(2000)]
    a, b = scenario.build(seed=3), scenario.build(seed=3)
    pa = [a.plan.prices["BTC"].price_at(t) for t in times]
    pb = [b.plan.prices["BTC"].price_at(t) for t in reversed(times)][::-1]
    assert pa == pb
    fa = [a.plan.swaps["DOGE-USDT-SWAP"].funding.rate_at(t) for t in times[::100]]
    fb = [b.plan.swaps["DOGE-USDT-SWAP"].funding.rate_at(t) for t in times[::100]]
    assert fa == fb
    c = scenario.build(seed=4)
    assert pa != [c.plan.prices["BTC"].price_at(t) for t in times]
    assert c.seed == 4 and scenario.build().seed == scenario.seed


def _error(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        scenario_from_yaml(text, "test.yml")
    return str(info.value)


def test_unknown_top_level_key_named() -> None:
    msg = _error(MINIMAL + "startt: 1\n")
    assert "startt" in msg and "unknown key" in msg


def test_unknown_nested_key_named() -> None:
    text = MINIMAL.replace("vol: 0.4", "vol: 0.4, volatility: 2")
    msg = _error(text)
    assert "coins.BTC.price.random_walk.volatility" in msg
    msg = _error(MINIMAL + "accounts:\n  - name: a\n    balance: {}\n")
    assert "accounts[0].balance" in msg
    msg = _error(MINIMAL + "currencies:\n  USDT: {earn: 0.1}\n")
    assert "currencies.USDT.earn" in msg


def test_bad_values_named() -> None:
    assert "coins.BTC.price.random_walk.vol" in _error(MINIMAL.replace("vol: 0.4", "vol: -1"))
    bad_interval = MINIMAL + "    funding: {kind: constant, rate: 0.0001, interval_hours: 3}\n"
    assert "coins.BTC.funding.constant.interval_hours" in _error(bad_interval)
    bad_kind = MINIMAL.replace("random_walk", "brownian")
    assert "coins.BTC.price" in _error(bad_kind) and "brownian" in _error(bad_kind)
    assert "instruments.ETH-USDT" in _error(MINIMAL + "instruments:\n  ETH-USDT: {minSz: 1}\n")
    assert "fee_tier" in _error(MINIMAL + "accounts:\n  - fee_tier: VIP99\n")
    assert "perm" in _error(MINIMAL + "accounts:\n  - perm: read_only,godmode\n")
    msg = _error(MINIMAL + "accounts:\n  - name: a\n  - name: a\n    api_key: other\n")
    assert "duplicate name" in msg
    ev = MINIMAL + "    events:\n      - {kind: crash, at: 1h, pct: 20, duration: 5m}\n"
    assert "coins.BTC.events[0].crash.pct" in _error(ev)
    assert "start" in _error(MINIMAL.replace("2026-05-04T00:00:00Z", "yesterday"))
    assert "invalid YAML" in _error("coins: [")
    assert "price_bucket" in _error(MINIMAL + "price_bucket: 7s\n")
    assert "coins.btc: invalid key" in _error(MINIMAL.replace("BTC:", "btc:"))
    assert "coins.BTC.price: missing 'kind'" in _error(MINIMAL.replace("kind: random_walk, ", ""))


def test_replay_outside_the_data_is_an_error() -> None:
    text = MINIMAL.replace("{kind: random_walk, start: 78000, vol: 0.4}", "{kind: replay}")
    with pytest.raises(ValueError, match=r"coins\.BTC: replayed history"):
        scenario_from_yaml(text.replace("2026-05-04", "2027-05-04")).build()
    scenario_from_yaml(text).build()


def test_unknown_name_lists_builtins() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("no-such-scenario")
    msg = str(info.value)
    assert "no-such-scenario" in msg
    for name in builtin_scenarios():
        assert name in msg


def test_load_from_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.yml"
    path.write_text(MINIMAL)
    scenario = load_scenario(str(path))
    assert scenario.name == "mine"
    assert scenario.build(seed=9).plan.prices["BTC"].price_at(scenario.start) == Decimal("78000")
    bad = tmp_path / "bad.yml"
    bad.write_text(MINIMAL + "oops: 1\n")
    with pytest.raises(ScenarioError, match=r"bad\.yml.*oops"):
        load_scenario(bad)


def test_durations_and_timestamps() -> None:
    assert parse_duration("30m") == 30 * 60_000
    assert parse_duration("1h30m") == 90 * 60_000
    assert parse_duration("90s") == 90_000
    assert parse_duration("2d") == 2 * 86_400_000
    assert parse_duration("500ms") == 500
    assert parse_duration(1234) == 1234
    assert parse_duration("1.5h") == 5_400_000
    for bad in ("30 minutes", "-5m", "h", True):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert parse_timestamp("2026-05-04T00:00:00Z") == 1_777_852_800_000
    assert parse_timestamp("2026-05-04") == 1_777_852_800_000
    assert parse_timestamp(1_777_852_800_000) == 1_777_852_800_000
