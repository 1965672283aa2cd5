"""The OKX adapter: ccxt (REST) and ccxt.pro (WebSocket) translated into laicai's domain.

Files, NautilusTrader-style: ``config`` (credentials, URLs, ccxt options), ``constants``
(endpoints, rate limits, codes), ``factories`` (the one client, the adapter), ``gateway`` (the
one place ccxt is called: rate limit, retry, error translation), ``errors``, ``retry``,
``ratelimit``, ``parsing`` (OKX rows -> domain values), ``providers`` (instruments), ``data``
(market data), ``account`` (account reads), ``orders`` (order bodies and states),
``execution`` (orders, leverage, transfers, Earn, loans), ``exchange`` (the port), ``types``.
"""

from laicai.venues.okx.config import AdapterSettings, OkxCredentials
from laicai.venues.okx.exchange import OkxExchange
from laicai.venues.okx.factories import create_client, create_exchange
from laicai.venues.okx.retry import RetryPolicy, retry_transient
from laicai.venues.okx.types import OpenInterest

__all__ = [
    "AdapterSettings",
    "OkxCredentials",
    "OkxExchange",
    "OpenInterest",
    "RetryPolicy",
    "create_client",
    "create_exchange",
    "retry_transient",
]
