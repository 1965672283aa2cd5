"""``find_opportunities``: every candidate carry in a snapshot, costed, ranked, and either
accepted or rejected with its reason.

A candidate is a swap settled in ``ScanParams.quote_ccy`` that has a funding rate. Positive
funding makes a SHORT (short perp + long spot); negative funding a LONG (long perp + short
spot on borrowed coin), only with ``enable_negative_rate_strategy``.

Each candidate is judged on its own against the snapshot's free capital (checks in
:class:`~laicai.strategy.opportunity.RejectReason` order, the first failing one reported);
then the accepted ones share the portfolio's room in ranking order: the free slots
(``max_open_positions`` - open carries) and the free capital. A candidate the remaining capital
cannot carry at its planned size is re-sized to what remains, once, if that is at least
``min_trade_fraction`` of the standard capital per trade; otherwise, or if the re-sized carry
fails a check, it is rejected as ``NO_CAPITAL``. So the accepted ones can all be opened
together. With dynamic sizing the multiplier applies to the capital before the caps (free
capital, ``max_position_value``), so a capped carry may show a multiplier without growing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from laicai.domain.enums import Direction, InstKind, Side
from laicai.domain.instrument import Instrument
from laicai.domain.market import BorrowTerms, FundingRate, OrderBook
from laicai.strategy.costs import (
    RoundTripFills,
    Touch,
    borrow_cost_usdt,
    entry_basis,
    round_trip_cost,
)
from laicai.strategy.opportunity import (
    Opportunity,
    RejectReason,
    break_even_days,
    carry_funding_apr,
    net_apr,
)
from laicai.strategy.params import ScanParams
from laicai.strategy.sizing import (
    ONE,
    leg_notional_for_capital,
    plan_size,
    target_base_qty,
)
from laicai.strategy.slippage import Fill, walk_book
from laicai.strategy.snapshot import MarketSnapshot

ZERO = Decimal(0)
EIGHT_HOURS = Decimal(8)  # the funding band is quoted per 8 h settlement

# (spot entry, perp entry, spot exit, perp exit) sides of each direction
_SIDES = {
    Direction.SHORT: (Side.BUY, Side.SELL, Side.SELL, Side.BUY),
    Direction.LONG: (Side.SELL, Side.BUY, Side.BUY, Side.SELL),
}


@dataclass(frozen=True, slots=True)
class ScanResult:
    """All candidates of one scan: accepted first, then by net APR descending (candidates
    rejected before they were costed last), ties by swap id."""

    ts_ms: int
    opportunities: tuple[Opportunity, ...]

    @property
    def accepted(self) -> tuple[Opportunity, ...]:
        return tuple(o for o in self.opportunities if o.accepted)

    @property
    def rejected(self) -> tuple[Opportunity, ...]:
        return tuple(o for o in self.opportunities if not o.accepted)

    def reasons(self) -> dict[RejectReason, int]:
        """How many candidates each reason rejected."""
        counts: dict[RejectReason, int] = {}
        for o in self.opportunities:
            if o.reject_reason is not None:
                counts[o.reject_reason] = counts.get(o.reject_reason, 0) + 1
        return counts


Fields = dict[str, Any]  # Opportunity fields by name, gathered before the one construction


@dataclass(slots=True)
class _Judgement:
    """A candidate's verdict while the scan runs. A frozen Opportunity of ~40 fields is not
    cheap to build or copy, so each is built once, from this, when the scan is done."""

    ident: Fields  # identity, funding, Earn and borrow APRs
    values: Fields  # what sizing and costing found
    reason: RejectReason | None
    detail: str = ""

    @property
    def accepted(self) -> bool:
        return self.reason is None

    @property
    def net_apr(self) -> Decimal | None:
        apr: Decimal | None = self.values.get("net_apr")
        return apr

    @property
    def capital_usdt(self) -> Decimal:
        used: Decimal = self.values.get("capital_usdt", ZERO)
        return used

    def build(self) -> Opportunity:
        return Opportunity(**self.ident, **self.values, accepted=self.reason is None,
                           reject_reason=self.reason, detail=self.detail)


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A candidate that passed the checks needing no book. ``ident`` holds the Opportunity
    fields known so far (identity, funding, Earn and borrow APRs)."""

    ident: Fields
    swap: Instrument
    spot: Instrument
    borrow: BorrowTerms | None


def find_opportunities(snapshot: MarketSnapshot, params: ScanParams, now_ms: int) -> ScanResult:
    """Judge every candidate carry of ``snapshot`` at time ``now_ms`` (see the module notes)."""
    spots = {
        (i.base, i.quote): i for i in snapshot.instruments.values() if i.kind is InstKind.SPOT
    }
    judged: list[_Judgement] = []
    candidates: dict[str, _Candidate] = {}
    for swap in snapshot.instruments.values():
        if swap.kind is not InstKind.SWAP or swap.quote != params.quote_ccy:
            continue
        funding = snapshot.funding_rates.get(swap.inst_id)
        if funding is None:
            continue
        spot = spots.get((swap.base, swap.quote))
        checked = _precheck(swap, funding, spot, snapshot, params, now_ms)
        if isinstance(checked, _Judgement):
            judged.append(checked)
            continue
        candidates[swap.inst_id] = checked
        judged.append(_evaluate(checked, snapshot, params, now_ms))
    allocated = _allocate(judged, candidates, snapshot, params, now_ms)
    return ScanResult(now_ms, tuple(j.build() for j in sorted(allocated, key=_rank)))


def book_requests(snapshot: MarketSnapshot, params: ScanParams, now_ms: int) -> tuple[str, ...]:
    """The instrument ids whose books :func:`find_opportunities` will need: both legs of every
    candidate that passes the checks needing no book. ``snapshot.order_books`` may be empty;
    the engine fetches just these before the real scan."""
    spots = {
        (i.base, i.quote): i for i in snapshot.instruments.values() if i.kind is InstKind.SPOT
    }
    wanted: list[str] = []
    for swap in snapshot.instruments.values():
        if swap.kind is not InstKind.SWAP or swap.quote != params.quote_ccy:
            continue
        funding = snapshot.funding_rates.get(swap.inst_id)
        if funding is None:
            continue
        checked = _precheck(swap, funding, spots.get((swap.base, swap.quote)), snapshot,
                            params, now_ms)
        if isinstance(checked, _Candidate):
            wanted.extend((checked.spot.inst_id, swap.inst_id))
    return tuple(wanted)


def _rank(j: _Judgement) -> tuple[bool, bool, Decimal, str]:
    apr = j.net_apr
    swap_id: str = j.ident["swap_inst_id"]
    return (j.reason is not None, apr is None, -apr if apr is not None else ZERO, swap_id)


def _stale(ts_ms: int, params: ScanParams, now_ms: int) -> bool:
    return params.max_data_age_ms is not None and now_ms - ts_ms > params.max_data_age_ms


def _precheck(
    swap: Instrument,
    funding: FundingRate,
    spot: Instrument | None,
    snapshot: MarketSnapshot,
    params: ScanParams,
    now_ms: int,
) -> _Judgement | _Candidate:
    """The checks that need no order book, in RejectReason order."""
    base = swap.base
    direction = Direction.SHORT if funding.rate >= 0 else Direction.LONG
    interval_ok = funding.interval_hours > 0
    ident: Fields = {
        "swap_inst_id": swap.inst_id,
        "spot_inst_id": spot.inst_id if spot is not None else None,
        "base": base,
        "direction": direction,
        "funding_rate": funding.rate,
        "interval_hours": funding.interval_hours,
        "next_funding_ms": funding.next_funding_ms,
        "ms_to_next_funding": funding.next_funding_ms - now_ms,
        "funding_apr": (carry_funding_apr(funding.rate, funding.interval_hours, direction)
                        if interval_ok else ZERO),
    }

    def reject(reason: RejectReason, detail: str) -> _Judgement:
        return _Judgement(ident, {}, reason, detail)

    r = RejectReason
    if base in params.instruments_deny:
        return reject(r.DENY_LISTED, f"{base} is in account.instruments_deny")
    if params.instruments_allow and base not in params.instruments_allow:
        return reject(r.NOT_ALLOWED, f"{base} is not in account.instruments_allow")
    held = snapshot.held_symbols
    if base in held or swap.inst_id in held or (spot is not None and spot.inst_id in held):
        return reject(r.ALREADY_HELD, f"a carry on {base} is already open")
    if spot is None:
        return reject(r.NO_SPOT_MARKET, f"no {base}-{swap.quote} spot market")
    if not (swap.live and spot.live):
        down = [i.inst_id for i in (spot, swap) if not i.live]
        return reject(r.NOT_LIVE, f"not live: {', '.join(down)}")
    if direction is Direction.LONG and not params.enable_negative_rate_strategy:
        return reject(r.NEGATIVE_FUNDING_DISABLED,
                      "negative funding and strategy.enable_negative_rate_strategy is off")
    if not interval_ok:
        return reject(r.MISSING_DATA, f"funding interval {funding.interval_hours} h")
    # the seed's sane band is for 8-hourly rates: compare every swap at its 8 h equivalent,
    # so a 1 h swap is neither favoured nor penalised for settling more often
    size = abs(funding.rate) * EIGHT_HOURS / funding.interval_hours
    if not params.funding_rate_min <= size <= params.funding_rate_max:
        return reject(r.FUNDING_OUT_OF_BAND,
                      f"|rate| {size.normalize():f} per 8 h outside "
                      f"[{params.funding_rate_min}, {params.funding_rate_max}]")
    spot_ticker = snapshot.tickers.get(spot.inst_id)
    swap_ticker = snapshot.tickers.get(swap.inst_id)
    if spot_ticker is None or swap_ticker is None:
        return reject(r.MISSING_DATA, "no ticker for a leg")
    for ts_ms, what in ((funding.ts_ms, "funding rate"), (spot_ticker.ts_ms, "spot ticker"),
                        (swap_ticker.ts_ms, "swap ticker")):
        if _stale(ts_ms, params, now_ms):
            return reject(r.STALE_DATA, f"{what} is {now_ms - ts_ms} ms old")
    thin = min(spot_ticker.volume_24h_quote, swap_ticker.volume_24h_quote)
    if thin < params.min_volume_24h_usdt:
        return reject(r.THIN_VOLUME, f"24 h volume {thin} < {params.min_volume_24h_usdt} on a leg")
    borrow = None
    if direction is Direction.LONG:
        borrow = snapshot.borrow_terms.get(base)
        if borrow is None:
            return reject(r.NOT_BORROWABLE, f"{base} cannot be borrowed")
        ident["borrow_apr"] = borrow.apr
    elif params.enable_spot_earning:
        earn = snapshot.earn_rates.get(base)
        if earn is not None:
            ident["earn_apr"] = earn.apr
    return _Candidate(ident, swap, spot, borrow)


def _touch(book: OrderBook) -> Touch | None:
    if not book.bids or not book.asks:
        return None
    return Touch(bid=book.bids[0][0], ask=book.asks[0][0])


def _sane(touch: Touch) -> bool:
    """A usable touch: positive prices, bid below ask (a crossed book is corrupt data)."""
    return 0 < touch.bid < touch.ask


def _evaluate(
    cand: _Candidate, snapshot: MarketSnapshot, params: ScanParams, now_ms: int
) -> _Judgement:
    """Size and cost at the standard capital per trade; with dynamic sizing, resize an accepted
    carry by its multiplier and keep the resized one if it still passes every check."""
    standard = _size_and_cost(cand, snapshot, params, now_ms, ONE, None)
    if not params.dynamic_sizing or not standard.accepted or standard.net_apr is None:
        return standard
    multiplier = params.dynamic.multiplier(standard.net_apr, params.min_annualized_return)
    if multiplier == ONE:
        return standard
    resized = _size_and_cost(cand, snapshot, params, now_ms, multiplier, None)
    return resized if resized.accepted else standard


def _planning_capital(snapshot: MarketSnapshot, params: ScanParams) -> Decimal:
    equity = snapshot.total_capital_usdt
    if params.total_capital is not None:
        equity = min(equity, params.total_capital)
    return equity


def _size_and_cost(
    cand: _Candidate,
    snapshot: MarketSnapshot,
    params: ScanParams,
    now_ms: int,
    multiplier: Decimal,
    capital_cap: Decimal | None,
) -> _Judgement:
    values: Fields = {"sizing_multiplier": multiplier}

    def reject(reason: RejectReason, detail: str) -> _Judgement:
        return _Judgement(cand.ident, values, reason, detail)

    r = RejectReason
    spot, swap = cand.spot, cand.swap
    spot_book = snapshot.order_books.get(spot.inst_id)
    swap_book = snapshot.order_books.get(swap.inst_id)
    if spot_book is None or swap_book is None:
        return reject(r.MISSING_DATA, "no order book for a leg")
    for book in (spot_book, swap_book):
        if _stale(book.ts_ms, params, now_ms):
            return reject(r.STALE_DATA, f"{book.inst_id} book is {now_ms - book.ts_ms} ms old")
    spot_touch, perp_touch = _touch(spot_book), _touch(swap_book)
    if spot_touch is None or perp_touch is None:
        return reject(r.INSUFFICIENT_DEPTH, "a book side is empty")
    if not (_sane(spot_touch) and _sane(perp_touch)):
        return reject(r.MISSING_DATA, f"unusable touch: spot {spot_touch}, perp {perp_touch}")

    standard = _planning_capital(snapshot, params) * params.capital_per_trade_ratio
    capital = min(standard * multiplier, snapshot.free_capital_usdt)
    if capital_cap is not None:
        capital = min(capital, capital_cap)
    if capital <= 0 or capital < standard * params.min_trade_fraction:
        return reject(r.NO_CAPITAL, f"{capital} USDT free for this carry, standard {standard}")
    leg = min(leg_notional_for_capital(capital, params.leverage), params.max_position_value)
    direction: Direction = cand.ident["direction"]
    spot_side, perp_side, spot_exit_side, perp_exit_side = _SIDES[direction]
    ref_px = max(
        spot_touch.ask if spot_side is Side.BUY else spot_touch.bid,
        perp_touch.ask if perp_side is Side.BUY else perp_touch.bid,
    )
    target = target_base_qty(leg, ref_px, params.max_allowed_slippage, params.fee_reserve)
    plan = plan_size(target, spot, swap, direction, snapshot.fee_rates.spot_taker)
    if plan is None:
        return reject(r.BELOW_MIN_SIZE, f"{target} {spot.base} rounds below a leg's minimum size")
    q = plan.base_qty
    values.update(
        base_qty=q,
        swap_contracts=plan.swap_contracts,
        spot_entry_qty=plan.spot_entry_qty,
        spot_exit_qty=plan.spot_exit_qty,
        entry_basis=entry_basis(spot_touch, perp_touch),
    )
    if cand.borrow is not None and cand.borrow.available < q:
        return reject(r.BORROW_LIMIT, f"can borrow {cand.borrow.available} {spot.base}, need {q}")

    cv = swap.base_per_size()
    walks = (
        walk_book(spot_book, spot_side, plan.spot_entry_qty),
        walk_book(swap_book, perp_side, q, cv),
        walk_book(spot_book, spot_exit_side, plan.spot_exit_qty),
        walk_book(swap_book, perp_exit_side, q, cv),
    )
    fills: list[Fill] = []
    for name, walk in zip(("spot entry", "perp entry", "spot exit", "perp exit"), walks,
                          strict=True):
        if not isinstance(walk, Fill):
            return reject(r.INSUFFICIENT_DEPTH,
                          f"{name}: book holds {walk.available_base} of {walk.base_qty} "
                          f"{spot.base}")
        fills.append(walk)
    rt = RoundTripFills(*fills)
    fees = snapshot.fee_rates
    cost = round_trip_cost(rt, spot_touch, perp_touch, fees, q)
    frac = cost.fraction
    days = params.expected_holding_days
    funding_apr: Decimal = cand.ident["funding_apr"]
    earn_apr: Decimal = cand.ident.get("earn_apr", ZERO)
    borrow_apr: Decimal = cand.ident.get("borrow_apr", ZERO)
    entry_usdt_fees = fees.swap_taker * rt.perp_entry.notional_quote
    if direction is Direction.LONG:  # a spot sell's fee is paid in USDT
        entry_usdt_fees += fees.spot_taker * rt.spot_entry.notional_quote
    apr = net_apr(funding_apr, earn_apr, borrow_apr, frac, days)
    values.update(
        notional_usdt=cost.notional_usdt,
        capital_usdt=rt.spot_entry.notional_quote
        + rt.perp_entry.notional_quote / params.leverage
        + entry_usdt_fees,
        spot_entry_vwap=rt.spot_entry.vwap,
        perp_entry_vwap=rt.perp_entry.vwap,
        spot_entry_slippage=rt.spot_entry.slippage,
        perp_entry_slippage=rt.perp_entry.slippage,
        spot_exit_slippage=rt.spot_exit.slippage,
        perp_exit_slippage=rt.perp_exit.slippage,
        fees_usdt=cost.fees_usdt,
        slippage_cost_usdt=cost.slippage_usdt,
        spread_cost_usdt=cost.spread_usdt,
        round_trip_cost_usdt=cost.total_usdt,
        round_trip_cost_fraction=frac,
        borrow_cost_usdt=(
            borrow_cost_usdt(cost.notional_usdt, borrow_apr, days)
            if direction is Direction.LONG
            else None
        ),
        net_apr=apr,
        break_even_days=break_even_days(frac, funding_apr, borrow_apr),
    )
    limit = params.max_allowed_slippage
    for name, fill in (("spot", rt.spot_entry), ("perp", rt.perp_entry)):
        if fill.slippage > limit:
            return reject(r.SLIPPAGE_TOO_HIGH,
                          f"{name} entry slippage {fill.slippage:.6f} > {limit}")
    if apr < params.min_annualized_return:
        return reject(r.NET_APR_TOO_LOW, f"net APR {apr:.6f} < {params.min_annualized_return}")
    return _Judgement(cand.ident, values, None)


def _allocate(
    judged: list[_Judgement],
    candidates: dict[str, _Candidate],
    snapshot: MarketSnapshot,
    params: ScanParams,
    now_ms: int,
) -> list[_Judgement]:
    """Share the free slots and capital among the accepted, best net APR first."""
    slots = params.max_open_positions - snapshot.open_positions_count
    remaining = snapshot.free_capital_usdt
    smallest = (_planning_capital(snapshot, params) * params.capital_per_trade_ratio
                * params.min_trade_fraction)
    out = [j for j in judged if not j.accepted]
    for j in sorted((j for j in judged if j.accepted), key=_rank):
        if slots <= 0:
            j.reason = RejectReason.MAX_POSITIONS
            j.detail = (f"{snapshot.open_positions_count} open, "
                        f"strategy.max_open_positions = {params.max_open_positions}")
            out.append(j)
            continue
        used = j.capital_usdt
        if used > remaining:
            resized = None
            if remaining > 0 and remaining >= smallest:
                resized = _size_and_cost(candidates[j.ident["swap_inst_id"]], snapshot, params,
                                         now_ms, j.values["sizing_multiplier"], remaining)
            if resized is None or not resized.accepted or resized.capital_usdt > remaining:
                j.reason = RejectReason.NO_CAPITAL
                j.detail = f"{remaining} USDT left after better opportunities"
                out.append(j)
                continue
            j, used = resized, resized.capital_usdt
        out.append(j)
        slots -= 1
        remaining -= used
    return out
