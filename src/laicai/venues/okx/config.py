"""What the ccxt client is built from: laicai's ``okx`` settings and the OKX credentials.

The same code talks to OKX, to OKX demo trading (``sandbox_mode``: ccxt's sandbox switch adds
the ``x-simulated-trading`` header and the demo WebSocket host) or to ``laicai sim`` (the URL
overrides). A ``rest_url`` without a ``ws_url`` derives the WebSocket address the way the
simulator serves it (``ws[s]://host:port/ws/v5``), so REST and WebSocket never point at two
different venues.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from laicai.config.secrets import Secrets
from laicai.config.sections import OkxConfig
from laicai.venues.okx.retry import RetryPolicy


@dataclass(frozen=True, slots=True)
class OkxCredentials:
    """API key, secret and passphrase; ``repr`` never shows them."""

    api_key: SecretStr | None = None
    secret: SecretStr | None = None
    passphrase: SecretStr | None = None

    @classmethod
    def from_secrets(cls, secrets: Secrets) -> OkxCredentials:
        return cls(secrets.okx_api_key, secrets.okx_secret_key, secrets.okx_passphrase)

    @classmethod
    def plain(cls, api_key: str, secret: str, passphrase: str) -> OkxCredentials:
        return cls(SecretStr(api_key), SecretStr(secret), SecretStr(passphrase))

    @property
    def complete(self) -> bool:
        return None not in (self.api_key, self.secret, self.passphrase)

    def revealed(self) -> tuple[str, ...]:
        """The plain values that are set: for the client and for redaction, never for display."""
        return tuple(v.get_secret_value() for v in (self.api_key, self.secret, self.passphrase)
                     if v is not None)


@dataclass(frozen=True, slots=True)
class AdapterSettings:
    """How the adapter retries and paces its calls (defaults suit OKX)."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    rate_limit_margin_s: float = 0.05  # added to every OKX window


def ws_url_for(rest_url: str) -> str:
    """``http://127.0.0.1:18080`` -> ``ws://127.0.0.1:18080/ws/v5`` (the simulator's layout)."""
    parts = urlsplit(rest_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws/v5", "", ""))


def ccxt_options(config: OkxConfig, credentials: OkxCredentials) -> dict[str, Any]:
    """The constructor dict of the ccxt(.pro) ``okx`` client."""
    options: dict[str, Any] = {
        "enableRateLimit": False,  # laicai's per-endpoint limits replace ccxt's throttle
        "timeout": config.timeout_ms,
        "options": {
            # Only what laicai trades: no FUTURES / OPTION requests at load_markets.
            "fetchMarkets": {"types": ["spot", "swap"]},
            "defaultType": "spot",
        },
    }
    if credentials.api_key is not None:
        options["apiKey"] = credentials.api_key.get_secret_value()
    if credentials.secret is not None:
        options["secret"] = credentials.secret.get_secret_value()
    if credentials.passphrase is not None:
        options["password"] = credentials.passphrase.get_secret_value()
    return options


def api_urls(config: OkxConfig, default: dict[str, Any]) -> dict[str, Any]:
    """ccxt's ``urls['api']`` after the overrides of ``config`` (``default`` is what ccxt has
    after its sandbox switch)."""
    urls = dict(default)
    if config.rest_url is not None:
        urls["rest"] = config.rest_url
        urls["ws"] = config.ws_url or ws_url_for(config.rest_url)
    elif config.ws_url is not None:
        urls["ws"] = config.ws_url
    return urls
