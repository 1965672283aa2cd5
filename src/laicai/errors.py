"""One error hierarchy for the whole project.

Adapters translate foreign exceptions (ccxt, aiohttp, the database driver) into these at the
edge with ``raise ... from e``, so nothing above an adapter catches a library's exception type.
Only :class:`TransientExchangeError` is worth retrying; the ``retryable`` class attribute says so
without an ``isinstance`` ladder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class LaicaiError(Exception):
    """Base of every error laicai raises on purpose, so callers can tell ours from bugs."""

    retryable: ClassVar[bool] = False


class ConfigError(LaicaiError):
    """The configuration cannot be used: fix the file or the environment, then restart.

    Raised at load time, before anything touches an exchange, so a bad key never trades.
    ``problems`` lists each finding on its own (dotted key first) for programs and tests.
    """

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[str, ...] = tuple(problems) or (message,)


class ExchangeError(LaicaiError):
    """The exchange (OKX or the simulator) answered with an error or did not answer."""


class TransientExchangeError(ExchangeError):
    """A timeout, rate limit, network fault or maintenance window: the same call may succeed later.

    The only kind of exchange error that is retried, with backoff.
    """

    retryable: ClassVar[bool] = True


class RateLimited(TransientExchangeError):
    """The venue said "too many requests" (OKX 50011, HTTP 429): slow down, then retry."""


class OutcomeUnknown(TransientExchangeError):
    """A write request may or may not have reached the exchange (timeout, dropped connection
    after sending, 5xx): look the order up by its client order id before deciding anything;
    never send a second order for the same intent blindly."""


class OrderRejected(ExchangeError):
    """The exchange refused an order (size, price band, instrument state); retrying is futile."""


class DuplicateClientOrderId(OrderRejected):
    """The venue already has an order with this client order id (OKX 51016): it was sent
    before, so look it up instead of sending again."""


class InsufficientFunds(ExchangeError):
    """Not enough balance or margin: the size or a transfer must change before a retry."""


class AuthenticationFailed(ExchangeError):
    """Keys are wrong, expired or lack a permission: nothing will work until an operator acts."""


class PermissionDenied(AuthenticationFailed):
    """The key is valid but lacks a permission (OKX 50120) or is bound to other IPs (50110)."""


class InvariantViolation(LaicaiError):
    """Our own state contradicts itself or the exchange (e.g. a leg went missing).

    Trading stops, an alert is sent, and the restart reconciles with the exchange.
    """
