"""Every :data:`~laicai.engine.events.BotEvent` as a :class:`~laicai.notify.message.Message`, in
Chinese (default) or English.

:func:`format_event` never raises for a well-formed event: an event type without a formatter
of its own (one added to the engine later) still gets a generic message naming its fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from laicai.engine.events import (
    BotEvent,
    BotStarted,
    BotStateChanged,
    BotStopped,
    BreakerTripped,
    DailyReport,
    DecisionLogged,
    EntriesPaused,
    EntriesResumed,
    FundingBooked,
    HedgeRebalanced,
    MarginLevelChanged,
    MarginToppedUp,
    PnlBreakdown,
    PositionClosed,
    ProfitSwept,
    RiskAlert,
)
from laicai.execution.events import (
    AccountClosedOut,
    CarryClosed,
    CarryOpened,
    CarryOpenFailed,
    CarryReset,
    ExecutionError,
    LegRebalanced,
    LegRepaired,
    MarginTransferred,
    NakedExposureAlert,
    RedemptionDelayed,
)
from laicai.notify import numbers as n
from laicai.notify.language import Tr
from laicai.notify.message import Lang, Level, Message

RESET_ALARM_COUNT = 3
"""From this many resets of one carry a reset message is an ERROR, not a WARN: each reset pays
a full round trip, and repeated resets eat the funding the carry was opened for."""

_ALARM_STATES = frozenset({"PAUSED", "EMERGENCY", "STOPPED"})

_E = TypeVar("_E")
_Formatter = Callable[[Any, Tr], Message]
_FORMATTERS: dict[type, _Formatter] = {}


def _formats(cls: type[_E]) -> Callable[[Callable[[_E, Tr], Message]], Callable[[_E, Tr], Message]]:
    def register(fn: Callable[[_E, Tr], Message]) -> Callable[[_E, Tr], Message]:
        _FORMATTERS[cls] = fn
        return fn

    return register


def formatted_types() -> frozenset[type]:
    """The event types with a formatter of their own."""
    return frozenset(_FORMATTERS)


def format_event(event: BotEvent, lang: Lang = "zh") -> Message:
    """The notification for ``event`` in ``lang``."""
    tr = Tr(lang)
    fn = next((_FORMATTERS[c] for c in type(event).__mro__ if c in _FORMATTERS), _generic)
    return dataclasses.replace(fn(event, tr), ts=getattr(event, "ts", None))


def _where(symbol: str, position_id: int | None) -> str:
    return f"{symbol} #{position_id}" if position_id is not None else symbol


def breakdown_lines(b: PnlBreakdown, tr: Tr) -> list[str]:
    """PnL by source; costs are shown negative, so the lines add up to the total."""
    return [
        tr.field("资金费", "Funding", n.usdt(b.funding, signed=True)),
        tr.field("Earn 收益", "Earn", n.usdt(b.earn, signed=True)),
        tr.field("基差", "Basis", n.usdt(b.basis, signed=True)),
        tr.field("手续费", "Fees", n.usdt(-b.fees, signed=True)),
        tr.field("借币利息", "Borrow", n.usdt(-b.borrow, signed=True)),
        tr.field("合计", "Total", n.usdt(b.total, signed=True) + " USDT"),
        tr.field("滑点（已含于基差）", "Slippage (inside basis)", n.usdt(b.slippage)),
    ]


# --- execution -------------------------------------------------------------------------------


@_formats(CarryOpened)
def _opened(e: CarryOpened, tr: Tr) -> Message:
    notional = e.base_qty * e.spot_px
    spread = (e.perp_px - e.spot_px) / e.spot_px if e.spot_px else None
    return Message(
        Level.INFO,
        tr("开仓", "Opened") + f" {_where(e.symbol, e.position_id)}",
        (
            tr.field("方向", "Direction", tr.direction(e.direction)),
            tr.field("数量", "Size", f"{n.qty(e.base_qty)} (≈ {n.usdt(notional)} USDT)"),
            tr.field("现货价", "Spot price", n.price(e.spot_px)),
            tr.field("永续价", "Perp price", n.price(e.perp_px)),
            tr.field("价差", "Perp premium", n.pct(spread, 3, signed=True)),
            tr.field("资金费率", "Funding rate", n.funding_rate(e.funding_rate)),
            tr.field("净年化", "Net APR", n.pct(e.net_apr)),
            tr.field("手续费", "Fees", n.usdt(e.fees_usdt) + " USDT"),
        ),
        kind="open",
        position_id=e.position_id,
    )


@_formats(CarryOpenFailed)
def _open_failed(e: CarryOpenFailed, tr: Tr) -> Message:
    unwound = (
        tr("已回滚，两腿均已平掉", "unwound: both legs are flat")
        if e.unwound
        else tr("未完全回滚：检查裸露敞口！", "NOT fully unwound: check the naked exposure!")
    )
    return Message(
        Level.WARN if e.unwound else Level.ERROR,
        tr("开仓失败", "Open failed") + f" {_where(e.symbol, e.position_id)}",
        (tr.field("原因", "Reason", e.reason), unwound),
        kind="open_failed",
        position_id=e.position_id,
    )


@_formats(LegRepaired)
def _leg_repaired(e: LegRepaired, tr: Tr) -> Message:
    actions = {
        "complete": tr("补齐", "completed"),
        "trim": tr("削减", "trimmed"),
        "flatten": tr("清平", "flattened"),
    }
    return Message(
        Level.WARN,
        tr("单腿修复", "Leg repaired") + f" {_where(e.symbol, e.position_id)}",
        (
            tr.field("腿", "Leg", tr.leg(e.leg)),
            tr.field("动作", "Action", actions.get(e.action, e.action)),
            tr.field("数量", "Quantity", n.qty(e.base_qty)),
        ),
        kind="leg_repaired",
        position_id=e.position_id,
        key=f"leg:{e.position_id}:{e.leg}:{e.action}",
    )


@_formats(NakedExposureAlert)
def _naked(e: NakedExposureAlert, tr: Tr) -> Message:
    lines = [
        tr.field("裸露敞口", "Naked exposure", n.usdt(e.naked_usdt) + " USDT"),
        tr.field("现货", "Spot", n.qty(e.spot_base)),
        tr.field("永续", "Perp", n.qty(e.perp_base)),
    ]
    if e.detail:
        lines.append(tr.field("详情", "Detail", e.detail))
    return Message(
        Level.ERROR,
        tr("对冲失衡：裸露敞口", "Hedge broken: naked exposure")
        + f" {_where(e.symbol, e.position_id)}",
        tuple(lines),
        kind="naked",
        position_id=e.position_id,
        key=f"naked:{e.position_id}",
    )


@_formats(CarryReset)
def _reset(e: CarryReset, tr: Tr) -> Message:
    alarm = e.resets_count >= RESET_ALARM_COUNT
    lines = [
        tr.field("本次成本", "Cost of this reset", n.usdt(e.cost_usdt) + " USDT"),
        tr.field("累计重置次数", "Resets so far", str(e.resets_count)),
        tr.field("数量", "Size", n.qty(e.base_qty)),
        tr("重置 = 平仓后按现价重开，付出一整轮手续费与滑点",
           "a reset closes and reopens at current prices: a full round trip of costs"),
    ]
    if alarm:
        lines.append(tr(f"‼️ 已重置 {e.resets_count} 次：成本正在吞噬资金费收益",
                        f"‼️ reset {e.resets_count} times: costs are eating the funding"))
    return Message(
        Level.ERROR if alarm else Level.WARN,
        "‼️ " + tr("仓位重置", "RESET") + f" {_where(e.symbol, e.position_id)}",
        tuple(lines),
        kind="reset",
        position_id=e.position_id,
        highlight=True,
    )


@_formats(CarryClosed)
def _carry_closed(e: CarryClosed, tr: Tr) -> Message:
    return Message(
        Level.INFO,
        tr("两腿已平", "Legs closed") + f" {_where(e.symbol, e.position_id)}",
        (
            tr.field("原因", "Reason", e.reason),
            tr.field("现货价", "Spot price", n.price(e.spot_px)),
            tr.field("永续价", "Perp price", n.price(e.perp_px)),
            tr.field("盈亏", "PnL", n.usdt(e.pnl_usdt, signed=True) + " USDT"),
            tr.field("手续费", "Fees", n.usdt(e.fees_usdt) + " USDT"),
        ),
        kind="carry_closed",
        position_id=e.position_id,
    )


@_formats(RedemptionDelayed)
def _redemption(e: RedemptionDelayed, tr: Tr) -> Message:
    return Message(
        Level.WARN,
        tr("Earn 赎回延迟", "Earn redemption delayed") + f" {_where(e.symbol, e.position_id)}",
        (
            tr.field("币种", "Currency", e.ccy),
            tr.field("已等待", "Waited", tr.seconds(e.waited_s)),
            tr.field("处理策略", "Policy", e.policy),
        ),
        kind="redemption_delayed",
        position_id=e.position_id,
        key=f"redeem:{e.position_id}:{e.ccy}",
    )


@_formats(ExecutionError)
def _error(e: ExecutionError, tr: Tr) -> Message:
    lines = [tr.field("操作", "Operation", e.operation), tr.field("错误", "Error", e.message)]
    lines.extend(f"{k}: {v}" for k, v in sorted(e.details.items()))
    return Message(
        Level.ERROR,
        tr("执行错误", "Execution error") + f" {_where(e.symbol, e.position_id)}",
        tuple(lines),
        kind="error",
        position_id=e.position_id,
        key=f"error:{e.position_id}:{e.operation}",
    )


@_formats(MarginTransferred)
def _margin_transferred(e: MarginTransferred, tr: Tr) -> Message:
    action = {"top_up": tr("补充保证金", "Margin top-up"),
              "sweep": tr("利润划转", "Margin sweep")}.get(e.action, e.action)
    return Message(
        Level.INFO,
        action + f" {_where(e.symbol, e.position_id)}",
        (
            tr.field("金额", "Amount", n.usdt(e.amount_usdt) + " USDT"
                     + tr(f"（请求 {n.usdt(e.requested_usdt)}）",
                          f" (requested {n.usdt(e.requested_usdt)})")),
            tr.field("划转", "Transferred", f"{n.usdt(e.transferred_usdt)} USDT "
                     f"{e.source} → {e.destination}"),
            tr.field("保证金模式", "Margin mode", e.margin_mode),
        ),
        kind="margin_transfer",
        position_id=e.position_id,
    )


@_formats(LegRebalanced)
def _leg_rebalanced(e: LegRebalanced, tr: Tr) -> Message:
    return Message(
        Level.INFO,
        tr("单腿缩减", "Leg trimmed") + f" {_where(e.symbol, e.position_id)}",
        (
            tr.field("腿", "Leg", tr.leg(e.leg)),
            tr.field("缩减数量", "Trimmed by", n.qty(e.base_qty)),
            tr.field("调整后", "Now", tr(f"现货 {n.qty(e.spot_base)} / 永续 {n.qty(e.perp_base)}",
                                         f"spot {n.qty(e.spot_base)} / perp "
                                         f"{n.qty(e.perp_base)}")),
            tr.field("手续费", "Fees", n.usdt(e.fees_usdt) + " USDT"),
        ),
        kind="leg_rebalanced",
        position_id=e.position_id,
    )


@_formats(AccountClosedOut)
def _closed_out(e: AccountClosedOut, tr: Tr) -> Message:
    title = (tr("全部平仓完成：账户已清空", "Close-all finished: the account is flat") if e.flat
             else tr("全部平仓结束：仍有未平头寸！", "Close-all finished: NOT flat!"))
    return Message(
        Level.WARN if e.flat else Level.ERROR,
        title,
        tuple(line for line in e.summary.splitlines() if line.strip()),
        kind="closed_out",
    )


# --- engine ----------------------------------------------------------------------------------


@_formats(BotStarted)
def _started(e: BotStarted, tr: Tr) -> Message:
    lines = [
        tr.field("模式", "Mode", tr.mode(e.mode, e.dry_run)),
        tr.field("权益", "Equity", n.usdt(e.equity_usdt) + " USDT"),
        tr.field("持仓", "Open positions", str(e.open_positions)),
    ]
    if e.recovered:
        lines.append(tr.field("崩溃恢复处理的仓位", "Positions recovered after a crash",
                              str(e.recovered)))
    return Message(Level.INFO, tr("套利机器人已启动", "Bot started"), tuple(lines),
                   kind="started")


@_formats(BotStateChanged)
def _state(e: BotStateChanged, tr: Tr) -> Message:
    lines = (tr.field("原因", "Reason", e.reason),) if e.reason else ()
    return Message(
        Level.WARN if e.new.upper() in _ALARM_STATES else Level.INFO,
        tr("状态", "State") + f" {e.old} → {e.new}",
        lines,
        kind="state",
        key=f"state:{e.old}:{e.new}",
    )


@_formats(BotStopped)
def _stopped(e: BotStopped, tr: Tr) -> Message:
    title = (tr("套利机器人已手动停止", "Bot stopped by the operator") if e.manual
             else tr("套利机器人已停止", "Bot stopped"))
    return Message(
        Level.WARN if e.manual else Level.ERROR,
        title,
        (tr.field("原因", "Reason", e.reason),) if e.reason else (),
        kind="stopped",
    )


@_formats(PositionClosed)
def _closed(e: PositionClosed, tr: Tr) -> Message:
    total = e.breakdown.total
    lines = [
        tr.field("方向", "Direction", tr.direction(e.direction)),
        tr.field("数量", "Size", n.qty(e.base_qty)),
        tr.field("原因", "Reason", e.reason),
        tr.field("持有", "Held", tr.duration(e.held_hours)),
        tr.field("重置次数", "Resets", str(e.resets_count)),
        tr("— 盈亏分解 —", "— PnL by source —"),
        *breakdown_lines(e.breakdown, tr),
    ]
    return Message(
        Level.INFO if total >= 0 else Level.WARN,
        tr("平仓", "Closed") + f" {_where(e.symbol, e.position_id)}"
        + f" {n.usdt(total, signed=True)} USDT",
        tuple(lines),
        kind="close",
        position_id=e.position_id,
    )


@_formats(MarginToppedUp)
def _topped_up(e: MarginToppedUp, tr: Tr) -> Message:
    sources = {"trading": tr("交易账户", "trading account"),
               "funding": tr("资金账户", "funding account")}
    return Message(
        Level.WARN,
        tr("补充保证金", "Margin topped up") + f" {_where(e.symbol, e.position_id)}",
        (
            tr.field("金额", "Amount", n.usdt(e.amount_usdt) + " USDT"),
            tr.field("来源", "From", sources.get(e.source, e.source)),
            tr.field("保证金率", "Margin ratio", n.ratio_pct(e.margin_ratio)),
        ),
        kind="topup",
        position_id=e.position_id,
    )


@_formats(ProfitSwept)
def _swept(e: ProfitSwept, tr: Tr) -> Message:
    return Message(
        Level.INFO,
        tr("利润划转", "Profit swept") + f" {_where(e.symbol, e.position_id)}",
        (
            tr.field("金额", "Amount", n.usdt(e.amount_usdt) + " USDT"),
            tr.field("保证金率", "Margin ratio", n.ratio_pct(e.margin_ratio)),
        ),
        kind="sweep",
        position_id=e.position_id,
    )


@_formats(HedgeRebalanced)
def _rebalanced(e: HedgeRebalanced, tr: Tr) -> Message:
    lines = [
        tr.field("腿", "Leg", tr.leg(e.leg)),
        tr.field("调整数量", "Adjusted by", n.qty(e.base_qty, signed=True)),
    ]
    if e.reason:
        lines.append(tr.field("原因", "Reason", e.reason))
    return Message(
        Level.INFO,
        tr("对冲再平衡", "Hedge rebalanced") + f" {_where(e.symbol, e.position_id)}",
        tuple(lines),
        kind="rebalance",
        position_id=e.position_id,
        key=f"rebalance:{e.position_id}:{e.leg}",
    )


_LEVEL_OF_RUNG = {"SWEEP": Level.INFO, "OK": Level.INFO, "TOPUP": Level.WARN,
                  "RESET": Level.WARN, "EMERGENCY": Level.ERROR}


@_formats(MarginLevelChanged)
def _margin_level(e: MarginLevelChanged, tr: Tr) -> Message:
    return Message(
        _LEVEL_OF_RUNG.get(e.new.upper(), Level.WARN),
        tr("保证金档位", "Margin level") + f" {_where(e.symbol, e.position_id)}: "
        + f"{tr.margin_level(e.old)} → {tr.margin_level(e.new)}",
        (
            tr.field("保证金率", "Margin ratio", n.ratio_pct(e.margin_ratio)),
            tr.field("OKX 保证金率", "OKX mgnRatio", n.ratio_pct(e.okx_mgn_ratio)),
        ),
        kind="margin_level",
        position_id=e.position_id,
        key=f"margin:{e.position_id}:{e.new}",
    )


@_formats(BreakerTripped)
def _breaker(e: BreakerTripped, tr: Tr) -> Message:
    return Message(
        Level.ERROR,
        tr("熔断触发", "Circuit breaker tripped"),
        (tr.field("原因", "Reason", e.reason),
         tr("新开仓已暂停，已有仓位继续受保证金保护",
            "new entries are paused; open carries stay under the margin guard")),
        kind="breaker",
        key=f"breaker:{e.reason}",
    )


@_formats(EntriesPaused)
def _paused(e: EntriesPaused, tr: Tr) -> Message:
    lines = [tr.field("原因", "Reason", e.reason)]
    if e.until is not None:
        lines.append(tr.field("直到", "Until", n.utc_time(e.until)))
    lines.append(tr.field("操作者", "By", tr("操作员", "operator") if e.by_operator
                          else tr("风控", "risk guard")))
    return Message(Level.WARN, tr("暂停新开仓", "Entries paused"), tuple(lines),
                   kind="paused", key=f"paused:{e.reason}")


@_formats(EntriesResumed)
def _resumed(e: EntriesResumed, tr: Tr) -> Message:
    by = (tr("操作员", "operator") if e.by_operator
          else tr("自动（冷却结束）", "automatic (cool-down over)"))
    return Message(Level.INFO, tr("恢复新开仓", "Entries resumed"),
                   (tr.field("操作者", "By", by),), kind="resumed")


@_formats(FundingBooked)
def _funding(e: FundingBooked, tr: Tr) -> Message:
    return Message(
        Level.INFO,
        tr("资金费入账", "Funding booked") + f" {_where(e.symbol, e.position_id)}",
        (tr.field("金额", "Amount", n.usdt(e.funding_usdt, signed=True) + " USDT"),
         tr.field("账单笔数", "Bills", str(e.bills))),
        kind="funding",
        position_id=e.position_id,
    )


@_formats(RiskAlert)
def _risk_alert(e: RiskAlert, tr: Tr) -> Message:
    where = f" #{e.position_id}" if e.position_id is not None else ""
    return Message(
        Level.parse(e.level),
        tr("风控告警", "Risk alert") + where,
        (e.message,),
        kind="risk_alert",
        position_id=e.position_id,
        key=f"risk:{e.position_id}:{e.message}",
    )


@_formats(DecisionLogged)
def _decision(e: DecisionLogged, tr: Tr) -> Message:
    actions = {
        "open": tr("开仓", "open"), "close": tr("平仓", "close"), "reset": tr("重置", "reset"),
        "top_up": tr("补保证金", "top up"), "sweep": tr("利润划转", "sweep"),
        "rebalance": tr("再平衡", "rebalance"),
    }
    where = f" #{e.position_id}" if e.position_id is not None else ""
    return Message(
        Level.INFO,
        tr("空跑：将会", "Dry run: would") + f" {actions.get(e.action, e.action)}{where}",
        (e.detail,),
        kind="decision",
        position_id=e.position_id,
        key=f"decision:{e.action}:{e.position_id}:{e.detail}",
    )


@_formats(DailyReport)
def _daily(e: DailyReport, tr: Tr) -> Message:
    lines = [
        tr.field("权益", "Equity", n.usdt(e.equity_usdt) + " USDT"
                 + f" ({n.usdt(e.equity_change_usdt, signed=True)})"),
        tr.field("持仓", "Open positions", str(e.open_positions)),
        tr(f"开仓 {e.opened} · 平仓 {e.closed} · 重置 {e.resets} · 告警 {e.alerts}",
           f"opened {e.opened} · closed {e.closed} · resets {e.resets} · alerts {e.alerts}"),
        tr("— 当日盈亏分解 —", "— PnL of the day by source —"),
        *breakdown_lines(e.breakdown, tr),
    ]
    lines.extend(f"{k}: {v}" for k, v in sorted(e.details.items()))
    return Message(
        Level.WARN if e.resets else Level.INFO,
        tr("日报", "Daily report") + f" {e.day}",
        tuple(lines),
        kind="daily",
    )


def _generic(event: Any, tr: Tr) -> Message:
    fields = [] if not dataclasses.is_dataclass(event) else [
        f"{f.name}: {getattr(event, f.name)}" for f in dataclasses.fields(event) if f.name != "ts"
    ]
    return Message(
        Level.INFO,
        tr("事件", "Event") + f" {type(event).__name__}",
        tuple(fields),
        kind="event",
        position_id=getattr(event, "position_id", None),
    )
