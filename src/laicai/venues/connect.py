"""Pick the venue for the configured mode: live is OKX (or OKX demo trading with
``okx.sandbox_mode``); paper is the same ccxt client pointed at ``laicai sim``.

In paper mode with no ``okx.rest_url`` the simulator's default address is used, and with no
``LAICAI_OKX_*`` variables the simulator's default account — so ``laicai sim`` in one terminal
and ``laicai scan`` in another just work.
"""

from __future__ import annotations

from laicai.config.schema import Settings
from laicai.venues.okx import OkxExchange, create_exchange
from laicai.venues.okx.config import OkxCredentials

PAPER_REST_URL = "http://127.0.0.1:18080"
# The default account of every built-in simulator scenario (not a secret: a local test venue).
SIM_API_KEY, SIM_SECRET, SIM_PASSPHRASE = "laicai-sim-key", "laicai-sim-secret", "laicai-sim-pass"


def venue_target(settings: Settings) -> tuple[str, OkxCredentials]:
    """Where the client will talk to (for display) and with which credentials."""
    creds = OkxCredentials.from_secrets(settings.secrets)
    if settings.mode == "paper":
        url = settings.okx.rest_url or PAPER_REST_URL
        if not creds.complete:
            creds = OkxCredentials.plain(SIM_API_KEY, SIM_SECRET, SIM_PASSPHRASE)
        return url, creds
    if settings.okx.rest_url:
        return settings.okx.rest_url, creds
    return ("OKX demo trading" if settings.okx.sandbox_mode else "OKX"), creds


def open_venue(settings: Settings) -> OkxExchange:
    """The OKX adapter for ``settings`` (close it when done)."""
    _, creds = venue_target(settings)
    okx = settings.okx
    if settings.mode == "paper":
        okx = okx.model_copy(update={"rest_url": okx.rest_url or PAPER_REST_URL,
                                     "sandbox_mode": False})
    return create_exchange(okx, creds)
