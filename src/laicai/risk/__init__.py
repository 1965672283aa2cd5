"""WHETHER: the risk guards, pure functions over snapshots -> commands and vetoes.

No I/O, no clock (``now_ms`` is passed in), no asyncio, no framework imports at runtime: only
:mod:`laicai.domain`, :mod:`laicai.strategy` (the :class:`Opportunity` it judges) and the
standard library. Settings arrive as a frozen :class:`RiskParams`. One guard per module:

- :mod:`.margin_guard` - the margin ladder: top-up, reset, emergency close, profit sweep;
- :mod:`.fund_guard` - where top-up USDT comes from (trading, then funding);
- :mod:`.hedge_guard` - spot/perp deviation and naked exposure -> Rebalance (shrink only);
- :mod:`.exits` - stop loss, take profit, funding flipped, funding forecast, emergency;
- :mod:`.liquidity_guard` - entry slippage and depth; price spikes -> PauseEntries;
- :mod:`.circuit_breaker` - losses in a row, daily loss, drawdown -> TripBreaker;
- :mod:`.exchange_guard` - error rate, latency, WebSocket staleness, clock skew;
- :mod:`.limits` - portfolio limits on a new carry: positions, symbol, capital, leverage.

:mod:`.commands` holds what they return (and :func:`adds_to_position`, the red line that no
guard ever makes a carry larger); :mod:`.priority` merges one carry's commands;
:mod:`.pipeline` runs them: :func:`evaluate_position` and :func:`approve_entry`.
"""

from laicai.risk.circuit_breaker import BreakerState, BreakerStatus
from laicai.risk.commands import (
    Alert,
    AlertLevel,
    Approval,
    CloseCarry,
    Command,
    Leg,
    PauseEntries,
    Rebalance,
    ResetCarry,
    SweepProfit,
    TopUpMargin,
    TransferSource,
    TripBreaker,
    Veto,
    VetoCode,
    adds_to_position,
)
from laicai.risk.exchange_guard import ExchangeGuardState
from laicai.risk.params import RiskParams
from laicai.risk.pipeline import (
    PositionAssessment,
    approve_entry,
    assess_position,
    evaluate_position,
    evaluate_positions,
)
from laicai.risk.state import (
    AccountView,
    CarryView,
    ClosedCarry,
    EntryDepth,
    ExchangeStats,
    Funds,
    MarginLevel,
    PriceSample,
)

__all__ = [
    "AccountView",
    "Alert",
    "AlertLevel",
    "Approval",
    "BreakerState",
    "BreakerStatus",
    "CarryView",
    "CloseCarry",
    "ClosedCarry",
    "Command",
    "EntryDepth",
    "ExchangeGuardState",
    "ExchangeStats",
    "Funds",
    "Leg",
    "MarginLevel",
    "PauseEntries",
    "PositionAssessment",
    "PriceSample",
    "Rebalance",
    "ResetCarry",
    "RiskParams",
    "SweepProfit",
    "TopUpMargin",
    "TransferSource",
    "TripBreaker",
    "Veto",
    "VetoCode",
    "adds_to_position",
    "approve_entry",
    "assess_position",
    "evaluate_position",
    "evaluate_positions",
]
