"""evaluate_position / evaluate_positions / approve_entry: the guards together, merged by
priority (emergency close > reset > close > top-up > rebalance > sweep)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from risk_builders import NOW_MS, PARAMS, account, carry, opportunity

from laicai.risk import (
    Alert,
    AlertLevel,
    Approval,
    BreakerState,
    BreakerStatus,
    CloseCarry,
    Command,
    EntryDepth,
    Leg,
    MarginLevel,
    PauseEntries,
    PriceSample,
    Rebalance,
    ResetCarry,
    SweepProfit,
    TopUpMargin,
    TransferSource,
    TripBreaker,
    Veto,
    VetoCode,
    approve_entry,
    assess_position,
    evaluate_position,
    evaluate_positions,
)
from laicai.risk.priority import merge_position, sort_commands

D = Decimal
T, F = TransferSource.TRADING, TransferSource.FUNDING
ARMED = BreakerState()


def kinds(commands: list[Command]) -> list[type]:
    return [type(c) for c in commands]


def test_a_healthy_carry_needs_nothing() -> None:
    assert evaluate_position(carry(), account(), PARAMS, NOW_MS) == []


def test_top_up_runs_before_the_rebalance() -> None:
    view = carry(perp_equity_usdt=D(23_400), spot_base=D("1.005"))
    assert evaluate_position(view, account(), PARAMS, NOW_MS) == [
        TopUpMargin(7, D(6_600), T),
        Rebalance(7, Leg.SPOT, D("-0.005"), urgent=True, reason=(
            "spot 1.005 vs perp 1: deviation 0.5000%, naked 300.00 USDT")),
    ]


def test_rebalance_runs_before_the_sweep() -> None:
    view = carry(perp_equity_usdt=D(42_000), spot_base=D("1.005"))
    assert kinds(evaluate_position(view, account(), PARAMS, NOW_MS)) == [Rebalance, SweepProfit]


def test_a_reset_supersedes_transfers_and_rebalances() -> None:
    view = carry(perp_equity_usdt=D(8_000), spot_base=D("1.005"))
    (reset,) = evaluate_position(view, account(), PARAMS, NOW_MS)
    assert isinstance(reset, ResetCarry)


def test_an_emergency_close_beats_everything_and_names_every_reason() -> None:
    view = carry(okx_mgn_ratio=D(2), total_pnl_usdt=D(-2_000))
    (close,) = evaluate_position(view, account(), PARAMS, NOW_MS)
    assert isinstance(close, CloseCarry) and close.emergency
    assert close.reason.startswith("emergency: margin ratio") and "stop_loss" in close.reason


def test_an_exit_close_wins_over_a_reset_so_the_carry_is_not_reopened() -> None:
    view = carry(perp_equity_usdt=D(8_000), funding_rate=D("-0.001"))
    (close,) = evaluate_position(view, account(), PARAMS, NOW_MS)
    assert isinstance(close, CloseCarry) and not close.emergency
    assert close.reason.startswith("funding_flipped") and "reset threshold" in close.reason


def test_the_emergency_flag_closes_everything_now() -> None:
    (close,) = evaluate_position(carry(), account(), PARAMS, NOW_MS, emergency=True)
    assert isinstance(close, CloseCarry) and close.emergency


def test_alerts_survive_a_terminal_command() -> None:
    view = carry(spot_base=D("1.005"), naked_since_ms=NOW_MS - 60_000, total_pnl_usdt=D(-1_800))
    assert kinds(evaluate_position(view, account(), PARAMS, NOW_MS)) == [CloseCarry, Alert]


def test_the_assessment_reports_the_level_to_remember() -> None:
    view = carry(perp_equity_usdt=D(23_400))
    assessment = assess_position(view, account(), PARAMS, NOW_MS)
    assert assessment.margin_level is MarginLevel.TOPUP
    assert assessment.funds_left.trading_usdt == D(3_400)


def test_priority_order_of_every_kind() -> None:
    mixed: list[Command] = [
        Alert(AlertLevel.INFO, "x"), PauseEntries("p", None), TripBreaker("t"),
        SweepProfit(1, D(1)), Rebalance(1, Leg.SPOT, D(-1)),
        Rebalance(1, Leg.PERP, D(-1), urgent=True), TopUpMargin(1, D(1), T),
        CloseCarry(1, "c"), ResetCarry(1, "r"), CloseCarry(1, "e", emergency=True),
    ]
    assert [type(c).__name__ for c in sort_commands(mixed)] == [
        "CloseCarry", "ResetCarry", "CloseCarry", "TopUpMargin", "Rebalance", "Rebalance",
        "SweepProfit", "TripBreaker", "PauseEntries", "Alert"]
    merged = merge_position(mixed)
    assert kinds(merged) == [CloseCarry, TripBreaker, PauseEntries, Alert]
    first = merged[0]
    assert isinstance(first, CloseCarry) and first.emergency and first.reason == "e; r; c"


def test_a_lone_reset_keeps_its_own_reason() -> None:
    assert merge_position([TopUpMargin(1, D(5), T), ResetCarry(1, "r")]) == [ResetCarry(1, "r")]


def test_free_usdt_goes_to_the_neediest_carry_first() -> None:
    a = carry(position_id=1, perp_equity_usdt=D(22_000))  # 0.3667: needs 8 000
    b = carry(position_id=2, perp_equity_usdt=D(21_000))  # 0.35: needs 9 000
    c = carry(position_id=3, perp_equity_usdt=D(23_000))  # 0.3833: needs 7 000, none left
    commands = evaluate_positions([a, b, c], account(), PARAMS, NOW_MS)
    assert commands == [
        ResetCarry(3, commands[0].reason),  # type: ignore[union-attr]
        TopUpMargin(2, D(9_000), T),
        TopUpMargin(1, D(1_000), T),
        TopUpMargin(1, D(5_000), F),
    ]
    assert "no free USDT" in commands[0].reason  # type: ignore[union-attr]


def test_a_superseded_top_up_spends_nothing() -> None:
    closing = carry(position_id=1, perp_equity_usdt=D(18_000), total_pnl_usdt=D(-1_800))
    other = carry(position_id=2, perp_equity_usdt=D(18_500))
    commands = evaluate_positions([closing, other], account(), PARAMS, NOW_MS)
    assert commands[0] == CloseCarry(1, commands[0].reason)  # type: ignore[union-attr]
    assert commands[1:] == [TopUpMargin(2, D(10_000), T), TopUpMargin(2, D(1_500), F)]


# --- approve_entry ---------------------------------------------------------------------------

def approve(**kw: object) -> Approval | Veto:
    args: dict[str, object] = {"opportunity": opportunity(), "account": account(),
                               "params": PARAMS, "now_ms": NOW_MS, "breaker": ARMED}
    args.update(kw)
    return approve_entry(**args)  # type: ignore[arg-type]


def code(verdict: Approval | Veto) -> VetoCode | None:
    return verdict.code if isinstance(verdict, Veto) else None


def test_a_good_candidate_is_approved() -> None:
    assert approve() == Approval(D("0.1"), D(9_000), D(6_000), D(1))


def test_a_tripped_breaker_vetoes_first() -> None:
    tripped = BreakerState(status=BreakerStatus.TRIPPED, reason="3 losses")
    assert code(approve(breaker=tripped, opportunity=opportunity(accepted=False))) is (
        VetoCode.BREAKER_TRIPPED)


def test_a_pause_vetoes_until_it_ends() -> None:
    assert code(approve(pause=PauseEntries("ws", NOW_MS + 1))) is VetoCode.ENTRIES_PAUSED
    assert code(approve(pause=PauseEntries("ws", NOW_MS))) is None
    assert code(approve(pause=PauseEntries("operator", None))) is VetoCode.ENTRIES_PAUSED


def test_a_spike_vetoes() -> None:
    spikes = [PriceSample(NOW_MS - 5_000, D(60_000)), PriceSample(NOW_MS - 1_000, D(62_000))]
    veto = approve(spikes=spikes)
    assert code(veto) is VetoCode.PRICE_SPIKE
    assert f"until {NOW_MS - 1_000 + 60_000}" in veto.reason  # type: ignore[union-attr]


def test_limits_then_liquidity() -> None:
    assert code(approve(account=account(open_positions_count=5))) is VetoCode.MAX_POSITIONS
    assert code(approve(opportunity=opportunity(perp_entry_slippage=D("0.01")))) is (
        VetoCode.SLIPPAGE)
    assert code(approve(depth=EntryDepth(D("0.01"), D(1)))) is VetoCode.DEPTH


def test_a_scaled_approval_passes_through() -> None:
    verdict = approve(params=replace(PARAMS, max_position_value=D(4_500)))
    assert isinstance(verdict, Approval) and verdict.scale == D("0.75")
