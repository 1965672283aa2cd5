"""Build the one ccxt client of the process and the adapter around it.

One ``ccxt.pro.okx`` does both REST (it extends ``ccxt.async_support.okx``) and WebSocket. Its
``fetch2`` -- the funnel of every REST request, unified methods and ``load_markets`` included --
first waits for a slot of the endpoint's rate limit, so nothing laicai does can exceed OKX's
limits, however many coroutines ask at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt.pro as ccxtpro

from laicai.config.secrets import Secrets
from laicai.config.sections import OkxConfig
from laicai.venues.okx.config import AdapterSettings, OkxCredentials, api_urls, ccxt_options
from laicai.venues.okx.exchange import OkxExchange
from laicai.venues.okx.gateway import OkxGateway
from laicai.venues.okx.ratelimit import RateLimits
from laicai.venues.okx.retry import Sleep


class RateLimitedOkx(ccxtpro.okx):  # type: ignore[misc]  # ccxt ships no type information
    """ccxt.pro's okx whose every REST request holds a slot of its endpoint's limiter
    (``limits=None``: no client-side limit at all, for tests that provoke OKX's)."""

    def __init__(self, config: dict[str, Any], limits: RateLimits | None) -> None:
        super().__init__(config)
        self.laicai_limits = limits

    async def fetch2(self, path: str, api: Any = "public", method: str = "GET",
                     params: Any = None, config: Any = None) -> Any:
        params = {} if params is None else params
        config = {} if config is None else config
        if self.laicai_limits is None:
            return await super().fetch2(path, api, method, params, config)
        # batch endpoints take a list of items and OKX counts each item
        cost = len(params) if isinstance(params, list) and params else 1
        async with self.laicai_limits.slot(path, cost):
            return await super().fetch2(path, api, method, params, config)


def create_client(config: OkxConfig, credentials: OkxCredentials,
                  limits: RateLimits | None = None) -> RateLimitedOkx:
    """The ccxt.pro okx client for ``config`` (sandbox switch first, then URL overrides).

    ``okx.enable_rate_limit`` turns laicai's per-endpoint limits on (``limits`` or OKX's
    documented table); ccxt's own throttle stays off, as it would serialise every endpoint
    behind one global budget on top of them.
    """
    if config.enable_rate_limit and limits is None:
        limits = RateLimits()
    client = RateLimitedOkx(ccxt_options(config, credentials),
                            limits if config.enable_rate_limit else None)
    if config.sandbox_mode:
        client.set_sandbox_mode(True)
    client.urls["api"] = api_urls(config, client.urls["api"])
    return client


def create_exchange(config: OkxConfig, credentials: OkxCredentials | Secrets, *,
                    settings: AdapterSettings | None = None,
                    sleep: Sleep = asyncio.sleep) -> OkxExchange:
    """The OKX adapter with its own client; close it (or use ``async with``) when done."""
    if isinstance(credentials, Secrets):
        credentials = OkxCredentials.from_secrets(credentials)
    settings = settings or AdapterSettings()
    limits = RateLimits(margin_s=settings.rate_limit_margin_s)
    client = create_client(config, credentials, limits)
    gateway = OkxGateway(client, retry=settings.retry, secrets=credentials.revealed(),
                         sleep=sleep)
    return OkxExchange(gateway)
