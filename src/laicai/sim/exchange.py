"""The simulator core: one simulated OKX venue, deterministic given its seed and clock.

:class:`SimExchange` owns instruments, books, accounts and the market plan, and advances
time-driven events (funding settlements, hourly interest, Earn redemptions, resting-order
crosses, liquidations) whenever :meth:`SimExchange.sync` is called. Trading rules live in
:mod:`laicai.sim.trading`; the account's money views in :mod:`laicai.sim.ledger`. No I/O here:
the HTTP/WebSocket façade (:mod:`laicai.sim.server`) and the in-process backtest adapter call
the same methods.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from laicai.sim import trading
from laicai.sim.account import Account, ApiKey, Balance
from laicai.sim.book import L2Book
from laicai.sim.clock import Clock
from laicai.sim.errors import err
from laicai.sim.faults import FaultBook
from laicai.sim.fees import fee_tier
from laicai.sim.instruments import SimInstrument
from laicai.sim.market import MarketPlan

ZERO = Decimal(0)
HOUR_MS = 3_600_000
_BPS = Decimal(10000)
_HOURS_PER_YEAR = Decimal(8760)


@dataclass(slots=True)
class AccountSetup:
    """How a scenario opens an account: keys, fee tier and starting balances."""

    name: str
    keys: list[ApiKey]
    fee_tier: str = "VIP0"
    acct_lv: int = 2
    pos_mode: str = "net_mode"
    trading: dict[str, Decimal] = field(default_factory=dict)
    funding: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SimEvent:
    """Something a subscriber may want pushed: ``kind`` is order | position | balance |
    book | funding | liquidation; ``account`` is empty for public events."""

    kind: str
    account: str
    key: str  # ord_id, inst_id or ccy
    ts_ms: int


Listener = Callable[[SimEvent], None]


class SimExchange:
    """A simulated OKX: market data, accounts and the time-driven life between requests."""

    def __init__(
        self,
        *,
        clock: Clock,
        plan: MarketPlan,
        instruments: Iterable[SimInstrument],
        accounts: Iterable[AccountSetup],
        seed: int = 0,
        book_refresh_ms: int = 1000,
    ) -> None:
        self.clock = clock
        self.plan = plan
        self.seed = seed
        self.rng = random.Random(seed)
        self.faults = FaultBook(random.Random(seed ^ 0x5EED))
        self.book_refresh_ms = book_refresh_ms
        self.instruments: dict[str, SimInstrument] = {}
        self.books: dict[str, L2Book] = {}
        for inst in instruments:
            self.add_instrument(inst)
        self.accounts: dict[str, Account] = {}
        self.accounts_by_key: dict[str, tuple[Account, ApiKey]] = {}
        self._ids = 0
        for setup in accounts:
            self.add_account(setup)
        self.listeners: list[Listener] = []
        self.price_factor: dict[str, Decimal] = {}  # coin -> multiplier on the path
        self.funding_override: dict[str, Decimal] = {}  # swap instId -> rate
        self.funding_history: dict[str, list[tuple[int, Decimal, Decimal]]] = {}
        self.borrow_used: dict[str, Decimal] = {}  # ccy -> borrowed across accounts
        now = clock.now_ms()
        self._synced_ms = now
        self._next_hour_ms = (now // HOUR_MS + 1) * HOUR_MS
        self.next_funding_ms: dict[str, int] = {
            i: self._next_settlement(i, now) for i, s in self.instruments.items() if s.is_swap
        }

    # ------------------------------------------------------------------ setup
    def add_instrument(self, inst: SimInstrument) -> None:
        self.instruments[inst.inst_id] = inst
        self.books[inst.inst_id] = L2Book(inst, self.plan.book_shape(inst.inst_id))
        if inst.is_swap and hasattr(self, "next_funding_ms"):
            self.next_funding_ms[inst.inst_id] = self._next_settlement(
                inst.inst_id, self.clock.now_ms()
            )

    def add_account(self, setup: AccountSetup) -> Account:
        if setup.name in self.accounts:
            raise ValueError(f"duplicate account name {setup.name!r}")
        self._ids += 1
        acct = Account(
            name=setup.name,
            uid=str(100000000000000000 + self._ids),
            keys=list(setup.keys),
            fees=fee_tier(setup.fee_tier),
            fee_tier=setup.fee_tier,
            acct_lv=setup.acct_lv,
            pos_mode=setup.pos_mode,
        )
        for ccy, amt in setup.trading.items():
            acct.trading[ccy] = Balance(cash=Decimal(amt))
        for ccy, amt in setup.funding.items():
            acct.funding[ccy] = Decimal(amt)
        self.accounts[acct.name] = acct
        for key in acct.keys:
            if key.api_key in self.accounts_by_key:
                raise ValueError(f"API key {key.api_key!r} is configured twice")
            self.accounts_by_key[key.api_key] = (acct, key)
        return acct

    def next_id(self) -> str:
        """A fresh numeric id, OKX-like (18+ digits), unique across the venue."""
        self._ids += 1
        return str(600000000000000000 + self._ids)

    def emit(self, kind: str, account: str, key: str) -> None:
        if self.listeners:
            ev = SimEvent(kind, account, key, self.clock.now_ms())
            for fn in self.listeners:
                fn(ev)

    # ------------------------------------------------------------------ market
    def instrument(self, inst_id: str) -> SimInstrument:
        inst = self.instruments.get(inst_id)
        if inst is None:
            raise err("51001")
        return inst

    def index_px(self, coin: str, ts_ms: int | None = None) -> Decimal:
        """Index price of ``coin`` in USDT (1 for USDT itself)."""
        if coin in ("USDT", "USD"):
            return Decimal(1)
        path = self.plan.prices.get(coin)
        if path is None:
            raise err("51001", f"No price for {coin}")
        px = path.price_at(self.clock.now_ms() if ts_ms is None else ts_ms)
        f = self.price_factor.get(coin)
        return px * f if f is not None else px

    def mark_px(self, inst_id: str, ts_ms: int | None = None) -> Decimal:
        inst = self.instrument(inst_id)
        idx = self.index_px(inst.base_ccy, ts_ms)
        if inst.is_swap:
            terms = self.plan.swaps.get(inst_id)
            if terms is not None and terms.basis_bps:
                return idx * (1 + terms.basis_bps / _BPS)
        return idx

    def book(self, inst_id: str) -> L2Book:
        """The instrument's book, rebuilt whenever the mid moved (checked once per clock tick)
        or liquidity is due to refresh (``book_refresh_ms``)."""
        book = self.books.get(inst_id)
        if book is None:
            raise err("51001")
        now = self.clock.now_ms()
        if book.built_ms < 0 or now != book.checked_ms:
            book.checked_ms = now
            mid = self.mark_px(inst_id, now)
            if mid != book.mid or now - book.built_ms >= self.book_refresh_ms:
                book.rebuild(mid, now)
                trading.cross_resting(self, inst_id)
                self.emit("book", "", inst_id)
        return book

    def touch(self, inst_id: str) -> tuple[Decimal, Decimal]:
        """Best bid and ask."""
        b = self.book(inst_id)
        bid = b.best_bid()
        ask = b.best_ask()
        if bid is None or ask is None:
            mid = self.mark_px(inst_id)
            return bid or mid, ask or mid
        return bid, ask

    # ------------------------------------------------------------------ funding
    def interval_hours(self, inst_id: str, ts_ms: int | None = None) -> int:
        terms = self.plan.swaps.get(inst_id)
        if terms is None:
            return 8
        return terms.funding.interval_hours_at(self.clock.now_ms() if ts_ms is None else ts_ms)

    def _next_settlement(self, inst_id: str, after_ms: int) -> int:
        step = self.interval_hours(inst_id, after_ms) * HOUR_MS
        return (after_ms // step + 1) * step

    def funding_rate(self, inst_id: str) -> Decimal:
        """The rate that will settle at the next settlement (OKX's current ``fundingRate``)."""
        if inst_id in self.funding_override:
            return self.funding_override[inst_id]
        terms = self.plan.swaps.get(inst_id)
        if terms is None:
            return ZERO
        return terms.funding.rate_at(self.next_funding_ms[inst_id])

    def settle_funding(self, inst_id: str, at_ms: int) -> None:
        """Settle one swap's funding at ``at_ms``: fee = position value x rate, longs pay
        shorts when the rate is positive; one type-8 bill per account with a position."""
        inst = self.instruments[inst_id]
        rate = self.funding_override.get(inst_id)
        if rate is None:
            terms = self.plan.swaps.get(inst_id)
            rate = terms.funding.rate_at(at_ms) if terms is not None else ZERO
        mark = self.mark_px(inst_id, at_ms)
        self.funding_history.setdefault(inst_id, []).append((at_ms, rate, mark))
        for acct in self.accounts.values():
            pos = acct.positions.get(inst_id)
            if pos is None or pos.pos == 0:
                continue
            qty = pos.pos * inst.ct_val
            fee = -qty * mark * rate  # what this account receives (negative = pays)
            trading.book_funding(self, acct, inst, pos, fee, mark, at_ms)

    # ------------------------------------------------------------------ time
    def sync(self) -> None:
        """Run every time-driven event due up to now, in time order."""
        now = self.clock.now_ms()
        if now < self._synced_ms:
            return
        while True:
            due_funding = min(self.next_funding_ms.values(), default=now + 1)
            due = min(due_funding, self._next_hour_ms)
            if due > now:
                break
            if due == due_funding:
                for inst_id, t in sorted(self.next_funding_ms.items()):
                    if t == due:
                        self.settle_funding(inst_id, t)
                        self.next_funding_ms[inst_id] = self._next_settlement(inst_id, t)
                        self.emit("funding", "", inst_id)
            if due == self._next_hour_ms:
                trading.accrue_hourly(self, due)
                self._next_hour_ms += HOUR_MS
        resting: set[str] = set()
        for acct in self.accounts.values():
            if acct.redemptions:
                trading.settle_redemptions(self, acct, now)
            for order in acct.open_orders.values():
                resting.add(order.inst_id)
        for inst_id in sorted(resting):  # books move with time: let resting orders cross
            self.book(inst_id)
        if now != self._synced_ms or self.price_factor:
            trading.check_liquidations(self)
        self._synced_ms = now

    # ------------------------------------------------------------------ control
    def set_price(
        self, coin: str, *, price: Decimal | None = None, pct: Decimal | None = None
    ) -> Decimal:
        """Move ``coin``'s index to ``price`` or by ``pct`` percent (the path keeps moving
        around the new level); returns the new index."""
        if coin not in self.plan.prices:
            raise ValueError(f"no price path for {coin!r}")
        base = self.plan.prices[coin].price_at(self.clock.now_ms())
        cur = self.index_px(coin)
        if price is not None:
            target = price
        elif pct is not None:
            target = cur * (1 + pct / 100)
        else:
            raise ValueError("give price or pct")
        if target <= 0:
            raise ValueError(f"price must stay > 0, got {target}")
        self.price_factor[coin] = target / base
        for inst in self.instruments.values():
            if inst.base_ccy == coin:
                self.books[inst.inst_id].built_ms = -1
        self.sync()
        return self.index_px(coin)

    def set_funding_rate(self, inst_id: str, rate: Decimal | None) -> None:
        if not self.instrument(inst_id).is_swap:
            raise ValueError(f"{inst_id} is not a swap")
        if rate is None:
            self.funding_override.pop(inst_id, None)
        else:
            self.funding_override[inst_id] = rate

    def settle_funding_now(self, inst_id: str | None = None) -> list[str]:
        """Settle funding immediately (for one swap or all) at the current rate."""
        now = self.clock.now_ms()
        ids = [inst_id] if inst_id else sorted(self.next_funding_ms)
        for i in ids:
            if not self.instrument(i).is_swap:
                raise ValueError(f"{i} is not a swap")
            self.settle_funding(i, now)
            self.emit("funding", "", i)
        return ids

    # ------------------------------------------------------------------ auth
    def authenticate(self, api_key: str) -> tuple[Account, ApiKey]:
        found = self.accounts_by_key.get(api_key)
        if found is None:
            raise err("50111")
        return found
