"""ccxt's exceptions translated into laicai's hierarchy, where ccxt is called.

The OKX code in the answer (``sCode`` of the first failed item, else ``code``) decides first
where ccxt's class is too coarse (50120 "no permission" arrives as a bare ExchangeError), then
ccxt's class does; anything unknown is a non-transient :class:`ExchangeError`. Messages carry
the operation, the ccxt class, OKX's code and message, and never a credential.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

import aiohttp
import ccxt

from laicai.errors import (
    AuthenticationFailed,
    DuplicateClientOrderId,
    ExchangeError,
    InsufficientFunds,
    OrderRejected,
    PermissionDenied,
    RateLimited,
    TransientExchangeError,
)
from laicai.venues.okx.constants import (
    DUPLICATE_CL_ORD_ID_CODES,
    INSUFFICIENT_FUNDS_CODES,
    PERMISSION_CODES,
    RATE_LIMIT_CODES,
    TRANSIENT_CODES,
)

MAX_MESSAGE_CHARS = 400

# OKX codes that override ccxt's class, checked in this order.
CODE_MAPPING: tuple[tuple[frozenset[str], type[ExchangeError]], ...] = (
    (RATE_LIMIT_CODES, RateLimited),
    (PERMISSION_CODES, PermissionDenied),
    (TRANSIENT_CODES, TransientExchangeError),
    (DUPLICATE_CL_ORD_ID_CODES, DuplicateClientOrderId),
    (INSUFFICIENT_FUNDS_CODES, InsufficientFunds),
)

# ccxt class -> laicai class, first match wins (subclasses before their bases).
CCXT_MAPPING: tuple[tuple[type[BaseException], type[ExchangeError]], ...] = (
    (ccxt.RateLimitExceeded, RateLimited),
    (ccxt.DDoSProtection, RateLimited),
    (ccxt.OperationFailed, TransientExchangeError),  # NetworkError, RequestTimeout,
    # ExchangeNotAvailable, OnMaintenance, InvalidNonce, ChecksumError, BadResponse
    (ccxt.PermissionDenied, PermissionDenied),
    (ccxt.AuthenticationError, AuthenticationFailed),  # incl. AccountSuspended
    (ccxt.InsufficientFunds, InsufficientFunds),
    (ccxt.InvalidOrder, OrderRejected),
    (TimeoutError, TransientExchangeError),  # transport errors ccxt did not wrap
    (ConnectionError, TransientExchangeError),
    (aiohttp.ClientError, TransientExchangeError),
)
# Everything else (BadSymbol, BadRequest, ArgumentsRequired, NotSupported, OperationRejected,
# a bare ExchangeError with an unknown code) -> ExchangeError, which is not retried.


def _okx_body(text: str) -> dict[str, Any] | None:
    """The OKX JSON envelope ccxt puts after ``"okx "`` in its messages, if any."""
    start = text.find("{")
    if start < 0:
        return None
    try:
        body = json.loads(text[start:])
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def okx_code_and_message(error: BaseException) -> tuple[str | None, str | None]:
    """OKX's error code and message carried by a ccxt exception (``sCode`` of the first
    failed item first, as OKX puts the real reason there for per-item endpoints)."""
    body = _okx_body(str(error))
    if body is None:
        return None, None
    data = body.get("data")
    if isinstance(data, list):
        for item in data:
            if isinstance(item, dict) and str(item.get("sCode", "0")) not in ("0", ""):
                return str(item["sCode"]), str(item.get("sMsg") or "") or None
    code = body.get("code")
    if code is None or str(code) == "0":
        return None, None
    return str(code), str(body.get("msg") or "") or None


def classify(error: BaseException, code: str | None) -> type[ExchangeError]:
    """The laicai class for a ccxt (or transport) exception and its OKX code."""
    if code is not None:
        for codes, cls in CODE_MAPPING:
            if code in codes:
                return cls
    for ccxt_cls, cls in CCXT_MAPPING:
        if isinstance(error, ccxt_cls):
            return cls
    return ExchangeError


def redact(text: str, secrets: Collection[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def translate(error: BaseException, what: str, secrets: Collection[str] = ()) -> ExchangeError:
    """The laicai exception for ``error`` raised while doing ``what``; raise it ``from`` error.

    ``secrets`` (the client's key, secret and passphrase) are blanked out of the message.
    """
    code, okx_msg = okx_code_and_message(error)
    cls = classify(error, code)
    detail = okx_msg if okx_msg is not None else str(error).removeprefix("okx ")
    if len(detail) > MAX_MESSAGE_CHARS:
        detail = detail[:MAX_MESSAGE_CHARS] + "..."
    where = f"OKX {code}" if code is not None else "OKX"
    message = f"{what}: {where} ({type(error).__name__}): {detail}"
    return cls(redact(message, secrets))


def okx_code_of(error: BaseException) -> str | None:
    """OKX's code behind a translated error (read from the ccxt exception it was raised
    ``from``), e.g. to tell "already canceled" from other refusals of a cancel."""
    cause = error.__cause__
    return okx_code_and_message(cause)[0] if cause is not None else None


def item_error(what: str, code: str, msg: str, default: type[ExchangeError] = OrderRejected
               ) -> ExchangeError:
    """The laicai exception for a failed item (``sCode``/``sMsg``) of an answer that ccxt did
    not raise for; codes without a mapping give ``default``."""
    cls = next((c for codes, c in CODE_MAPPING if code in codes), default)
    return cls(f"{what}: OKX {code}: {msg or 'refused'}")
