"""Wire one bot: venue + store + executor (or dry run) + engine + runner + operator.

:func:`build_bot` is what ``laicai run``, ``laicai demo``, the paper-run tests and the
benchmarks all call, so they run the same assembly; only the clock and the venue's address
differ between them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from laicai.config.schema import Settings
from laicai.engine.actions import CarryActions, DryRunActions, LiveActions
from laicai.engine.bookkeeping import book_bills
from laicai.engine.bus import EventBus
from laicai.engine.core import Bookkeeper, Engine, EngineSettings, EngineVenue
from laicai.engine.operator_service import EngineOperator, LogTail
from laicai.engine.runner import BotRunner
from laicai.engine.schedule import SECOND_MS
from laicai.execution.carry import CarryExecutor, ExecutionParams
from laicai.execution.orders import Clock
from laicai.logging_setup import SecretRedactingFilter
from laicai.risk import RiskParams
from laicai.store.records import PositionRecord
from laicai.store.repository import Repository
from laicai.strategy import ScanParams

log = logging.getLogger(__name__)


@dataclass
class Bot:
    engine: Engine
    runner: BotRunner
    operator: EngineOperator
    bus: EventBus
    executor: CarryExecutor | None
    tail: LogTail
    extras: dict[str, Any] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()

    @contextlib.contextmanager
    def capture_logs(self) -> Iterator[LogTail]:
        """Keep the last log lines (secrets redacted) for the dashboard while the bot runs."""
        self.tail.addFilter(SecretRedactingFilter(self.secrets))
        root = logging.getLogger()
        root.addHandler(self.tail)
        try:
            yield self.tail
        finally:
            root.removeHandler(self.tail)


async def build_bot(settings: Settings, *, venue: EngineVenue, store: Repository,
                    clock: Clock, dry_run: bool = False, mode: str | None = None,
                    ws_prices: bool = True, engine_settings: EngineSettings | None = None,
                    risk: RiskParams | None = None, scan_params: ScanParams | None = None,
                    book_bills: bool = True) -> Bot:
    """Everything but the event loop's tasks: ``await bot.runner.run()`` starts it (or drive
    ``bot.engine`` with :func:`laicai.engine.runner.run_simulated`)."""
    instruments = {i.inst_id: i for i in await venue.instruments()}
    fees = await venue.fee_rates()
    bus = EventBus()
    es = engine_settings or EngineSettings(
        mode=mode or settings.mode, dry_run=dry_run,
        scan_interval_ms=int(settings.strategy.scan_interval_seconds * SECOND_MS),
        ws_prices=ws_prices)
    sink: list[Engine] = []

    def on_event(event: Any) -> None:
        if sink:
            sink[0].on_execution_event(event)

    executor: CarryExecutor | None = None
    actions: CarryActions
    if dry_run:
        actions = DryRunActions(store, clock.now, bus.publish)
    else:
        executor = CarryExecutor(venue, store, clock, instruments=instruments,
                                 spot_fee_rate=fees.spot_taker,
                                 params=ExecutionParams.from_settings(settings),
                                 on_event=on_event)
        actions = LiveActions(executor)
    bookkeeper = _bookkeeper(venue, store, clock) if book_bills else None
    engine = Engine(venue=venue, store=store, clock=clock, actions=actions, bus=bus,
                    settings=es, scan_params=scan_params or ScanParams.from_settings(settings),
                    risk=risk or RiskParams.from_settings(settings), instruments=instruments,
                    spot_fee_rate=fees.spot_taker, bookkeeper=bookkeeper)
    sink.append(engine)
    runner = BotRunner(engine, marks=venue if ws_prices else None, watch_marks=ws_prices)
    tail = LogTail()
    return Bot(engine, runner, EngineOperator(engine, runner, tail), bus, executor, tail,
               secrets=tuple(settings.secrets.plain_values()))


def _bookkeeper(venue: EngineVenue, store: Repository, clock: Clock) -> Bookkeeper:
    """Book the exchange's bills to the carries (see :mod:`laicai.engine.bookkeeping`);
    ``positions``: carries closed since the last booking (open ones are loaded anyway)."""

    async def book(positions: Sequence[PositionRecord]) -> Any:
        return await book_bills(venue, store, positions=positions, now=clock.now())

    return book
