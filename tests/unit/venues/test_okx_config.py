"""Building the one ccxt.pro client from laicai's settings: URLs, sandbox, credentials."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from laicai.config.secrets import Secrets, secrets_from_env
from laicai.config.sections import OkxConfig
from laicai.venues.okx import OkxCredentials, create_client, create_exchange
from laicai.venues.okx.config import ccxt_options, ws_url_for
from laicai.venues.okx.factories import RateLimitedOkx

CREDS = OkxCredentials.plain("k-123", "s-456", "p-789")


def test_ws_url_follows_the_rest_url() -> None:
    assert ws_url_for("http://127.0.0.1:18080") == "ws://127.0.0.1:18080/ws/v5"
    assert ws_url_for("https://paper.example:8443/") == "wss://paper.example:8443/ws/v5"


def test_ccxt_options() -> None:
    opts = ccxt_options(OkxConfig(timeout_ms=5000), CREDS)
    assert (opts["apiKey"], opts["secret"], opts["password"]) == ("k-123", "s-456", "p-789")
    assert opts["timeout"] == 5000
    assert opts["enableRateLimit"] is False  # laicai's limiter does it, per endpoint
    assert opts["options"]["fetchMarkets"] == {"types": ["spot", "swap"]}
    assert "apiKey" not in ccxt_options(OkxConfig(), OkxCredentials())


async def test_live_client_keeps_ccxt_urls_and_no_demo_header() -> None:
    client = create_client(OkxConfig(sandbox_mode=False), CREDS)
    try:
        assert isinstance(client, RateLimitedOkx) and client.laicai_limits is not None
        assert "x-simulated-trading" not in client.headers
        assert client.urls["api"]["ws"].startswith("wss://")
        assert client.urls["api"]["rest"].startswith("https://")
    finally:
        await client.close()


async def test_demo_trading_header_and_demo_websocket() -> None:
    live = create_client(OkxConfig(sandbox_mode=False), CREDS)
    demo = create_client(OkxConfig(sandbox_mode=True), CREDS)
    try:
        assert demo.headers["x-simulated-trading"] == "1"
        assert demo.urls["api"]["ws"] != live.urls["api"]["ws"]
    finally:
        await live.close()
        await demo.close()


@pytest.mark.parametrize("sandbox", [True, False])
async def test_url_overrides_win_over_sandbox(sandbox: bool) -> None:
    cfg = OkxConfig(sandbox_mode=sandbox, rest_url="http://127.0.0.1:9",
                    ws_url="ws://127.0.0.1:9/ws/v5")
    client = create_client(cfg, CREDS)
    try:
        assert client.urls["api"] == {"rest": "http://127.0.0.1:9", "ws": "ws://127.0.0.1:9/ws/v5"}
    finally:
        await client.close()


async def test_rate_limit_switch() -> None:
    client = create_client(OkxConfig(enable_rate_limit=False), CREDS)
    try:
        assert client.laicai_limits is None
    finally:
        await client.close()


async def test_credentials_from_env_secrets_and_never_in_repr() -> None:
    secrets = secrets_from_env({"LAICAI_OKX_API_KEY": "k-123", "LAICAI_OKX_SECRET_KEY": "s-456",
                                "LAICAI_OKX_PASSPHRASE": "p-789"})
    creds = OkxCredentials.from_secrets(secrets)
    assert creds.complete and creds.revealed() == ("k-123", "s-456", "p-789")
    assert "s-456" not in repr(creds)
    async with create_exchange(OkxConfig(), secrets) as okx:
        assert okx.client.secret == "s-456" and okx.client.password == "p-789"
    assert not OkxCredentials.from_secrets(Secrets(okx_api_key=SecretStr("k"))).complete
