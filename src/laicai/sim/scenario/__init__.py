"""Scenarios for the OKX simulator: what the market does, and who trades in it.

A scenario is a YAML file (built-ins live in ``builtin/``) validated by :class:`Scenario` and
compiled by :meth:`Scenario.build` into a :class:`ScenarioSetup` — start time, a
:class:`laicai.sim.market.MarketPlan` (price paths, funding series, books, Earn/borrow terms),
the instruments and the accounts — for the simulator core::

    setup = load_scenario("calm").build(seed=7)
    setup.start_ms, setup.plan, setup.instruments, setup.accounts  # what the core consumes

Price paths and funding series are pure functions of time and seed (see :mod:`.paths` and
:mod:`.funding`), so runs are reproducible and any timestamp can be evaluated in any order.
"""

from laicai.sim.scenario.funding import (
    FUNDING_INTERVALS,
    FixedFunding,
    FlippingFunding,
    IntervalSchedule,
    NoisyFunding,
    ReplayedFunding,
    next_settlement_ms,
    settlements,
)
from laicai.sim.scenario.loader import (
    ScenarioError,
    builtin_scenario_text,
    builtin_scenarios,
    load_scenario,
    parse_scenario,
    scenario_from_yaml,
)
from laicai.sim.scenario.paths import (
    BrownianMotion,
    Crash,
    PriceEvent,
    RandomWalk,
    ReplayedPrice,
    SpikeAndRevert,
    Squeeze,
    WithEvents,
    with_events,
)
from laicai.sim.scenario.schema import Scenario
from laicai.sim.scenario.setup import AccountSpec, Balances, ScenarioSetup

__all__ = [
    "FUNDING_INTERVALS",
    "AccountSpec",
    "Balances",
    "BrownianMotion",
    "Crash",
    "FixedFunding",
    "FlippingFunding",
    "IntervalSchedule",
    "NoisyFunding",
    "PriceEvent",
    "RandomWalk",
    "ReplayedFunding",
    "ReplayedPrice",
    "Scenario",
    "ScenarioError",
    "ScenarioSetup",
    "SpikeAndRevert",
    "Squeeze",
    "WithEvents",
    "builtin_scenario_text",
    "builtin_scenarios",
    "load_scenario",
    "next_settlement_ms",
    "parse_scenario",
    "scenario_from_yaml",
    "settlements",
    "with_events",
]
