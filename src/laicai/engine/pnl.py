"""A carry's PnL by source, and the account's books: pure functions over what the exchange
recorded (fills, funding bills, Earn and borrow interest bills) and prices given by the caller.
No I/O, no clock.

What a carry is worth (USDT) is the change it brought to the account's equity (see
:func:`equity_usdt`): the USDT its trades and funding moved, plus the coin it still holds or
owes valued at ``spot_px``, plus its open perp valued at ``mark_px``. The decomposition splits
exactly that, so ``PnlBreakdown.total`` is the carry's equity change by construction:

- **funding**: the sum of its funding bills (USDT, positive = received);
- **earn** / **borrow**: Simple Earn interest received / margin interest owed, both in coin,
  valued at ``interest_px`` (by default ``spot_px``; for a closed carry pass its exit price
  to freeze the split: the total does not depend on it, another price only moves value
  between earn/borrow and basis);
- **fees**: trading fees paid, USDT ones as they are and the coin a spot buy pays its fee in
  valued at that fill's price;
- **basis**: the price PnL of both legs. Perp: sells minus buys (contracts x face value x
  price) plus the open contracts at ``mark_px`` (= realised + unrealised PnL, fees apart).
  Spot: the coin is an inventory whose units came in at a cost (a buy's price; a coin fee's
  fill price, since the fee is counted in ``fees``; Earn interest at ``interest_px``, since it
  is counted in ``earn``) and left at a value (a sell's price; borrow interest owed at
  ``interest_px``, counted in ``borrow``); what is still held (or owed) is valued at
  ``spot_px``. Basis is what this inventory gained or lost, i.e. ``spot proceeds - spot
  costs + coin_net x spot_px + coin fees x fill px - earn + borrow``;
- **slippage** (informational, inside basis already): what the fills paid against the
  venue's reference price at each fill (the index for spot, the mark for the perp, as the
  trade bills report them), when those prices are given.

``coin_net`` = coin bought - coin sold - coin fees + Earn interest - borrow interest: the coin
the carry adds to the account wherever it sits (trading, funding, Simple Earn) net of what it
owes. Borrowing, repaying, transfers and Earn subscriptions/redemptions move coin within the
account and change no equity, so they do not appear.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from laicai.domain.enums import Side
from laicai.engine.events import PnlBreakdown
from laicai.store.records import BorrowEvent, EarnEvent, Fill, FundingPayment, PositionRecord
from laicai.store.states import BorrowEventKind, EarnEventKind

ZERO = Decimal(0)
USDT = "USDT"
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Valuation:
    """The prices a carry is valued at. ``spot_px`` values the coin it holds or owes (use the
    price the account's equity is computed at, e.g. the index); ``mark_px`` values its open
    perp (the venue's mark: that is what its unrealised PnL uses); ``interest_px`` values Earn
    and borrow interest (``None``: ``spot_px``)."""

    spot_px: Decimal
    mark_px: Decimal
    interest_px: Decimal | None = None

    def __post_init__(self) -> None:
        for name in ("spot_px", "mark_px", "interest_px"):
            px = getattr(self, name)
            if px is not None and (not px.is_finite() or px <= 0):
                raise ValueError(f"{name} must be a positive price, got {px}")

    @property
    def interest(self) -> Decimal:
        return self.spot_px if self.interest_px is None else self.interest_px


@dataclass(frozen=True, slots=True)
class CarryPnl:
    """One carry's decomposition and the quantities behind it."""

    position_id: int
    breakdown: PnlBreakdown
    spot_basis: Decimal
    perp_basis: Decimal
    coin_net: Decimal  # coin held (+) or owed (-) because of this carry, incl. fees, interest
    perp_contracts: Decimal  # open contracts, signed (+ long)
    earn_coin: Decimal
    borrow_coin: Decimal

    @property
    def total(self) -> Decimal:
        return self.breakdown.total


def base_ccy(position: PositionRecord) -> str:
    """The carry's coin: the base of its spot instrument (``BTC-USDT`` -> ``BTC``)."""
    return position.spot_inst_id.split("-")[0]


def _signed(side: Side) -> Decimal:
    return Decimal(1) if side is Side.BUY else Decimal(-1)


def interest_coin(events: Iterable[EarnEvent] | Iterable[BorrowEvent], ccy: str) -> Decimal:
    """The coin of the INTEREST events among ``events`` (other kinds move coin within the
    account); an interest event in another currency is not this carry's: ValueError."""
    total = ZERO
    for e in events:
        if e.kind not in (EarnEventKind.INTEREST, BorrowEventKind.INTEREST):
            continue
        if e.ccy != ccy:
            raise ValueError(f"interest event {e.ref_id} is in {e.ccy}, the carry's coin is "
                             f"{ccy}")
        total += e.amount
    return total


def slippage_usdt(fills: Iterable[Fill], reference_px: Mapping[str, Decimal],
                  contract_value: Decimal, swap_inst_id: str) -> Decimal:
    """What the fills paid against the reference price at each fill (positive = worse than
    the reference): buys (px - ref) x base, sells (ref - px) x base. Fills without a
    reference price (``reference_px`` is by trade id) count nothing."""
    total = ZERO
    for f in fills:
        ref = reference_px.get(f.trade_id)
        if ref is None:
            continue
        base = f.size * (contract_value if f.inst_id == swap_inst_id else Decimal(1))
        total += _signed(f.side) * (f.px - ref) * base
    return total


def carry_pnl(position: PositionRecord, fills: Iterable[Fill],
              funding: Iterable[FundingPayment], *, contract_value: Decimal,
              valuation: Valuation, earn: Iterable[EarnEvent] = (),
              borrow: Iterable[BorrowEvent] = (),
              reference_px: Mapping[str, Decimal] | None = None) -> CarryPnl:
    """The decomposition of ``position`` from its fills (every fill of its orders, both legs),
    its funding payments and its Earn / borrow INTEREST events, valued at ``valuation``.

    ``contract_value`` is the swap's base per contract. A fill of another instrument, a fee
    in a currency other than USDT or the coin, or funding in another currency than USDT is
    refused (ValueError): it cannot be this carry's."""
    if contract_value <= 0:
        raise ValueError(f"contract_value must be > 0, got {contract_value}")
    coin = base_ccy(position)
    fills = list(fills)
    spot_cash = perp_cash = usdt_fees = coin_fees = coin_fee_value = ZERO
    coin_traded = contracts = ZERO
    for f in fills:
        sign = _signed(f.side)
        paid = -f.fee  # stored as OKX reports it: negative = paid
        if f.inst_id == position.spot_inst_id:
            spot_cash -= sign * f.size * f.px
            coin_traded += sign * f.size
        elif f.inst_id == position.swap_inst_id:
            perp_cash -= sign * f.size * contract_value * f.px
            contracts += sign * f.size
        else:
            raise ValueError(f"fill {f.trade_id} of {f.inst_id} is not a leg of position "
                             f"{position.id} ({position.spot_inst_id}/{position.swap_inst_id})")
        if f.fee_ccy == USDT:
            usdt_fees += paid
        elif f.fee_ccy == coin:
            coin_fees += paid
            coin_fee_value += paid * f.px
        elif paid != 0:
            raise ValueError(f"fill {f.trade_id}: fee in {f.fee_ccy!r}, expected {USDT} or "
                             f"{coin}")
    funding_usdt = ZERO
    for p in funding:
        if p.ccy != USDT:
            raise ValueError(f"funding bill {p.bill_id} is in {p.ccy}, expected {USDT}")
        funding_usdt += p.amount
    earn_coin = interest_coin(earn, coin)
    borrow_coin = interest_coin(borrow, coin)
    px_interest = valuation.interest
    coin_net = coin_traded - coin_fees + earn_coin - borrow_coin
    earn_usdt = earn_coin * px_interest
    borrow_usdt = borrow_coin * px_interest
    spot_basis = (spot_cash + coin_net * valuation.spot_px + coin_fee_value - earn_usdt
                  + borrow_usdt)
    perp_basis = perp_cash + contracts * contract_value * valuation.mark_px
    slippage = ZERO
    if reference_px:
        slippage = slippage_usdt(fills, reference_px, contract_value, position.swap_inst_id)
    breakdown = PnlBreakdown(funding=funding_usdt, earn=earn_usdt,
                             basis=spot_basis + perp_basis, fees=usdt_fees + coin_fee_value,
                             borrow=borrow_usdt, slippage=slippage)
    return CarryPnl(position.id, breakdown, spot_basis, perp_basis, coin_net, contracts,
                    earn_coin, borrow_coin)


# ---------------------------------------------------------------------- sums
def sum_breakdowns(parts: Iterable[PnlBreakdown]) -> PnlBreakdown:
    out = PnlBreakdown()
    for b in parts:
        out = PnlBreakdown(out.funding + b.funding, out.earn + b.earn, out.basis + b.basis,
                           out.fees + b.fees, out.borrow + b.borrow, out.slippage + b.slippage)
    return out


def breakdown_change(after: PnlBreakdown, before: PnlBreakdown) -> PnlBreakdown:
    """What happened between two decompositions of the same carries (``after - before``)."""
    return PnlBreakdown(after.funding - before.funding, after.earn - before.earn,
                        after.basis - before.basis, after.fees - before.fees,
                        after.borrow - before.borrow, after.slippage - before.slippage)


# ---------------------------------------------------------------------- the account
@dataclass(frozen=True, slots=True)
class Holdings:
    """What one account holds at one moment, per currency, as the venue reports it:

    - ``trading``: each currency's equity in the trading (unified) account: cash - liability
      (borrowed principal + unpaid interest) + unrealised PnL of its perps (at mark) +
      isolated margin (OKX's ``eq``);
    - ``funding``: the funding account's balance;
    - ``earn``: coin in Simple Earn (principal + interest) and redemptions not yet arrived.
    """

    trading: Mapping[str, Decimal]
    funding: Mapping[str, Decimal]
    earn: Mapping[str, Decimal]

    def currencies(self) -> set[str]:
        return {c for book in (self.trading, self.funding, self.earn)
                for c, amount in book.items() if amount != 0}


def equity_usdt(holdings: Holdings, prices: Mapping[str, Decimal]) -> Decimal:
    """The account's **equity** (USDT): every currency of both accounts and of Simple Earn
    (see :class:`Holdings`: liabilities and perp unrealised PnL at mark included) valued at
    ``prices`` (USDT at 1; pass each coin's index, the price carries are valued at). A
    currency held without a price is an error, never silently worth 0."""
    total = ZERO
    for book in (holdings.trading, holdings.funding, holdings.earn):
        for ccy, amount in book.items():
            if amount == 0:
                continue
            px = Decimal(1) if ccy == USDT else prices.get(ccy)
            if px is None:
                raise ValueError(f"no price for {ccy} (held: {amount})")
            total += amount * px
    return total


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The account's equity change between two snapshots against what the carries'
    decompositions explain. ``unexplained`` is anything the books do not hold: a bill not
    booked or booked twice, a fill not stored, a deposit, a trade by hand, a coin held outside
    the carries whose price moved."""

    equity_before: Decimal
    equity_after: Decimal
    explained: PnlBreakdown

    @property
    def change(self) -> Decimal:
        return self.equity_after - self.equity_before

    @property
    def unexplained(self) -> Decimal:
        return self.change - self.explained.total

    def balanced(self, tolerance: Decimal = CENT) -> bool:
        return abs(self.unexplained) <= tolerance


def reconcile(equity_before: Decimal, equity_after: Decimal,
              after: Sequence[PnlBreakdown],
              before: Sequence[PnlBreakdown] = ()) -> Reconciliation:
    """Books balance when the equity change between two snapshots equals the carries'
    decompositions at the second snapshot minus those at the first (``before``: the carries
    already open at the first snapshot, valued at its prices; empty when the first snapshot
    precedes them all). Both snapshots' equity must use the prices the carries were valued
    at."""
    explained = breakdown_change(sum_breakdowns(after), sum_breakdowns(before))
    return Reconciliation(equity_before, equity_after, explained)
