"""ccxt's exceptions -> laicai's hierarchy: the whole table, OKX codes that override ccxt's
class, the messages (no secrets), and that the retrier sees only the transient kind."""

from __future__ import annotations

import json

import aiohttp
import ccxt
import pytest

from laicai.errors import (
    AuthenticationFailed,
    ExchangeError,
    InsufficientFunds,
    OrderRejected,
    PermissionDenied,
    RateLimited,
    TransientExchangeError,
)
from laicai.venues.okx.errors import okx_code_and_message, translate


def okx_error(cls: type[Exception], code: str, msg: str = "boom",
              items: list[dict[str, str]] | None = None) -> Exception:
    """A ccxt exception as ccxt raises it from an OKX answer: ``"okx " + body``."""
    body = {"code": code, "data": items or [], "msg": msg}
    return cls("okx " + json.dumps(body))


TABLE: list[tuple[Exception, type[ExchangeError]]] = [
    (ccxt.RateLimitExceeded("okx 429"), RateLimited),
    (ccxt.DDoSProtection("okx 418"), RateLimited),
    (ccxt.NetworkError("okx GET http://x connection reset"), TransientExchangeError),
    (ccxt.RequestTimeout("okx GET http://x request timeout (10000 ms)"), TransientExchangeError),
    (ccxt.ExchangeNotAvailable("okx 503"), TransientExchangeError),
    (ccxt.OnMaintenance("okx maintenance"), TransientExchangeError),
    (ccxt.InvalidNonce("okx timestamp expired"), TransientExchangeError),
    (ccxt.ChecksumError("okx book checksum"), TransientExchangeError),
    (ccxt.BadResponse("okx not json"), TransientExchangeError),
    (ccxt.AuthenticationError("okx bad key"), AuthenticationFailed),
    (ccxt.AccountSuspended("okx suspended"), AuthenticationFailed),
    (ccxt.PermissionDenied("okx ip"), PermissionDenied),
    (ccxt.AccountNotEnabled("okx not enabled"), PermissionDenied),
    (ccxt.InsufficientFunds("okx funds"), InsufficientFunds),
    (ccxt.InvalidOrder("okx lot size"), OrderRejected),
    (ccxt.OrderNotFound("okx no such order"), OrderRejected),
    (ccxt.DuplicateOrderId("okx dup"), OrderRejected),
    (ccxt.BadSymbol("okx no instrument"), ExchangeError),
    (ccxt.BadRequest("okx parameter error"), ExchangeError),
    (ccxt.ArgumentsRequired("okx symbol required"), ExchangeError),
    (ccxt.NotSupported("okx not supported"), ExchangeError),
    (ccxt.RestrictedLocation("okx compliance"), ExchangeError),
    (ccxt.ExchangeError("okx something new"), ExchangeError),
    (ccxt.BaseError("okx base"), ExchangeError),
    (aiohttp.ClientConnectionError("reset"), TransientExchangeError),
    (TimeoutError(), TransientExchangeError),
    (ConnectionResetError(), TransientExchangeError),
]


@pytest.mark.parametrize(("error", "expected"), TABLE, ids=[type(e).__name__ for e, _ in TABLE])
def test_mapping_table(error: Exception, expected: type[ExchangeError]) -> None:
    got = translate(error, "order book BTC-USDT")
    assert type(got) is expected
    assert got.retryable is issubclass(expected, TransientExchangeError)
    assert str(got).startswith("order book BTC-USDT: OKX")


@pytest.mark.parametrize(("code", "ccxt_cls", "expected"), [
    ("50011", ccxt.RateLimitExceeded, RateLimited),
    ("50061", ccxt.ExchangeError, RateLimited),  # order rate limit, a plain error in ccxt
    ("50120", ccxt.ExchangeError, PermissionDenied),  # ccxt does not know 50120
    ("50110", ccxt.PermissionDenied, PermissionDenied),
    ("50113", ccxt.AuthenticationError, AuthenticationFailed),
    ("50001", ccxt.OnMaintenance, TransientExchangeError),
    ("50013", ccxt.ExchangeNotAvailable, TransientExchangeError),
    ("50102", ccxt.InvalidNonce, TransientExchangeError),
    ("51001", ccxt.BadSymbol, ExchangeError),
    ("51008", ccxt.InsufficientFunds, InsufficientFunds),
    ("99999", ccxt.ExchangeError, ExchangeError),  # unknown: not retried
])
def test_okx_codes(code: str, ccxt_cls: type[Exception], expected: type[ExchangeError]) -> None:
    got = translate(okx_error(ccxt_cls, code, "OKX says no"), "balances")
    assert type(got) is expected
    assert str(got) == f"balances: OKX {code} ({ccxt_cls.__name__}): OKX says no"


def test_item_code_wins_over_the_envelope_code() -> None:
    error = okx_error(ccxt.ExchangeError, "1", "All operations failed",
                      [{"sCode": "0", "sMsg": ""}, {"sCode": "50120", "sMsg": "no trade"}])
    assert okx_code_and_message(error) == ("50120", "no trade")
    assert type(translate(error, "x")) is PermissionDenied


def test_messages_never_carry_secrets_and_are_bounded() -> None:
    error = ccxt.AuthenticationError("okx key=my-key sig with my-secret and my-pass " + "x" * 900)
    got = translate(error, "balances", secrets=("my-key", "my-secret", "my-pass"))
    text = str(got)
    assert "my-key" not in text and "my-secret" not in text and "my-pass" not in text
    assert "***" in text and len(text) < 500


def test_non_okx_text_is_kept() -> None:
    assert okx_code_and_message(ccxt.NetworkError("okx GET http://h/api failed")) == (None, None)
    assert okx_code_and_message(ccxt.ExchangeError("okx {not json")) == (None, None)
    assert okx_code_and_message(okx_error(ccxt.ExchangeError, "0")) == (None, None)
