"""The bootstrap self-check (seed 000 step 1, 启动前自检): is everything in place to trade?

``laicai check`` prints it; ``laicai run`` calls :func:`run_self_check` before anything else
and refuses to start when a check fails. The checks, in order:

config, API keys present, exchange reachable, keys accepted (a signed call), key permissions
(trade and read, never withdraw), account mode (OKX ``acctLv`` 2 or 3), position mode
(``net_mode``), leverage settable (on a swap without a position, restored afterwards), database
reachable and migrated, clock skew, last exit clean, leftovers on the exchange that the
database does not know, funds.

Each check gives ``ok``, ``warn`` or ``fail`` with a detail, and a concrete fix for anything
that is not ok; ``skip`` marks a check that could not run because an earlier one failed (so a
report with a skip always has a failure). The judging functions (``check_*``) are pure, over
plain values; :func:`run_self_check` gathers the values. Nothing here prints or logs a secret:
details name environment variables, never their values, and exchange errors arrive redacted.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from alembic.script import ScriptDirectory

from laicai.config.schema import Settings
from laicai.config.secrets import SECRET_ENV_VARS, Secrets
from laicai.domain.account import AccountConfig, Balance, PerpPosition
from laicai.domain.enums import Direction
from laicai.domain.orders import OrderState
from laicai.errors import ConfigError, ExchangeError, LaicaiError, PermissionDenied
from laicai.execution.carry import ExecutionParams
from laicai.risk.params import RiskParams
from laicai.store.db import database_url, masked, sqlite_file
from laicai.store.migrate import alembic_config, current_revision, head_revision
from laicai.store.records import PositionRecord
from laicai.store.repository import Repository
from laicai.store.states import PositionStatus
from laicai.store.store import Store, connect
from laicai.venues.connect import PAPER_REST_URL, open_venue, venue_target
from laicai.venues.okx.errors import okx_code_of
from laicai.venues.port import TradingExchange

log = logging.getLogger(__name__)

ENGINE_STATE_KEY = "engine"
"""``bot_state`` key the engine keeps its run record under (state, mode, pid, heartbeat...)."""

HEARTBEAT_STALE_SECONDS = 90.0
"""An engine whose heartbeat is older than this is taken for not running."""

OKX_MAX_TIMESTAMP_SKEW_MS = 30_000  # OKX refuses signed requests further off (50102)
CLOCK_FAIL_SKEW_MS = 25_000  # fail before OKX starts refusing requests
SETTLE_CCY = "USDT"
LEVERAGE_PROBES = ("BTC", "ETH")  # swaps tried for the leverage check after the allow list
SIZE_TOLERANCE = Decimal("0.01")  # exchange perp vs database size, relative
OKX_KEYS = ("okx_api_key", "okx_secret_key", "okx_passphrase")


class CheckStatus(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"  # not run: an earlier check failed


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One line of the checklist. ``name`` is stable (for programs), ``title`` for people."""

    name: str
    title: str
    status: CheckStatus
    detail: str
    fix: str | None = None


@dataclass(frozen=True, slots=True)
class SelfCheckReport:
    checks: tuple[CheckResult, ...]
    mode: str
    dry_run: bool
    venue: str
    checked_at: datetime

    @property
    def ok(self) -> bool:
        """No check failed (warnings allow a start)."""
        return not self.failures

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.status is CheckStatus.FAIL)

    @property
    def warnings(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.status is CheckStatus.WARN)

    def get(self, name: str) -> CheckResult:
        return next(c for c in self.checks if c.name == name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "mode": self.mode, "dry_run": self.dry_run, "venue": self.venue,
            "checked_at": self.checked_at.isoformat(),
            "checks": [{"name": c.name, "title": c.title, "status": c.status.value,
                        "detail": c.detail, "fix": c.fix} for c in self.checks],
        }


TITLES: dict[str, str] = {
    "config": "configuration complete and valid",
    "keys_present": "API keys present",
    "exchange_reachable": "exchange reachable",
    "keys_accepted": "API keys accepted",
    "key_permissions": "API key permissions",
    "account_mode": "account mode",
    "position_mode": "position mode",
    "leverage": "leverage settable",
    "database": "database reachable and migrated",
    "clock": "clock skew",
    "last_exit": "last exit",
    "leftovers": "leftover positions and orders",
    "funds": "funds",
}
"""Every check, in the order it is reported."""


def _result(name: str, status: CheckStatus, detail: str, fix: str | None = None
            ) -> CheckResult:
    return CheckResult(name, TITLES[name], status, detail, fix)


def ok(name: str, detail: str) -> CheckResult:
    return _result(name, CheckStatus.OK, detail)


def warn(name: str, detail: str, fix: str) -> CheckResult:
    return _result(name, CheckStatus.WARN, detail, fix)


def fail(name: str, detail: str, fix: str) -> CheckResult:
    return _result(name, CheckStatus.FAIL, detail, fix)


def skip(name: str, because: str) -> CheckResult:
    return _result(name, CheckStatus.SKIP, f"not checked: {because}")


def _plain(x: Decimal) -> str:
    """``0.10`` -> ``0.1``, ``1E+1`` -> ``10``: the number as a person writes it."""
    return format(x.normalize(), "f") if x else "0"


def _amount(x: Decimal, places: int = 2) -> str:
    return f"{x:,.{places}f}"


# ====================================================================== pure checks
def check_config(settings: Settings, config_path: Path | None) -> CheckResult:
    """The loader has validated everything already; say which file, and warn when live mode
    runs on built-in defaults alone."""
    where = f"loaded from {config_path}" if config_path is not None else (
        "no config file: built-in defaults")
    venue = ""
    if settings.mode == "live":
        venue = " on OKX demo trading" if settings.okx.sandbox_mode else " on real OKX"
    what = f"valid, {where}; mode {settings.mode}{venue}{', dry run' if settings.dry_run else ''}"
    if settings.mode == "live" and config_path is None:
        return warn("config", what,
                    "copy config/config.example.yml to config/config.yml, review every value "
                    "and pass it with --config (live trading should not run on defaults)")
    return ok("config", what)


def check_keys_present(mode: str, secrets: Secrets) -> CheckResult:
    """All three OKX variables, or (paper mode only) none: the simulator's default account."""
    missing = [SECRET_ENV_VARS[f] for f in OKX_KEYS if getattr(secrets, f) is None]
    names = ", ".join(SECRET_ENV_VARS[f] for f in OKX_KEYS)
    if not missing:
        return ok("keys_present", f"{names} are set")
    if mode == "paper" and len(missing) == len(OKX_KEYS):
        return ok("keys_present", "paper mode without LAICAI_OKX_* variables: the "
                                  "simulator's default account is used")
    verb = "is" if len(missing) == 1 else "are"
    return fail("keys_present", f"{', '.join(missing)} {verb} not set",
                f"set {', '.join(missing)} in the environment or in .env (see .env.example); "
                "keys are never read from the config file")


_AUTH_FIXES: dict[str, str] = {
    "50111": "OKX does not know this API key: check LAICAI_OKX_API_KEY (demo-trading keys only "
             "work with okx.sandbox_mode: true, real keys only with false)",
    "50113": "the request signature did not verify: LAICAI_OKX_SECRET_KEY is not the secret of "
             "this API key (copy it again from OKX, or create a new key)",
    "50105": "LAICAI_OKX_PASSPHRASE is not the passphrase set for this API key",
    "50102": "OKX refused the request timestamp: this machine's clock is off by more than 30 s "
             "(enable NTP, e.g. `timedatectl set-ntp true`)",
    "50110": "this machine's IP address is not in the API key's IP allow list on OKX",
    "50100": "the API key is frozen on OKX: unfreeze it or create a new one",
    "50101": "the key belongs to the other environment: demo-trading keys need "
             "okx.sandbox_mode: true, real keys false",
}


def check_keys_refused(error: ExchangeError) -> CheckResult:
    """Why OKX refused a signed call, and what to do about it (by OKX's error code)."""
    code = okx_code_of(error)
    fix = _AUTH_FIXES.get(code or "")
    if fix is None:
        fix = ("check LAICAI_OKX_API_KEY, LAICAI_OKX_SECRET_KEY and LAICAI_OKX_PASSPHRASE "
               "belong to one key of this environment (live or demo trading)")
    return fail("keys_accepted", f"the signed request was refused: {error}", fix)


def check_permissions(cfg: AccountConfig) -> CheckResult:
    """Trade and read are needed; a key that can withdraw is refused outright."""
    perms = ", ".join(sorted(cfg.permissions)) or "none"
    if cfg.can_withdraw:
        return fail("key_permissions", f"the key may WITHDRAW (permissions: {perms})",
                    "create a new API key with only Read and Trade on OKX (Profile -> API), "
                    "set it in LAICAI_OKX_*, and delete this one: a leaked key that can "
                    "withdraw can empty the account")
    missing = [p for p, name in (("read_only", "Read"), ("trade", "Trade"))
               if p not in cfg.permissions]
    if missing:
        return fail("key_permissions", f"the key lacks {' and '.join(missing)} "
                                       f"(permissions: {perms})",
                    "edit the API key on OKX (Profile -> API) and enable Read and Trade "
                    "(never Withdraw)")
    return ok("key_permissions", f"{perms}; no withdrawal")


_ACCOUNT_LEVELS = {1: "simple (spot only)", 2: "single-currency margin",
                   3: "multi-currency margin", 4: "portfolio margin"}
_ACCOUNT_MODE_FIX = ("switch the account mode on OKX (trading page -> Settings -> Account "
                     "mode) to 'Spot and futures' (single-currency margin) or 'Multi-currency "
                     "margin'; OKX switches only with no open positions or orders (API: POST "
                     "/api/v5/account/set-account-level, acctLv 2 or 3)")


def check_account_mode(cfg: AccountConfig) -> CheckResult:
    """acctLv 2 (single-currency margin) or 3 (multi-currency margin)."""
    level = cfg.account_level
    name = _ACCOUNT_LEVELS.get(level, "unknown")
    if level in (2, 3):
        return ok("account_mode", f"acctLv {level}: {name}")
    if level == 1:
        return fail("account_mode", f"acctLv 1: {name}: swaps and margin borrowing are not "
                                    "available", _ACCOUNT_MODE_FIX)
    return fail("account_mode", f"acctLv {level}: {name} is not supported (laicai's margin "
                                "ladder assumes single- or multi-currency margin)",
                _ACCOUNT_MODE_FIX)


def check_position_mode(cfg: AccountConfig) -> CheckResult:
    if cfg.position_mode == "net_mode":
        return ok("position_mode", "net_mode (one-way)")
    return fail("position_mode", f"{cfg.position_mode}: laicai nets each swap into one "
                                 "position and needs one-way (net) mode",
                "switch to one-way mode on OKX (trading page -> Settings -> Position mode -> "
                "One-way), or POST /api/v5/account/set-position-mode with posMode=net_mode; "
                "OKX allows it only with no open positions or orders")


def check_clock(skew_ms: int, round_trip_ms: int, *, paper: bool, max_skew_ms: int
                ) -> CheckResult:
    """``skew_ms`` = venue time - local time (at the middle of the request)."""
    off = f"{skew_ms:+,} ms" if abs(skew_ms) < 120_000 else (
        f"{'+' if skew_ms > 0 else '-'}{_ago(abs(skew_ms) / 1000).removesuffix(' ago')}")
    detail = f"venue clock {off} from this machine's (round trip {round_trip_ms} ms)"
    if paper:
        return ok("clock", f"{detail}; the simulator runs its own clock, requests are signed "
                           "with wall-clock time, which it accepts")
    fix = ("synchronise this machine's clock (enable NTP: `timedatectl set-ntp true`, or "
           "chrony/ntpd)")
    if abs(skew_ms) > CLOCK_FAIL_SKEW_MS:
        return fail("clock", f"{detail}; OKX refuses signed requests beyond "
                             f"{OKX_MAX_TIMESTAMP_SKEW_MS // 1000} s", fix)
    if abs(skew_ms) > max_skew_ms:
        return warn("clock", f"{detail}; over the {max_skew_ms} ms the exchange guard allows: "
                             "new entries would be paused", fix)
    return ok("clock", detail)


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class EngineRecord:
    """The engine's run record in ``bot_state`` (key ``"engine"``), read leniently: a field
    of the wrong type reads as unknown (``None``)."""

    state: str | None = None
    mode: str | None = None
    dry_run: bool | None = None
    pid: int | None = None
    started_at: datetime | None = None
    heartbeat: datetime | None = None
    clean_exit: bool | None = None
    host: str | None = None

    @classmethod
    def parse(cls, value: object) -> EngineRecord:
        if not isinstance(value, Mapping):
            raise ValueError(f"expected a JSON object, got {type(value).__name__}")

        def typed(key: str, kind: type[Any]) -> Any:
            v = value.get(key)
            return v if isinstance(v, kind) and not (kind is int and isinstance(v, bool)) \
                else None

        return cls(state=typed("state", str), mode=typed("mode", str),
                   dry_run=typed("dry_run", bool), pid=typed("pid", int),
                   started_at=_parse_time(value.get("started_at")),
                   heartbeat=_parse_time(value.get("heartbeat")),
                   clean_exit=typed("clean_exit", bool), host=typed("host", str))

    def gone(self) -> bool:
        """Its process is known to be dead: recorded on this host and no such pid (a crash
        need not wait for the heartbeat to go stale)."""
        if self.host != socket.gethostname() or self.pid is None:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except OSError:  # exists, owned by someone else
            return False
        return False

    def heartbeat_age_s(self, now: datetime) -> float | None:
        return None if self.heartbeat is None else (now - self.heartbeat).total_seconds()

    def running(self, now: datetime, stale_after_s: float = HEARTBEAT_STALE_SECONDS) -> bool:
        """Alive by its record: no clean exit, not STOPPED, and a heartbeat that is fresh (a
        heartbeat far in the future, written on another clock, proves nothing)."""
        age = self.heartbeat_age_s(now)
        return (self.clean_exit is not True and self.state != "STOPPED" and age is not None
                and -stale_after_s <= age <= stale_after_s and not self.gone())


def _other_engine_running(value: object, now: datetime, own_pid: int | None) -> bool:
    try:
        rec = EngineRecord.parse(value)
    except ValueError:
        return False
    return rec.running(now) and rec.pid != own_pid


def _ago(seconds: float) -> str:
    if seconds < 0:
        return _ago(-seconds).replace(" ago", " in the future")
    s = int(seconds)
    if s < 120:
        return f"{s} s ago"
    if s < 7200:
        return f"{s // 60} min ago"
    if s < 172_800:
        return f"{s // 3600} h {s % 3600 // 60} min ago"
    return f"{s // 86400} days ago"


def check_last_exit(value: object, now: datetime, *, own_pid: int | None = None
                    ) -> CheckResult:
    """From the engine's run record: first start, clean exit, crash, or still running."""
    if value is None:
        return ok("last_exit", "first start: no engine run recorded in the database")
    try:
        rec = EngineRecord.parse(value)
    except ValueError as e:
        return warn("last_exit", f"the engine's run record is unreadable ({e})",
                    "nothing to do before a start: the engine rewrites it; if this repeats, "
                    "look for another program writing bot_state 'engine'")
    age = rec.heartbeat_age_s(now)
    beat = "no heartbeat" if age is None else f"last heartbeat {_ago(age)}"
    run = (f"state {rec.state or '?'}, mode {rec.mode or '?'}"
           f"{', dry run' if rec.dry_run else ''}, pid {rec.pid or '?'}")
    if rec.running(now):
        if own_pid is not None and rec.pid == own_pid:
            return ok("last_exit", f"this process is the engine on record ({run}, {beat})")
        return fail("last_exit", f"an engine appears to be running ({run}, {beat})",
                    "stop it before starting another (two engines on one account trade "
                    "against each other); if it is gone (killed seconds ago), check again "
                    f"once its heartbeat is {int(HEARTBEAT_STALE_SECONDS)} s old")
    if rec.clean_exit is True:
        return ok("last_exit", f"the last run stopped cleanly ({run}, {beat})")
    return warn("last_exit", f"the last run did not exit cleanly ({run}, {beat})",
                "nothing to do by hand: at start, crash recovery reconciles the journal, orders "
                "and positions with the exchange before any new trade; read the log "
                "(logging.file) to learn why it stopped")


def _expected_perp_base(positions: Sequence[PositionRecord]) -> dict[str, Decimal]:
    """Signed base quantity of the perp legs the database expects, per swap."""
    out: dict[str, Decimal] = {}
    for p in positions:
        sign = -1 if p.direction is Direction.SHORT else 1
        out[p.swap_inst_id] = out.get(p.swap_inst_id, Decimal(0)) + sign * p.position_amount
    return out


LEFTOVER_FIX = ("run `laicai close-all` to flatten them, or let crash recovery adopt them at "
                "the next start (`laicai run`); close by hand on OKX what laicai must not touch")


def check_leftovers(db_positions: Sequence[PositionRecord], perp: Sequence[PerpPosition],
                    balances: Sequence[Balance], earn: Mapping[str, Decimal],
                    open_orders: Sequence[OrderState], known_order_ids: Collection[str]
                    ) -> CheckResult:
    """What the exchange holds that the database does not account for: perp positions, borrowed
    coin, Simple Earn holdings (not USDT), open orders; and the database's OPEN positions the
    exchange no longer has."""
    found: list[str] = []
    expected = _expected_perp_base(db_positions)
    for p in perp:
        want = expected.get(p.inst_id)
        side = "short" if p.contracts < 0 else "long"
        if want is None:
            found.append(f"perp {p.inst_id} {side} {_plain(abs(p.contracts))} contracts "
                         f"({_plain(abs(p.base_qty))} base) has no open position in the database")
        elif abs(p.base_qty - want) > SIZE_TOLERANCE * max(abs(want), abs(p.base_qty)):
            found.append(f"perp {p.inst_id} holds {_plain(p.base_qty)} base, the database "
                         f"expects {_plain(want)}")
    held = {p.inst_id for p in perp}
    for pos in db_positions:
        if pos.status is PositionStatus.OPEN and pos.swap_inst_id not in held:
            found.append(f"position #{pos.id} {pos.symbol} {pos.direction.value} is OPEN in the "
                         f"database but the exchange has no {pos.swap_inst_id} position")
    in_flight = [p for p in db_positions if p.status is not PositionStatus.OPEN]
    for pos in in_flight:
        found.append(f"position #{pos.id} {pos.symbol} was left {pos.status.value} "
                     "(an operation in flight)")
    borrowers = {p.borrow_ccy for p in db_positions
                 if p.direction is Direction.LONG and p.borrow_ccy}
    for b in balances:
        if b.liability > 0 and b.ccy not in borrowers:
            found.append(f"borrowed {_plain(b.liability)} {b.ccy} not owed by any open position")
    earners = {p.symbol for p in db_positions if p.direction is Direction.SHORT}
    for ccy, amount in sorted(earn.items()):
        if amount > 0 and ccy != SETTLE_CCY and ccy not in earners:
            found.append(f"{_plain(amount)} {ccy} in Simple Earn not held by any open position")
    unknown = [o for o in open_orders if o.client_order_id not in known_order_ids]
    if unknown:
        ids = ", ".join(f"{o.inst_id} {o.side.value} {_plain(o.remaining)}" for o in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        found.append(f"{len(unknown)} open order(s) laicai did not place: {ids}{more}")
    ours = len(open_orders) - len(unknown)
    if ours:
        found.append(f"{ours} open order(s) of laicai still resting")
    if not found:
        return ok("leftovers", f"exchange and database agree ({len(db_positions)} open "
                               f"position(s), {len(perp)} perp position(s), no open orders)")
    return warn("leftovers", "; ".join(found), LEFTOVER_FIX)


def check_funds(trading: Sequence[Balance], funding: Sequence[Balance],
                total_capital: Decimal | None) -> CheckResult:
    """USDT available in the trading account (the funding account can only top up)."""
    usdt = next((b for b in trading if b.ccy == SETTLE_CCY), None)
    avail = usdt.available if usdt else Decimal(0)
    equity = usdt.total if usdt else Decimal(0)
    in_funding = next((b.available for b in funding if b.ccy == SETTLE_CCY), Decimal(0))
    detail = (f"trading account: {_amount(avail)} USDT available of {_amount(equity)} USDT "
              f"equity; funding account: {_amount(in_funding)} USDT")
    if avail <= 0:
        fix = ("transfer USDT from the funding account to the trading account (OKX: Assets -> "
               "Transfer)" if in_funding > 0 else
               "deposit USDT and move it to the trading account (OKX: Assets -> Transfer)")
        return fail("funds", f"no USDT available to trade; {detail}", fix)
    if total_capital is not None and equity + in_funding < total_capital:
        return warn("funds", f"{detail}: less than account.total_capital "
                             f"{_amount(total_capital)} USDT",
                    "deposit the difference, or lower account.total_capital")
    return ok("funds", detail)


def config_failure_report(error: ConfigError, config_path: Path | None, *,
                          now: datetime | None = None) -> SelfCheckReport:
    """The checklist when the configuration itself does not load: everything else skipped."""
    where = f"{config_path}" if config_path is not None else "the built-in defaults"
    problems = "; ".join(error.problems)
    checks = [fail("config", f"{where}: {problems}",
                   "fix each key named above (`laicai config check` lists them; "
                   "config/config.example.yml documents every key)")]
    checks += [skip(n, "the configuration does not load") for n in TITLES if n != "config"]
    return SelfCheckReport(tuple(checks), mode="unknown", dry_run=False, venue="unknown",
                           checked_at=now or datetime.now(UTC))


# ====================================================================== gathering
class SelfCheckVenue(TradingExchange, Protocol):
    """The port plus the reads only the self-check needs (the OKX adapter has them)."""

    async def server_time_ms(self) -> int: ...

    async def leverage(self, inst_id: str, margin_mode: str = "cross") -> int: ...

    async def earn_balances(self) -> Mapping[str, Decimal]: ...


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(slots=True)
class _DbFacts:
    """What the database says; ``usable`` False when it cannot be read (missing or empty
    counts as usable: a first start, with nothing in it)."""

    usable: bool = False
    engine_state: object = None
    positions: list[PositionRecord] = field(default_factory=list)
    store: Repository | None = None


def _known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return {s.revision for s in script.walk_revisions()}


async def _check_database(settings: Settings, secrets: Secrets, store: Repository | None
                          ) -> tuple[CheckResult, _DbFacts, Store | None]:
    """Reach the database and compare its schema with this laicai's; returns the store to read
    (and the one opened here, for closing). A missing or empty database is a first start."""
    empty = _DbFacts(usable=True)
    if store is not None:
        if isinstance(store, Store):
            try:
                revision, head = await current_revision(store.engine), head_revision()
            except Exception as e:  # any driver error: not usable
                return (fail("database", f"{store.masked_url}: cannot read the schema revision "
                                         f"({type(e).__name__})",
                             "check that the database is up and reachable"), _DbFacts(), None)
            if revision != head:
                return (fail("database", f"{store.masked_url} is at revision {revision}, this "
                                         f"laicai needs {head}", "run `laicai db upgrade`"),
                        _DbFacts(), None)
            where = f"{store.masked_url} at revision {head}"
        else:
            where = f"the given store ({type(store).__name__})"
        return ok("database", where), _DbFacts(usable=True, store=store), None
    try:
        url = database_url(settings.database, secrets.db_password)
    except ConfigError as e:
        return fail("database", str(e), "fix database.url in the config"), _DbFacts(), None
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return (warn("database", f"no database yet at {path} (a first start)",
                     "nothing to do: `laicai run` creates it (or `laicai db upgrade` now)"),
                empty, None)
    try:
        engine, url = await connect(settings.database, secrets.db_password)
    except LaicaiError as e:
        fix = ("check database.* in the config and LAICAI_DB_PASSWORD; is the server up?"
               if path is None else "check database.path and the folder's permissions")
        return fail("database", str(e), fix), _DbFacts(), None
    try:
        revision, head = await current_revision(engine), head_revision()
    except Exception as e:  # any driver error: not usable
        await engine.dispose()
        return (fail("database", f"{masked(url)}: cannot read the schema revision "
                                 f"({type(e).__name__})", "check the database server's log"),
                _DbFacts(), None)
    if revision == head:
        own = Store(engine, url)
        return ok("database", f"{masked(url)} at revision {head}"), \
            _DbFacts(usable=True, store=own), own
    await engine.dispose()
    if revision is None:
        return (warn("database", f"{masked(url)} is empty (a first start)",
                     "nothing to do: `laicai run` creates the schema (or `laicai db upgrade`)"),
                empty, None)
    if revision in _known_revisions():
        return (warn("database", f"{masked(url)} is at revision {revision}, this laicai needs "
                                 f"{head}", "run `laicai db upgrade` (`laicai run` also "
                                            "upgrades at start)"), _DbFacts(), None)
    return (fail("database", f"{masked(url)} is at revision {revision}, which this laicai does "
                             "not know: a newer laicai migrated it",
                 "run the newer laicai, or restore a backup of the database"), _DbFacts(), None)


def _swap_for_leverage(settings: Settings, swaps: Mapping[str, Any], held: Collection[str]
                       ) -> str | None:
    """A live swap laicai may trade and holds no position in (setting it changes nothing)."""
    deny = set(settings.account.instruments_deny)
    bases = [*settings.account.instruments_allow, *LEVERAGE_PROBES]
    candidates = [f"{b}-{SETTLE_CCY}-SWAP" for b in bases if b not in deny]
    candidates += sorted(i for i in swaps if i.split("-")[0] not in deny)
    return next((i for i in candidates if i in swaps and i not in held), None)


async def _check_leverage(venue: SelfCheckVenue, settings: Settings, held: Collection[str]
                          ) -> CheckResult:
    target = ExecutionParams.from_settings(settings).leverage
    note = "" if Decimal(target) == settings.risk.leverage else (
        f" (risk.leverage {settings.risk.leverage} is applied as {target}x)")
    try:
        swaps = {i.inst_id: i for i in await venue.instruments() if i.is_swap and i.live}
        inst_id = _swap_for_leverage(settings, swaps, held)
        if inst_id is None:
            return warn("leverage", "every tradable swap holds a position: not tried (setting "
                                    "the leverage of a held swap changes its margin)",
                        "nothing to do now; the check runs once a swap is flat")
        inst = swaps[inst_id]
        if inst.max_leverage < target:
            return fail("leverage", f"{inst_id} allows at most {inst.max_leverage}x, "
                                    f"risk.leverage asks {target}x",
                        f"lower risk.leverage to {inst.max_leverage} or less")
        before = await venue.leverage(inst_id, "cross")
        await venue.set_leverage(inst_id, target, "cross")
    except PermissionDenied as e:
        return fail("leverage", f"setting the leverage was refused: {e}",
                    "enable Trade on the API key (OKX: Profile -> API)")
    except ExchangeError as e:
        return fail("leverage", f"setting {target}x cross was refused: {e}",
                    "read OKX's reason above; risk.leverage must be within what the "
                    "instrument and the account allow")
    done = f"{target}x cross accepted on {inst_id} (max {inst.max_leverage}x){note}"
    if before == target:
        return ok("leverage", done)
    try:
        await venue.set_leverage(inst_id, before, "cross")
    except ExchangeError as e:
        return warn("leverage", f"{done}, but restoring its earlier {before}x failed: {e}",
                    f"set {inst_id} back to {before}x on OKX if you use it by hand")
    return ok("leverage", f"{done}; its earlier {before}x restored")


def _read_failed(e: ExchangeError, what: str, name: str) -> CheckResult:
    return fail(name, f"could not read {what}: {e}",
                "check again; if it persists, check the exchange's status and the API key")


@dataclass(slots=True)
class _VenueFacts:
    """What the signed part of the check learned (``config`` None: the keys were not
    accepted, ``because`` says why)."""

    server_ms: int | None = None
    t0_ms: int = 0
    t1_ms: int = 0
    config: AccountConfig | None = None
    perp: list[PerpPosition] | None = None
    because: str = ""


async def _exchange_checks(v: SelfCheckVenue, settings: Settings, where: str,
                           checks: dict[str, CheckResult], now_ms: Callable[[], int], *,
                           engine_running: bool) -> _VenueFacts:
    """exchange reachable, keys accepted, permissions, account and position mode, leverage
    (not probed while another engine runs: it may be opening on that very swap)."""
    facts = _VenueFacts(t0_ms=now_ms())
    try:
        facts.server_ms = await v.server_time_ms()
        facts.t1_ms = now_ms()
        checks["exchange_reachable"] = ok("exchange_reachable", f"{where} answers")
    except ExchangeError as e:
        fix = (f"paper mode talks to the simulator at {settings.okx.rest_url or PAPER_REST_URL}: "
               "start it with `laicai sim` (or point okx.rest_url at it)"
               if settings.mode == "paper" else
               "check the network, a proxy, and OKX's status page; okx.rest_url overrides the "
               "endpoint")
        checks["exchange_reachable"] = fail("exchange_reachable", f"{where}: {e}", fix)
    if checks["keys_present"].status is CheckStatus.FAIL:
        facts.because = "the API keys are incomplete"
    elif facts.server_ms is None:
        facts.because = "the exchange is not reachable"
    else:
        facts.because = "the exchange did not accept the keys"
        try:
            facts.config = await v.account_config()
            uid = f" (account uid {facts.config.uid})" if facts.config.uid else ""
            checks["keys_accepted"] = ok("keys_accepted", f"a signed request succeeded{uid}")
        except ExchangeError as e:
            checks["keys_accepted"] = check_keys_refused(e)
    cfg = facts.config
    if cfg is None:
        checks.setdefault("keys_accepted", skip("keys_accepted", facts.because))
        for n in ("key_permissions", "account_mode", "position_mode", "leverage"):
            checks[n] = skip(n, facts.because)
        return facts
    checks["key_permissions"] = check_permissions(cfg)
    checks["account_mode"] = check_account_mode(cfg)
    checks["position_mode"] = check_position_mode(cfg)
    try:
        facts.perp = list(await v.positions())
    except ExchangeError as e:
        checks["leverage"] = _read_failed(e, "the positions", "leverage")
        return facts
    if engine_running:
        checks["leverage"] = skip("leverage", "an engine is running (it sets the leverage "
                                              "itself; the check leaves the account alone)")
    elif not cfg.can_trade:
        checks["leverage"] = skip("leverage", "the key cannot trade")
    elif checks["account_mode"].status is CheckStatus.FAIL:
        checks["leverage"] = skip("leverage", "the account mode does not trade swaps")
    else:
        held = {p.inst_id for p in facts.perp}
        checks["leverage"] = await _check_leverage(v, settings, held)
    return facts


async def _leftovers(v: SelfCheckVenue, db: _DbFacts, perp: Sequence[PerpPosition]
                     ) -> CheckResult:
    try:
        balances = await v.balances("trading")
        earn = await v.earn_balances()
        orders = await v.open_orders()
    except ExchangeError as e:
        return _read_failed(e, "the account", "leftovers")
    known: set[str] = set()
    if db.store is not None:
        for o in orders:
            if o.client_order_id and await db.store.get_order(o.client_order_id) is not None:
                known.add(o.client_order_id)
    return check_leftovers(db.positions, perp, balances, earn, orders, known)


async def run_self_check(
    settings: Settings,
    secrets: Secrets | None = None,
    *,
    venue: SelfCheckVenue | None = None,
    store: Repository | None = None,
    config_path: Path | None = None,
    now_ms: Callable[[], int] = wall_clock_ms,
    own_pid: int | None = None,
) -> SelfCheckReport:
    """Every check of the bootstrap, in order. ``secrets`` are the ones to trade with
    (default ``settings.secrets``). Without ``venue`` the configured one is opened (and
    closed); without ``store`` the configured database is opened and only read (never created
    or migrated here). An engine run record carrying ``own_pid`` (default: this process) is
    the caller itself, not another engine running."""
    if secrets is None:
        secrets = settings.secrets
    else:
        settings = settings.model_copy(update={"secrets": secrets})
    if own_pid is None:
        own_pid = os.getpid()
    where, _ = venue_target(settings)
    checks: dict[str, CheckResult] = {
        "config": check_config(settings, config_path),
        "keys_present": check_keys_present(settings.mode, secrets),
    }
    v: SelfCheckVenue = open_venue(settings) if venue is None else venue
    own_store: Store | None = None
    try:
        # the database first: whether an engine is running decides what the check may touch
        checks["database"], db, own_store = await _check_database(settings, secrets, store)
        if db.usable and db.store is not None:
            try:
                db.engine_state = await db.store.get_bot_state(ENGINE_STATE_KEY)
                db.positions = await db.store.list_open_positions()
            except LaicaiError as e:
                db.usable = False
                checks["database"] = fail("database", f"cannot read it: {e}",
                                          "run `laicai db upgrade`, then check again")
        now = datetime.fromtimestamp(now_ms() / 1000, UTC)
        checks["last_exit"] = (check_last_exit(db.engine_state, now, own_pid=own_pid)
                               if db.usable else
                               skip("last_exit", "the database is not readable"))
        other_engine = db.usable and _other_engine_running(db.engine_state, now, own_pid)

        facts = await _exchange_checks(v, settings, where, checks, now_ms,
                                       engine_running=other_engine)

        if facts.server_ms is None:
            checks["clock"] = skip("clock", "the exchange is not reachable")
        else:
            skew = facts.server_ms - (facts.t0_ms + facts.t1_ms) // 2
            max_skew = RiskParams.from_settings(settings).max_clock_skew_ms
            checks["clock"] = check_clock(skew, facts.t1_ms - facts.t0_ms,
                                          paper=settings.mode == "paper", max_skew_ms=max_skew)

        if facts.config is None:
            checks["leftovers"] = skip("leftovers", facts.because)
            checks["funds"] = skip("funds", facts.because)
        else:
            if facts.perp is None:
                checks["leftovers"] = skip("leftovers", "the positions could not be read")
            elif not db.usable:
                checks["leftovers"] = skip("leftovers", "the database is not readable")
            else:
                checks["leftovers"] = await _leftovers(v, db, facts.perp)
            try:
                trading, funding = await v.balances("trading"), await v.balances("funding")
                checks["funds"] = check_funds(trading, funding, settings.account.total_capital)
            except ExchangeError as e:
                checks["funds"] = _read_failed(e, "the balances", "funds")
    finally:
        if own_store is not None:
            await own_store.close()
        if venue is None:
            await v.close()
    report = SelfCheckReport(tuple(checks[n] for n in TITLES), mode=settings.mode,
                             dry_run=settings.dry_run, venue=where,
                             checked_at=datetime.fromtimestamp(now_ms() / 1000, UTC))
    for c in report.checks:
        if c.status in (CheckStatus.WARN, CheckStatus.FAIL):
            log.info("self-check %s: %s: %s", c.status.value, c.name, c.detail)
    return report
