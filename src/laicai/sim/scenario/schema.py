"""The scenario file format (YAML) as pydantic models, and its compilation into a run setup.

A scenario names a start time, a seed, the coins it trades (each with a price path, optional
price events, a funding series, a basis and book shapes), per-currency Earn/borrow terms,
instrument overrides and the simulated accounts. Unknown keys are errors, and every error names
the key it is about (``coins.BTC.price.vol: ...``). Times inside a scenario (event ``at``,
funding flips, interval changes) are offsets from ``start``: ``90s``, ``30m``, ``2h``, ``1d``,
``1h30m``, or integer milliseconds.

See ``builtin/*.yml`` for complete examples; :func:`laicai.sim.scenario.load_scenario` loads
one by name or path and :meth:`Scenario.build` compiles it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from laicai.data.funding_history import FundingRecord, history_for
from laicai.sim.fees import FEE_TIERS
from laicai.sim.instruments import SimInstrument, pair_for
from laicai.sim.market import (
    BookShape,
    ConstantPrice,
    CurrencyTerms,
    FundingSeries,
    MarketPlan,
    PricePath,
    SwapTerms,
)
from laicai.sim.scenario.funding import (
    FixedFunding,
    FlippingFunding,
    IntervalSchedule,
    NoisyFunding,
    ReplayedFunding,
)
from laicai.sim.scenario.paths import (
    Crash,
    PriceEvent,
    RandomWalk,
    ReplayedPrice,
    SpikeAndRevert,
    Squeeze,
    with_events,
)
from laicai.sim.scenario.setup import (
    DEFAULT_API_KEY,
    DEFAULT_PASSPHRASE,
    DEFAULT_SECRET_KEY,
    AccountSpec,
    Balances,
    ScenarioSetup,
)

QUOTE = "USDT"
MS_PER_HOUR = 3_600_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")


def parse_duration(value: Any) -> int:
    """``"30m"``, ``"1h30m"``, ``"90s"``, ``"2d"``, ``"500ms"`` or an int of ms -> ms (>= 0)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like '30m' or milliseconds, got {value!r}")
    if isinstance(value, int):
        ms = value
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if text.lstrip("-").isdigit():
            ms = int(text)
        else:
            pos, total = 0, Decimal(0)
            for m in _DURATION_RE.finditer(text):
                if m.start() != pos:
                    break
                total += Decimal(m.group(1)) * _UNITS_MS[m.group(2)]
                pos = m.end()
            if pos != len(text) or not text:
                raise ValueError(
                    f"invalid duration {value!r}: use e.g. '90s', '30m', '2h', '1h30m', '1d' "
                    "or milliseconds"
                )
            ms = int(total)
    else:
        raise ValueError(f"expected a duration like '30m' or milliseconds, got {value!r}")
    if ms < 0:
        raise ValueError(f"duration must be >= 0, got {value!r}")
    return ms


def parse_timestamp(value: Any) -> int:
    """Epoch ms, an ISO-8601 text (``2026-04-23T00:00:00Z``), a datetime or a date (UTC)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a timestamp, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return int(text)
        try:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"invalid timestamp {text!r}: use ISO 8601 like 2026-04-23T00:00:00Z or epoch ms"
            ) from None
    if isinstance(value, dt.datetime):
        moment: dt.datetime = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return (moment - _EPOCH) // dt.timedelta(milliseconds=1)
    if isinstance(value, dt.date):
        midnight = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
        return (midnight - _EPOCH) // dt.timedelta(milliseconds=1)
    raise ValueError(f"expected a timestamp (ISO 8601 or epoch ms), got {value!r}")


Duration = Annotated[int, BeforeValidator(parse_duration)]
Timestamp = Annotated[int, BeforeValidator(parse_timestamp)]
PositiveDecimal = Annotated[Decimal, Field(gt=0)]
NonNegDecimal = Annotated[Decimal, Field(ge=0)]
Interval = Literal[1, 2, 4, 8]
Ccy = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,15}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------------------------
# price paths and events


class ReplayPriceSpec(_Strict):
    """Replay the coin's real mark prices at its funding settlements (Binance data, a stand-in
    for OKX), interpolated between settlements with a seeded Brownian bridge of ``bridge_vol``
    (annual; 0 = straight interpolation)."""

    kind: Literal["replay"]
    symbol: str | None = None  # dataset symbol, default "<COIN>-USDT-PERP"
    bridge_vol: float = Field(default=0.3, ge=0, le=10)

    def build(self, coin: str, seed: int, start_ms: int, bucket_ms: int) -> PricePath:
        rows = _history(coin, self.symbol, start_ms)
        return ReplayedPrice(
            ((r.ts_ms, r.mark_price) for r in rows),
            seed=seed, key=coin, bridge_vol=self.bridge_vol, bucket_ms=bucket_ms,
        )


class RandomWalkPriceSpec(_Strict):
    """Geometric Brownian motion from ``start`` (USDT) with annual ``vol`` and ``drift``."""

    kind: Literal["random_walk"]
    start: PositiveDecimal
    vol: float = Field(ge=0, le=10)
    drift: float = Field(default=0.0, ge=-10, le=10)

    def build(self, coin: str, seed: int, start_ms: int, bucket_ms: int) -> PricePath:
        return RandomWalk(
            self.start, self.vol, drift=self.drift, seed=seed, key=coin, start_ms=start_ms,
            bucket_ms=bucket_ms,
        )


class ConstantPriceSpec(_Strict):
    """A price that never moves (events still apply on top)."""

    kind: Literal["constant"]
    price: PositiveDecimal

    def build(self, coin: str, seed: int, start_ms: int, bucket_ms: int) -> PricePath:
        return ConstantPrice(self.price)


PriceSpec = Annotated[
    ReplayPriceSpec | RandomWalkPriceSpec | ConstantPriceSpec, Field(discriminator="kind")
]


class SqueezeSpec(_Strict):
    """Price rises ``pct`` % (> 0) linearly over ``duration`` from ``at``, then holds,
    drifting ``drift_pct_per_hour`` % per hour."""

    kind: Literal["squeeze"]
    at: Duration
    pct: float = Field(gt=0, le=10_000)
    duration: Duration
    drift_pct_per_hour: float = Field(default=0.0, gt=-100, le=100)

    def build(self, start_ms: int) -> PriceEvent:
        return Squeeze(start_ms + self.at, self.pct, self.duration, self.drift_pct_per_hour)


class CrashSpec(_Strict):
    """Price falls ``pct`` % (in (-100, 0)) linearly over ``duration`` from ``at``, then
    drifts ``drift_pct_per_hour`` % per hour (e.g. +0.5 for a slow recovery)."""

    kind: Literal["crash"]
    at: Duration
    pct: float = Field(gt=-100, lt=0)
    duration: Duration
    drift_pct_per_hour: float = Field(default=0.0, gt=-100, le=100)

    def build(self, start_ms: int) -> PriceEvent:
        return Crash(start_ms + self.at, self.pct, self.duration, self.drift_pct_per_hour)


class SpikeAndRevertSpec(_Strict):
    """Price jumps ``pct`` % at ``at`` and reverts linearly within ``revert``."""

    kind: Literal["spike_and_revert"]
    at: Duration
    pct: float = Field(gt=-100, le=10_000)
    revert: Duration = Field(gt=0)

    def build(self, start_ms: int) -> PriceEvent:
        return SpikeAndRevert(start_ms + self.at, self.pct, self.revert)


EventSpec = Annotated[
    SqueezeSpec | CrashSpec | SpikeAndRevertSpec, Field(discriminator="kind")
]


# --------------------------------------------------------------------------------------------
# funding


class IntervalChangeSpec(_Strict):
    at: Duration  # offset from start; put it on a settlement of the old interval
    hours: Interval


class _IntervalFields(_Strict):
    interval_hours: Interval = 8
    interval_changes: list[IntervalChangeSpec] = Field(default_factory=list)

    def schedule(self, start_ms: int) -> IntervalSchedule:
        return IntervalSchedule(
            self.interval_hours, tuple((start_ms + c.at, c.hours) for c in self.interval_changes)
        )


class ReplayFundingSpec(_Strict):
    """Replay the coin's real funding rates and intervals (Binance data, stand-in for OKX)."""

    kind: Literal["replay"]
    symbol: str | None = None

    def build(self, coin: str, seed: int, start_ms: int) -> FundingSeries:
        rows = _history(coin, self.symbol, start_ms)
        return ReplayedFunding((r.ts_ms, r.rate, r.interval_hours) for r in rows)


class ConstantFundingSpec(_IntervalFields):
    """The same ``rate`` every settlement."""

    kind: Literal["constant"]
    rate: Decimal = Field(ge=Decimal("-0.1"), le=Decimal("0.1"))

    def build(self, coin: str, seed: int, start_ms: int) -> FundingSeries:
        return FixedFunding(self.rate, self.schedule(start_ms))


class FlipFundingSpec(_IntervalFields):
    """``before`` until ``at``, then ``after`` (moving linearly over ``transition``)."""

    kind: Literal["flip"]
    before: Decimal = Field(ge=Decimal("-0.1"), le=Decimal("0.1"))
    after: Decimal = Field(ge=Decimal("-0.1"), le=Decimal("0.1"))
    at: Duration
    transition: Duration = 0

    def build(self, coin: str, seed: int, start_ms: int) -> FundingSeries:
        return FlippingFunding(
            self.before, self.after, start_ms + self.at, self.schedule(start_ms), self.transition
        )


class NoisyFundingSpec(_IntervalFields):
    """Mean-reverting rates around ``mean`` with stationary std ``sigma`` and half-life
    ``half_life`` (a duration), optionally clamped to ``±cap``."""

    kind: Literal["noisy"]
    mean: Decimal = Field(ge=Decimal("-0.1"), le=Decimal("0.1"))
    sigma: NonNegDecimal = Field(le=Decimal("0.1"))
    half_life: Duration = Field(default=24 * MS_PER_HOUR, gt=0)
    cap: PositiveDecimal | None = None

    def build(self, coin: str, seed: int, start_ms: int) -> FundingSeries:
        return NoisyFunding(
            self.mean, self.sigma, half_life_hours=self.half_life / MS_PER_HOUR, seed=seed,
            key=f"{coin}-funding", interval=self.schedule(start_ms), cap=self.cap,
        )


FundingSpec = Annotated[
    ReplayFundingSpec | ConstantFundingSpec | FlipFundingSpec | NoisyFundingSpec,
    Field(discriminator="kind"),
]


# --------------------------------------------------------------------------------------------
# books, currencies, instruments, accounts


class BookSpec(_Strict):
    """Any subset of :class:`laicai.sim.market.BookShape`'s fields; the rest inherit."""

    spread_bps: NonNegDecimal | None = None
    levels: int | None = Field(default=None, ge=1, le=400)
    level_notional_usdt: PositiveDecimal | None = None
    level_step_bps: PositiveDecimal | None = None
    growth: PositiveDecimal | None = None

    def over(self, base: BookShape) -> BookShape:
        return replace(base, **self.model_dump(exclude_none=True))


class CoinSpec(_Strict):
    price: PriceSpec
    events: list[EventSpec] = Field(default_factory=list)
    funding: FundingSpec = Field(
        default_factory=lambda: ConstantFundingSpec(kind="constant", rate=Decimal("0.0001"))
    )
    basis_bps: Decimal = Field(default=Decimal(0), ge=-1000, le=1000)  # swap mark over index
    book: BookSpec = Field(default_factory=BookSpec)  # spot and swap
    spot_book: BookSpec = Field(default_factory=BookSpec)  # over ``book``, spot only
    swap_book: BookSpec = Field(default_factory=BookSpec)  # over ``book``, swap only


class CurrencySpec(_Strict):
    earn_apr: NonNegDecimal = Decimal(0)
    borrow_apr: NonNegDecimal = Decimal(0)
    borrow_limit: NonNegDecimal = Decimal(0)  # in the currency; 0 = cannot be borrowed
    redeem_delay: Duration = 0

    def terms(self) -> CurrencyTerms:
        return CurrencyTerms(self.earn_apr, self.borrow_apr, self.borrow_limit, self.redeem_delay)


class InstrumentOverride(_Strict):
    """Per-instId overrides, by OKX's own field names."""

    state: Literal["live", "suspend", "preopen", "test"] | None = None
    tickSz: PositiveDecimal | None = None
    lotSz: PositiveDecimal | None = None
    minSz: PositiveDecimal | None = None
    ctVal: PositiveDecimal | None = None  # swaps only
    lever: int | None = Field(default=None, ge=1, le=125)
    listTime: int | None = Field(default=None, ge=0)  # epoch ms

    def apply(self, inst: SimInstrument) -> SimInstrument:
        changes: dict[str, Any] = {}
        if self.state is not None:
            changes["state"] = self.state
        if self.tickSz is not None:
            changes["tick_sz"] = self.tickSz
        if self.lotSz is not None:
            changes["lot_sz"] = self.lotSz
        if self.minSz is not None:
            changes["min_sz"] = self.minSz
        if self.ctVal is not None:
            if not inst.is_swap:
                raise ValueError(f"instruments.{inst.inst_id}.ctVal: only swaps have ctVal")
            changes["ct_val"] = self.ctVal
        if self.lever is not None:
            changes["max_lever"] = self.lever
        if self.listTime is not None:
            changes["list_time_ms"] = self.listTime
        return replace(inst, **changes)


class BalancesSpec(_Strict):
    trading: dict[Ccy, NonNegDecimal] = Field(default_factory=lambda: {QUOTE: Decimal(100_000)})
    funding: dict[Ccy, NonNegDecimal] = Field(default_factory=dict)


_PERMISSIONS = ("read_only", "trade", "withdraw")


class AccountModel(_Strict):
    name: str = Field(default="main", min_length=1)
    api_key: str = Field(default=DEFAULT_API_KEY, min_length=1)
    secret_key: str = Field(default=DEFAULT_SECRET_KEY, min_length=1)
    passphrase: str = Field(default=DEFAULT_PASSPHRASE, min_length=1)
    perm: str = "read_only,trade"
    acct_lv: Literal[1, 2, 3, 4] = 2
    pos_mode: Literal["net_mode", "long_short_mode"] = "net_mode"
    fee_tier: str = "VIP0"  # a tier of laicai.sim.fees.FEE_TIERS
    balances: BalancesSpec = Field(default_factory=BalancesSpec)

    @model_validator(mode="after")
    def _check(self) -> AccountModel:
        perms = [p.strip() for p in self.perm.split(",")]
        bad = [p for p in perms if p not in _PERMISSIONS]
        if bad or not perms:
            raise ValueError(f"perm: unknown permission(s) {bad}; use {', '.join(_PERMISSIONS)}")
        if self.fee_tier not in FEE_TIERS:
            raise ValueError(
                f"fee_tier: unknown tier {self.fee_tier!r}; known tiers: {', '.join(FEE_TIERS)}"
            )
        return self

    def spec(self) -> AccountSpec:
        return AccountSpec(
            name=self.name, api_key=self.api_key, secret_key=self.secret_key,
            passphrase=self.passphrase, perm=self.perm, acct_lv=self.acct_lv,
            pos_mode=self.pos_mode, fee_tier=self.fee_tier, fees=FEE_TIERS[self.fee_tier],
            balances=Balances(
                trading=dict(self.balances.trading), funding=dict(self.balances.funding)
            ),
        )


# --------------------------------------------------------------------------------------------
# the scenario


class Scenario(_Strict):
    """One scenario file. ``build(seed)`` compiles it into a :class:`ScenarioSetup`."""

    name: str = "scenario"
    description: str = ""
    start: Timestamp  # simulated start time
    duration: Duration | None = None  # suggested run length
    seed: int = 0  # default seed; ``build(seed=...)`` overrides
    price_bucket: Duration = Field(default=1000, gt=0)  # prices are constant within a bucket
    coins: dict[Ccy, CoinSpec] = Field(min_length=1)
    currencies: dict[Ccy, CurrencySpec] = Field(default_factory=dict)
    default_book: BookSpec = Field(default_factory=BookSpec)
    instruments: dict[str, InstrumentOverride] = Field(default_factory=dict)
    accounts: list[AccountModel] = Field(default_factory=lambda: [AccountModel()], min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        if 60_000 % self.price_bucket:
            raise ValueError(
                f"price_bucket: {self.price_bucket} ms does not divide a minute (replayed "
                "settlement prices must fall on bucket starts); use e.g. 1s, 5s, 15s or 1m"
            )
        known = {f"{c}-{QUOTE}" for c in self.coins} | {f"{c}-{QUOTE}-SWAP" for c in self.coins}
        for inst_id in self.instruments:
            if inst_id not in known:
                raise ValueError(
                    f"instruments.{inst_id}: not an instrument of this scenario "
                    f"(its instruments: {', '.join(sorted(known))})"
                )
        for field_name in ("name", "api_key"):
            seen: set[str] = set()
            for acct in self.accounts:
                value = getattr(acct, field_name)
                if value in seen:
                    raise ValueError(f"accounts: duplicate {field_name} {value!r}")
                seen.add(value)
        return self

    @property
    def coin_names(self) -> list[str]:
        return list(self.coins)

    def build(self, seed: int | None = None) -> ScenarioSetup:
        """Compile into paths, funding series, instruments and accounts (deterministic in
        ``seed``; the scenario's own ``seed`` if None)."""
        seed = self.seed if seed is None else seed
        start, bucket = self.start, self.price_bucket
        default_book = self.default_book.over(BookShape())
        prices: dict[str, PricePath] = {}
        swaps: dict[str, SwapTerms] = {}
        books: dict[str, BookShape] = {}
        instruments: list[SimInstrument] = []
        for coin, spec in self.coins.items():
            base = spec.price.build(coin, seed, start, bucket)
            path = with_events(base, [e.build(start) for e in spec.events], bucket)
            prices[coin] = path
            spot_id, swap_id = f"{coin}-{QUOTE}", f"{coin}-{QUOTE}-SWAP"
            swaps[swap_id] = SwapTerms(spec.funding.build(coin, seed, start), spec.basis_bps)
            coin_book = spec.book.over(default_book)
            books[spot_id] = spec.spot_book.over(coin_book)
            books[swap_id] = spec.swap_book.over(coin_book)
            for inst in pair_for(coin, path.price_at(start), QUOTE):
                override = self.instruments.get(inst.inst_id)
                instruments.append(override.apply(inst) if override else inst)
        plan = MarketPlan(
            prices=prices,
            swaps=swaps,
            books=books,
            currencies={ccy: c.terms() for ccy, c in self.currencies.items()},
            default_book=default_book,
        )
        return ScenarioSetup(
            name=self.name,
            description=self.description,
            seed=seed,
            start_ms=start,
            plan=plan,
            instruments=instruments,
            accounts=[a.spec() for a in self.accounts],
            duration_ms=self.duration,
            coins=list(self.coins),
        )


def _history(coin: str, symbol: str | None, start_ms: int) -> tuple[FundingRecord, ...]:
    try:
        rows = history_for(symbol or coin)
    except KeyError as e:
        raise ValueError(f"coins.{coin}: {e.args[0]}") from None
    if not rows[0].ts_ms <= start_ms < rows[-1].ts_ms:
        first = dt.datetime.fromtimestamp(rows[0].ts_ms / 1000, dt.UTC).isoformat()
        last = dt.datetime.fromtimestamp(rows[-1].ts_ms / 1000, dt.UTC).isoformat()
        raise ValueError(
            f"coins.{coin}: replayed history of {rows[0].symbol} covers {first} .. {last}; "
            "the scenario's start must fall inside it"
        )
    return rows


__all__ = [
    "AccountModel",
    "BookSpec",
    "CoinSpec",
    "CurrencySpec",
    "InstrumentOverride",
    "Scenario",
    "parse_duration",
    "parse_timestamp",
]
