"""Where top-up USDT comes from (seed 000 fund_guard: 自动补保证金).

A top-up draws on the trading account's free USDT first (no transfer between accounts
needed), then on the funding account. It never plans more than either source holds (less
``topup_reserve_usdt`` kept in trading), rounds each piece down to ``usdt_step`` and skips a
piece smaller than ``min_transfer_usdt``. An empty plan means "nothing available": the margin
guard then escalates to a reset. The funds left are returned so the engine can plan the next
carry's top-up against what remains (see :func:`laicai.risk.evaluate_positions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from laicai.domain.instrument import round_to_step
from laicai.risk.commands import TopUpMargin, TransferSource
from laicai.risk.params import RiskParams
from laicai.risk.state import Funds

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class TopUpPlan:
    commands: tuple[TopUpMargin, ...]
    funds_left: Funds

    @property
    def amount_usdt(self) -> Decimal:
        return sum((c.amount_usdt for c in self.commands), ZERO)


def plan_topup(position_id: int, needed_usdt: Decimal, funds: Funds,
               params: RiskParams) -> TopUpPlan:
    """Top-up commands for up to ``needed_usdt``: trading first, then funding."""
    trading = max(ZERO, funds.trading_usdt - params.topup_reserve_usdt)
    funding = max(ZERO, funds.funding_usdt)
    remaining = max(ZERO, needed_usdt)
    commands: list[TopUpMargin] = []
    drawn = {TransferSource.TRADING: ZERO, TransferSource.FUNDING: ZERO}
    for source, available in ((TransferSource.TRADING, trading),
                              (TransferSource.FUNDING, funding)):
        piece = round_to_step(min(remaining, available), params.usdt_step, ROUND_DOWN)
        if piece <= 0 or piece < params.min_transfer_usdt:
            continue
        commands.append(TopUpMargin(position_id, piece, source))
        drawn[source] = piece
        remaining -= piece
    left = Funds(funds.trading_usdt - drawn[TransferSource.TRADING],
                 funds.funding_usdt - drawn[TransferSource.FUNDING])
    return TopUpPlan(tuple(commands), left)
