"""Fixtures for the OKX adapter against the simulator: a venue, its server, and the adapter
built exactly as production builds it (config + credentials -> factory), with a recording
sleep so retries cost no wall time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from okx_sim_support import CREDENTIALS, RecordingSleep, sim_config

from laicai.sim.exchange import SimExchange
from laicai.sim.server.app import SimServer
from laicai.testing.sim import make_exchange
from laicai.venues.okx import AdapterSettings, OkxExchange, create_exchange


@pytest.fixture
def venue() -> SimExchange:
    return make_exchange(funding_account={"USDT": Decimal(1000), "BTC": Decimal("0.5")})


@pytest.fixture
async def server(venue: SimExchange) -> AsyncIterator[SimServer]:
    async with SimServer(venue) as srv:
        yield srv


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def okx(server: SimServer, sleep: RecordingSleep) -> AsyncIterator[OkxExchange]:
    async with create_exchange(sim_config(server), CREDENTIALS, settings=AdapterSettings(),
                               sleep=sleep) as exchange:
        yield exchange
