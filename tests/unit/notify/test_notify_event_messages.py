"""Every BotEvent as a message, in Chinese and English: level, kind and what a trader needs
to read in it; and no secret survives into a message."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from laicai.domain.enums import Direction
from laicai.engine import events as engine_events
from laicai.engine.events import (
    BotEvent,
    BotStarted,
    BotStateChanged,
    BotStopped,
    EngineEvent,
    MarginLevelChanged,
    PnlBreakdown,
    PositionClosed,
    RiskAlert,
)
from laicai.execution import events as execution_events
from laicai.execution.events import (
    AccountClosedOut,
    CarryOpenFailed,
    CarryReset,
    ExecutionError,
    ExecutionEvent,
    NakedExposureAlert,
)
from laicai.notify.event_messages import RESET_ALARM_COUNT, format_event, formatted_types
from laicai.notify.message import RULE, Level, Message
from laicai.notify.preview import SAMPLE_TS, preview, sample_events
from laicai.notify.redaction import Redactor

CJK = re.compile(r"[\u4e00-\u9fff]")


def concrete_event_types() -> set[type]:
    found: set[type] = set()
    stack: list[type] = [EngineEvent, ExecutionEvent]
    while stack:
        cls = stack.pop()
        subclasses: list[type] = cls.__subclasses__()
        for sub in subclasses:
            module = {engine_events.__name__: engine_events,
                      execution_events.__name__: execution_events}.get(sub.__module__)
            # slots=True dataclasses leave their first, slot-less class object behind
            if module is not None and getattr(module, sub.__name__, None) is sub:
                found.add(sub)
            stack.append(sub)
    return found


def test_every_event_type_has_its_own_message() -> None:
    missing = concrete_event_types() - formatted_types()
    assert not missing, f"no notification text for {sorted(t.__name__ for t in missing)}"


def test_the_samples_cover_every_event_type() -> None:
    assert {type(e) for e in sample_events()} == formatted_types()


# type -> (level, kind, Chinese needles, English needles), for the sample of that type
EXPECTED: dict[str, tuple[Level, str, list[str], list[str]]] = {
    "BotStarted": (Level.INFO, "started",
                   ["套利机器人已启动", "模式：模拟盘", "权益：20,000.00 USDT", "崩溃恢复"],
                   ["Bot started", "Mode: paper", "Equity: 20,000.00 USDT",
                    "recovered after a crash: 1"]),
    "BotStateChanged": (Level.INFO, "state", ["状态 IDLE → SCANNING"],
                        ["State IDLE → SCANNING"]),
    "CarryOpened": (Level.INFO, "open",
                    ["开仓 BTC #12", "正向（空永续 + 多现货）", "现货价：65,432.10",
                     "永续价：65,460.00", "资金费率：0.0120%", "净年化：15.23%",
                     "手续费：9.82 USDT"],
                    ["Opened BTC #12", "SHORT (short perp + long spot)", "Size: 0.15",
                     "Perp premium: +0.043%", "Net APR: 15.23%"]),
    "CarryOpenFailed": (Level.WARN, "open_failed", ["开仓失败 DOGE #13", "已回滚"],
                        ["Open failed DOGE #13", "unwound: both legs are flat"]),
    "LegRepaired": (Level.WARN, "leg_repaired", ["单腿修复 ETH #14", "腿：永续", "动作：补齐"],
                    ["Leg repaired ETH #14", "Leg: perp", "Action: completed"]),
    "NakedExposureAlert": (Level.ERROR, "naked",
                           ["裸露敞口 ETH #14", "裸露敞口：1,380.55 USDT", "现货：2", "永续：1.6"],
                           ["naked exposure ETH #14", "Naked exposure: 1,380.55 USDT",
                            "Spot: 2", "Perp: 1.6", "Detail: perp order 51008"]),
    "HedgeRebalanced": (Level.INFO, "rebalance", ["对冲再平衡 BTC #12", "调整数量：-0.0012"],
                        ["Hedge rebalanced BTC #12", "Adjusted by: -0.0012",
                         "Reason: perp size drifted"]),
    "MarginLevelChanged": (Level.WARN, "margin_level",
                           ["保证金档位 BTC #12", "正常 → 需补保证金", "保证金率：21.00%",
                            "OKX 保证金率：950.00%"],
                           ["Margin level BTC #12: ok → top-up", "Margin ratio: 21.00%",
                            "OKX mgnRatio: 950.00%"]),
    "MarginToppedUp": (Level.WARN, "topup",
                       ["补充保证金 BTC #12", "金额：500.00 USDT", "来源：资金账户"],
                       ["Margin topped up BTC #12", "Amount: 500.00 USDT",
                        "From: funding account", "Margin ratio: 27.00%"]),
    "ProfitSwept": (Level.INFO, "sweep", ["利润划转 BTC #12", "金额：320.50 USDT"],
                    ["Profit swept BTC #12", "Amount: 320.50 USDT", "Margin ratio: 41.00%"]),
    "CarryReset": (Level.ERROR, "reset",
                   ["仓位重置 BTC #12", "本次成本：18.40 USDT", "累计重置次数：3", "已重置 3 次"],
                   ["RESET BTC #12", "Cost of this reset: 18.40 USDT", "Resets so far: 3",
                    "reset 3 times: costs are eating the funding"]),
    "RedemptionDelayed": (Level.WARN, "redemption_delayed",
                          ["Earn 赎回延迟 BTC #12", "已等待：95 秒"],
                          ["Earn redemption delayed BTC #12", "Waited: 95 s", "Policy: wait"]),
    "ExecutionError": (Level.ERROR, "error",
                       ["执行错误 BTC #12", "操作：close", "clOrdId: lc12c1p"],
                       ["Execution error BTC #12", "Operation: close",
                        "Error: timeout placing the perp order"]),
    "BreakerTripped": (Level.ERROR, "breaker", ["熔断触发", "原因：3 losing closes"],
                       ["Circuit breaker tripped", "Reason: 3 losing closes in a row"]),
    "EntriesPaused": (Level.WARN, "paused",
                      ["暂停新开仓", "直到：2026-01-02 12:00 UTC", "操作者：风控"],
                      ["Entries paused", "Until: 2026-01-02 12:00 UTC", "By: risk guard"]),
    "EntriesResumed": (Level.INFO, "resumed", ["恢复新开仓", "操作者：操作员"],
                       ["Entries resumed", "By: operator"]),
    "FundingBooked": (Level.INFO, "funding", ["资金费入账 BTC #12", "金额：+2.36 USDT"],
                      ["Funding booked BTC #12", "Amount: +2.36 USDT"]),
    "RiskAlert": (Level.WARN, "risk_alert", ["风控告警 #12", "OKX mgnRatio 3.1"],
                  ["Risk alert #12", "OKX mgnRatio 3.1 under the 5.0 floor"]),
    "DecisionLogged": (Level.INFO, "decision", ["空跑：将会 开仓", "SHORT SOL 25"],
                       ["Dry run: would open", "SHORT SOL 25 net APR 18.2%"]),
    "CarryClosed": (Level.INFO, "carry_closed", ["两腿已平 BTC #12", "盈亏：+24.87 USDT"],
                    ["Legs closed BTC #12", "PnL: +24.87 USDT", "Spot price: 66,001.20"]),
    "PositionClosed": (Level.INFO, "close",
                       ["平仓 BTC-USDT-SWAP #12 +24.87 USDT", "资金费：+41.25", "Earn 收益：+3.10",
                        "基差：-6.40", "手续费：-13.08", "借币利息：0.00", "合计：+24.87 USDT",
                        "持有：3天4.5小时", "重置次数：3"],
                       ["Closed BTC-USDT-SWAP #12 +24.87 USDT", "Funding: +41.25",
                        "Earn: +3.10", "Basis: -6.40", "Fees: -13.08", "Borrow: 0.00",
                        "Total: +24.87 USDT", "Held: 3d 4.5h", "Resets: 3"]),
    "MarginTransferred": (Level.INFO, "margin_transfer",
                          ["补充保证金 BTC #12", "金额：500.00 USDT", "funding → margin"],
                          ["Margin top-up BTC #12", "Amount: 500.00 USDT (requested 500.00)",
                           "Transferred: 500.00 USDT funding → margin", "Margin mode: cross"]),
    "LegRebalanced": (Level.INFO, "leg_rebalanced",
                      ["单腿缩减 BTC #12", "缩减数量：0.0012", "现货 0.1488 / 永续 0.1488"],
                      ["Leg trimmed BTC #12", "Leg: spot", "Trimmed by: 0.0012",
                       "Now: spot 0.1488 / perp 0.1488", "Fees: 0.08 USDT"]),
    "AccountClosedOut": (Level.WARN, "closed_out", ["全部平仓完成：账户已清空", "closed 2 carries"],
                         ["Close-all finished: the account is flat", "closed 2 carries",
                          "repaid 0 loans"]),
    "BotStopped": (Level.WARN, "stopped", ["套利机器人已手动停止", "原因：operator pressed Ctrl-C"],
                   ["Bot stopped by the operator", "Reason: operator pressed Ctrl-C"]),
    "DailyReport": (Level.WARN, "daily",
                    ["日报 2026-01-01", "权益：20,123.45 USDT (+123.45)", "重置 1",
                     "合计：+24.87 USDT"],
                    ["Daily report 2026-01-01", "Equity: 20,123.45 USDT (+123.45)",
                     "opened 1 · closed 1 · resets 1 · alerts 2", "Total: +24.87 USDT"]),
}


def test_the_table_covers_every_sample() -> None:
    assert set(EXPECTED) == {type(e).__name__ for e in sample_events()}


@pytest.mark.parametrize("event", sample_events(), ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_message_of_each_event(event: BotEvent, lang: str) -> None:
    level, kind, zh, en = EXPECTED[type(event).__name__]
    msg = format_event(event, "zh" if lang == "zh" else "en")
    text = msg.render()
    assert msg.level is level
    assert msg.kind == kind
    assert msg.ts == event.ts
    assert level.icon in msg.headline
    for needle in zh if lang == "zh" else en:
        assert needle in text, f"{needle!r} not in\n{text}"
    if lang == "zh":
        assert CJK.search(msg.title)
    else:
        assert not CJK.search(text), text


def test_icons() -> None:
    assert [lv.icon for lv in Level] == ["✅", "⚠️", "🚨"]
    assert Level.parse("warning") is Level.WARN
    assert Level.parse("error") is Level.ERROR
    assert Level.parse("bogus") is Level.WARN


def test_reset_is_highlighted_and_escalates_with_the_count() -> None:
    first = format_event(CarryReset(SAMPLE_TS, 5, "ETH", 1, D("7.5"), D("2")), "en")
    assert first.highlight
    assert first.level is Level.WARN
    assert first.render().splitlines()[:3] == [RULE, "⚠️ ‼️ RESET ETH #5", RULE]
    alarm = format_event(CarryReset(SAMPLE_TS, 5, "ETH", RESET_ALARM_COUNT, D("7.5"), D("2")),
                         "en")
    assert alarm.level is Level.ERROR


def test_losing_close_is_a_warning_and_the_lines_add_up() -> None:
    b = PnlBreakdown(funding=D("5"), earn=D("1"), basis=D("-9.5"), fees=D("3.25"),
                     borrow=D("0.75"))
    msg = format_event(PositionClosed(SAMPLE_TS, 3, "ETH", Direction.LONG, "stop", D("2"), b),
                       "en")
    assert msg.level is Level.WARN
    assert msg.title == "Closed ETH #3 -7.50 USDT"
    text = msg.render()
    assert "Direction: LONG (long perp + borrowed short spot)" in text
    parts = [D(line.split(": ")[1]) for line in msg.lines
             if line.split(":")[0] in ("Funding", "Earn", "Basis", "Fees", "Borrow")]
    assert sum(parts) == b.total == D("-7.50")


def test_margin_rungs_map_to_levels() -> None:
    def level(new: str) -> Level:
        return format_event(MarginLevelChanged(SAMPLE_TS, 1, "BTC", "OK", new), "en").level

    assert [level(x) for x in ("SWEEP", "OK", "TOPUP", "RESET", "EMERGENCY")] == [
        Level.INFO, Level.INFO, Level.WARN, Level.WARN, Level.ERROR]


def test_state_changes_to_alarm_states_are_warnings() -> None:
    assert format_event(BotStateChanged(SAMPLE_TS, "IDLE", "PAUSED"), "en").level is Level.WARN
    assert format_event(BotStateChanged(SAMPLE_TS, "IDLE", "MANAGING"), "en").level is Level.INFO


def test_unplanned_stop_and_unwound_failure_are_errors() -> None:
    stop = format_event(BotStopped(SAMPLE_TS, "InvariantViolation: legs apart"), "zh")
    assert (stop.level, stop.title) == (Level.ERROR, "套利机器人已停止")
    failed = format_event(CarryOpenFailed(SAMPLE_TS, 9, "SOL", "timeout", False), "en")
    assert failed.level is Level.ERROR
    assert "NOT fully unwound" in failed.render()


def test_close_all_that_left_positions_open_is_an_error() -> None:
    msg = format_event(AccountClosedOut(SAMPLE_TS, 0, "*", False, "BTC perp still open\n"), "en")
    assert (msg.level, msg.title) == (Level.ERROR, "Close-all finished: NOT flat!")
    assert msg.lines == ("BTC perp still open",)


def test_start_up_mentions_dry_run() -> None:
    msg = format_event(BotStarted(SAMPLE_TS, "live", True, D("1000")), "zh")
    assert "模式：实盘（空跑：不下单）" in msg.render()


def test_coalescing_keys_separate_what_must_not_be_merged() -> None:
    a = format_event(NakedExposureAlert(SAMPLE_TS, 1, "BTC", D(1), D(1), D(0)), "en")
    b = format_event(NakedExposureAlert(SAMPLE_TS, 2, "BTC", D(1), D(1), D(0)), "en")
    assert a.key and b.key and a.key != b.key
    topup = format_event(MarginLevelChanged(SAMPLE_TS, 1, "BTC", "OK", "TOPUP"), "en")
    emergency = format_event(MarginLevelChanged(SAMPLE_TS, 1, "BTC", "TOPUP", "EMERGENCY"),
                             "en")
    assert topup.key != emergency.key  # an escalation is never hidden in a ×N summary


@dataclass(frozen=True, slots=True)
class FutureEvent(EngineEvent):
    what: str
    position_id: int | None = None


def test_an_event_without_a_formatter_still_gets_a_message() -> None:
    msg = format_event(FutureEvent(SAMPLE_TS, "something new", 4), "en")
    assert msg.title == "Event FutureEvent"
    assert "what: something new" in msg.lines
    assert msg.position_id == 4


SECRET = "s3cr3t-Api_Key+/="


@pytest.mark.parametrize(
    "event",
    [
        ExecutionError(SAMPLE_TS, 1, "BTC", "open", f"auth failed for {SECRET}",
                       {"request": f"apiKey={SECRET}"}),
        RiskAlert(SAMPLE_TS, "ERROR", f"key {SECRET} rejected"),
        NakedExposureAlert(SAMPLE_TS, 1, "BTC", D(5), D(1), D(0), detail=f"x {SECRET} y"),
        CarryOpenFailed(SAMPLE_TS, 1, "BTC", f"signature with {SECRET} invalid", True),
        BotStopped(SAMPLE_TS, f"crash: {SECRET}"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_secret_in_an_event_is_redacted(event: BotEvent) -> None:
    redact = Redactor([SECRET])
    for lang in ("zh", "en"):
        text = format_event(event, lang).redacted(redact).render()
        assert SECRET not in text
        assert "***" in text


def test_redaction_covers_encoded_secrets_and_token_shapes() -> None:
    redact = Redactor([SECRET])
    assert redact("a s3cr3t-Api_Key%2B%2F%3D b") == "a *** b"
    token = "7654321:AAH9x_Ykz-0123456789abcdefghijklmnopq"
    assert token not in redact(f"GET https://api.telegram.org/bot{token}/getMe")
    assert redact("https://oapi.dingtalk.com/robot/send?access_token=abc123&sign=xy%2B") == (
        "https://oapi.dingtalk.com/robot/send?access_token=***&sign=***")
    assert redact("nothing to hide: 65,432.10") == "nothing to hide: 65,432.10"


def test_message_render_and_repeat() -> None:
    msg = Message(Level.WARN, "title", ("a", "b"))
    assert msg.render() == "⚠️ title\na\nb"
    again = msg.repeated(5, "note")
    assert again.render() == "⚠️ title ×5\na\nb\nnote"
    assert replace(msg, lines=()).render() == "⚠️ title"


def test_preview_renders_every_sample_in_both_languages() -> None:
    for lang in ("zh", "en"):
        text = preview(lang)
        assert text.count("\n\n") == len(sample_events()) - 1


def test_naive_and_aware_timestamps_both_work() -> None:
    ts = datetime(2026, 1, 2, 8, 0)
    assert format_event(BotStateChanged(ts, "A", "B"), "en").ts == ts
    aware = datetime(2026, 1, 2, 8, 0, tzinfo=UTC)
    assert format_event(BotStateChanged(aware, "A", "B"), "en").ts == aware
