"""Depth, slippage and price spikes (seed 000 liquidity_guard: 深度 / 滑点 / 插针).

Entry check: an opportunity is vetoed when either entry leg's slippage (walked through the
book for the planned size by the scanner) is unknown or above ``max_allowed_slippage``, or when
a book holds less than ``min_depth_multiple x base_qty`` within that slippage (given an
:class:`EntryDepth`; without one, the scanner's walk - which rejects a book that cannot fill
the size - is the depth check).

Spike detection: a spike is two samples ``i`` before ``j`` with ``t_j - t_i <= spike_window_ms``
and ``|p_j - p_i| / p_i > spike_pct`` (a move of exactly ``spike_pct``, or one spread over more
than the window, is not a spike). Entries pause until the spike has left the window:
``until_ms = t_j + spike_window_ms`` of the latest spike; a spike whose window has passed
(``now_ms >= t_j + spike_window_ms``) pauses nothing. Samples after ``now_ms`` are ignored.
One pass with monotonic deques of the window's minimum and maximum: O(n).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from decimal import Decimal

from laicai.risk.commands import PauseEntries, Veto, VetoCode
from laicai.risk.params import RiskParams
from laicai.risk.state import EntryDepth, PriceSample
from laicai.strategy.opportunity import Opportunity

ONE = Decimal(1)


def check_entry(opportunity: Opportunity, params: RiskParams,
                depth: EntryDepth | None = None) -> Veto | None:
    """A veto if either entry leg would slip too far or its book is too thin; else None."""
    limit = params.max_allowed_slippage
    for leg, slip in (("spot", opportunity.spot_entry_slippage),
                      ("perp", opportunity.perp_entry_slippage)):
        if slip is None:
            return Veto(VetoCode.DEPTH, f"{leg} entry slippage unknown: the book was not walked")
        if slip > limit:
            return Veto(VetoCode.SLIPPAGE, f"{leg} entry slippage {slip:.4%} > {limit:.4%}")
    if depth is not None and opportunity.base_qty is not None:
        needed = opportunity.base_qty * params.min_depth_multiple
        for leg, held in (("spot", depth.spot_base), ("perp", depth.perp_base)):
            if held < needed:
                return Veto(VetoCode.DEPTH, f"{leg} book holds {held} within the slippage "
                                            f"limit, {needed} needed")
    return None


def detect_spike(samples: Iterable[PriceSample], params: RiskParams,
                 now_ms: int) -> PauseEntries | None:
    """PauseEntries until the latest spike has left the window, or None."""
    window, pct = params.spike_window_ms, params.spike_pct
    ordered = sorted((s for s in samples if s.ts_ms <= now_ms and s.price > 0),
                     key=lambda s: s.ts_ms)
    lows: deque[PriceSample] = deque()  # increasing prices: front = window minimum
    highs: deque[PriceSample] = deque()  # decreasing prices: front = window maximum
    latest: tuple[PriceSample, PriceSample] | None = None
    for sample in ordered:
        for dq in (lows, highs):
            while dq and sample.ts_ms - dq[0].ts_ms > window:
                dq.popleft()
        low, high = (lows[0] if lows else None), (highs[0] if highs else None)
        if low is not None and sample.price > low.price * (ONE + pct):
            latest = (low, sample)
        elif high is not None and sample.price < high.price * (ONE - pct):
            latest = (high, sample)
        while lows and lows[-1].price >= sample.price:
            lows.pop()
        lows.append(sample)
        while highs and highs[-1].price <= sample.price:
            highs.pop()
        highs.append(sample)
    if latest is None:
        return None
    start, end = latest
    until = end.ts_ms + window
    if until <= now_ms:
        return None
    move = (end.price - start.price) / start.price
    return PauseEntries(
        f"price spike {move:+.2%} in {end.ts_ms - start.ts_ms} ms "
        f"(limit {pct:.2%} within {window} ms)", until)
