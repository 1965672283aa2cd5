"""Helpers shared by the OKX adapter's integration tests (imported by module name, as the
conformance tests import ``okx_conformance``)."""

from __future__ import annotations

from laicai.config.sections import OkxConfig
from laicai.sim.server.app import SimServer
from laicai.testing.sim import API_KEY, PASSPHRASE, SECRET
from laicai.venues.okx import OkxCredentials

CREDENTIALS = OkxCredentials.plain(API_KEY, SECRET, PASSPHRASE)


class RecordingSleep:
    """An injectable sleep that records the delays and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def sim_config(server: SimServer, *, sandbox_mode: bool = True, enable_rate_limit: bool = True
               ) -> OkxConfig:
    """The ``okx`` settings that point the adapter at ``server`` (demo-trading header on, as
    the default config has it: the simulator accepts it)."""
    return OkxConfig(rest_url=server.rest_url, ws_url=server.ws_url, sandbox_mode=sandbox_mode,
                     enable_rate_limit=enable_rate_limit)
