"""One realistic event of every kind, and the notifications they make: for previewing the
texts (``python -m laicai.notify.preview en``), for the docs, and for tests."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from laicai.domain.enums import Direction
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
from laicai.notify.event_messages import format_event
from laicai.notify.message import LANGUAGES, Lang

SAMPLE_TS = datetime(2026, 1, 2, 8, 0, tzinfo=UTC)


def sample_events(ts: datetime = SAMPLE_TS) -> list[BotEvent]:
    """A carry's life in events: start, open, margin ladder, reset, repairs, close, report."""
    pnl = PnlBreakdown(funding=D("41.25"), earn=D("3.10"), basis=D("-6.40"), fees=D("13.08"),
                       borrow=D("0"), slippage=D("1.95"))
    return [
        BotStarted(ts, "paper", False, D("20000.00"), open_positions=1, recovered=1),
        BotStateChanged(ts, "IDLE", "SCANNING"),
        CarryOpened(ts, 12, "BTC", Direction.SHORT, D("0.15"), D("65432.1"), D("65460.0"),
                    D("9.82"), funding_rate=D("0.00012"), net_apr=D("0.1523")),
        CarryOpenFailed(ts, 13, "DOGE", "perp leg rejected: 51008 insufficient margin", True),
        LegRepaired(ts, 14, "ETH", "perp", "complete", D("0.4")),
        NakedExposureAlert(ts, 14, "ETH", D("1380.55"), D("2.0"), D("1.6"),
                           "perp order 51008; retrying"),
        LegRebalanced(ts, 12, "BTC", "spot", D("0.0012"), D("0.1488"), D("0.1488"),
                      D("0.08")),
        HedgeRebalanced(ts, 12, "BTC", "spot", D("-0.0012"), "perp size drifted after ADL"),
        MarginLevelChanged(ts, 12, "BTC", "OK", "TOPUP", D("0.21"), D("9.5")),
        MarginTransferred(ts, 12, "BTC", "top_up", "funding", "margin", "cross", D("500"),
                          D("500"), D("500")),
        MarginToppedUp(ts, 12, "BTC", D("500"), "funding", D("0.27")),
        ProfitSwept(ts, 12, "BTC", D("320.5"), D("0.41")),
        CarryReset(ts, 12, "BTC", 3, D("18.4"), D("0.15")),
        RedemptionDelayed(ts, 12, "BTC", "BTC", 95.0, "wait"),
        ExecutionError(ts, 12, "BTC", "close", "timeout placing the perp order",
                       {"clOrdId": "lc12c1p"}),
        BreakerTripped(ts, "3 losing closes in a row"),
        EntriesPaused(ts, "3 losing closes in a row", until=ts + timedelta(hours=4)),
        EntriesResumed(ts, by_operator=True),
        FundingBooked(ts, 12, "BTC", D("2.36"), bills=1),
        RiskAlert(ts, "WARN", "OKX mgnRatio 3.1 under the 5.0 floor", 12),
        DecisionLogged(ts, "open", "SHORT SOL 25 net APR 18.2%"),
        CarryClosed(ts, 12, "BTC", "funding turned negative", D("66001.2"), D("66010.0"),
                    D("24.87"), D("13.08")),
        PositionClosed(ts, 12, "BTC-USDT-SWAP", Direction.SHORT, "funding turned negative",
                       D("0.15"), pnl, resets_count=3, held_hours=76.5),
        AccountClosedOut(ts, 0, "*", True, "closed 2 carries\nrepaid 0 loans"),
        BotStopped(ts, "operator pressed Ctrl-C", manual=True),
        DailyReport(ts, "2026-01-01", D("20123.45"), D("123.45"), pnl, 1, opened=1, closed=1,
                    resets=1, alerts=2),
    ]


def preview(lang: Lang = "zh") -> str:
    """Every sample event's notification, separated by blank lines."""
    return "\n\n".join(format_event(e, lang).render() for e in sample_events())


def main(argv: list[str]) -> int:
    lang = argv[0] if argv else "zh"
    if lang not in LANGUAGES:
        print(f"usage: python -m laicai.notify.preview [{'|'.join(LANGUAGES)}]")
        return 2
    print(preview("zh" if lang == "zh" else "en"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
