"""Each adapter method x each injected fault, through the real ccxt against the simulator:
what laicai raises, and whether the retrier retried (freqtrade's per-method mapping test).

- ``http_5xx`` once -> retried, then the method succeeds;
- ``http_5xx`` always -> TransientExchangeError after the retry policy's attempts;
- ``reject 51001`` (bad instrument, ccxt BadSymbol) -> ExchangeError, not retried;
- ``reject 50011`` once -> RateLimited, retried with the rate-limit backoff, then succeeds;
- ``reject 50120`` -> PermissionDenied, not retried;
- a wrong secret -> AuthenticationFailed for signed reads (public ones do not sign).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import ccxt
import pytest
from okx_sim_support import RecordingSleep, sim_config

from laicai.errors import (
    AuthenticationFailed,
    ExchangeError,
    PermissionDenied,
    RateLimited,
    TransientExchangeError,
)
from laicai.sim.exchange import SimExchange
from laicai.sim.faults import Fault
from laicai.sim.server.app import SimServer
from laicai.testing.sim import API_KEY, PASSPHRASE, make_exchange
from laicai.venues.okx import AdapterSettings, OkxCredentials, OkxExchange, RetryPolicy
from laicai.venues.okx import create_exchange as create

POLICY = RetryPolicy(max_attempts=4, base_delay_s=0.25, rate_limited_delay_s=1.0)


@dataclass(frozen=True)
class Method:
    name: str
    call: Callable[[OkxExchange], Awaitable[Any]]
    endpoint: str  # the fault's target
    private: bool
    calls: int = 1  # requests to ``endpoint`` per invocation


METHODS = [
    Method("instruments", lambda o: o.instruments(), "public/instruments", False, 2),
    Method("funding_rates", lambda o: o.funding_rates(), "public/funding-rate", False),
    Method("funding_history", lambda o: o.funding_history("BTC-USDT-SWAP", 5),
           "public/funding-rate-history", False),
    Method("order_book", lambda o: o.order_book("BTC-USDT"), "market/books", False),
    Method("order_books", lambda o: o.order_books(["BTC-USDT", "BTC-USDT-SWAP"]),
           "market/books", False, 2),
    Method("tickers", lambda o: o.tickers(), "market/tickers", False, 2),
    Method("open_interest", lambda o: o.open_interest(), "public/open-interest", False),
    Method("earn_rates", lambda o: o.earn_rates(), "finance/savings/lending-rate-summary",
           False),
    Method("fee_rates", lambda o: o.fee_rates(), "account/trade-fee", True, 2),
    Method("borrow_terms.rate", lambda o: o.borrow_terms(["BTC", "ETH"]),
           "account/interest-rate", True),
    Method("borrow_terms.loan", lambda o: o.borrow_terms(["BTC", "ETH"]), "account/max-loan",
           True, 2),
    Method("balances.trading", lambda o: o.balances(), "account/balance", True),
    Method("balances.funding", lambda o: o.balances("funding"), "asset/balances", True),
    Method("positions", lambda o: o.positions(), "account/positions", True),
    Method("account_config", lambda o: o.account_config(), "account/config", True),
]
IDS = [m.name for m in METHODS]


@pytest.fixture
def venue() -> SimExchange:
    return make_exchange()


@pytest.fixture
async def server(venue: SimExchange) -> AsyncIterator[SimServer]:
    async with SimServer(venue) as srv:
        yield srv


def adapter(server: SimServer, sleep: RecordingSleep, secret: str = "test-secret"
            ) -> OkxExchange:
    return create(sim_config(server), OkxCredentials.plain(API_KEY, secret, PASSPHRASE),
                  settings=AdapterSettings(retry=POLICY), sleep=sleep)


@pytest.mark.parametrize("m", METHODS, ids=IDS)
async def test_http_5xx_once_is_retried_then_succeeds(m: Method, server: SimServer,
                                                      venue: SimExchange) -> None:
    sleep = RecordingSleep()
    fault = venue.faults.add(Fault("http_5xx", endpoint=m.endpoint, http_status=503))
    async with adapter(server, sleep) as okx:
        await m.call(okx)
    assert fault.fired == 1
    assert len(sleep.delays) == 1
    assert 0.125 <= sleep.delays[0] <= 0.25  # first backoff: base x [0.5, 1]


@pytest.mark.parametrize("m", METHODS, ids=IDS)
async def test_http_5xx_always_gives_up_transient(m: Method, server: SimServer,
                                                  venue: SimExchange) -> None:
    sleep = RecordingSleep()
    fault = venue.faults.add(Fault("http_5xx", endpoint=m.endpoint, count=None))
    async with adapter(server, sleep) as okx:
        with pytest.raises(TransientExchangeError) as caught:
            await m.call(okx)
    assert not isinstance(caught.value, RateLimited)
    assert isinstance(caught.value.__cause__, ccxt.NetworkError)
    assert POLICY.max_attempts <= fault.fired <= POLICY.max_attempts * m.calls
    assert len(sleep.delays) >= POLICY.max_attempts - 1
    assert "OKX 50001" in str(caught.value)


@pytest.mark.parametrize("m", METHODS, ids=IDS)
async def test_reject_51001_is_not_retried(m: Method, server: SimServer,
                                           venue: SimExchange) -> None:
    sleep = RecordingSleep()
    fault = venue.faults.add(Fault("reject", endpoint=m.endpoint, code="51001", count=None))
    async with adapter(server, sleep) as okx:
        with pytest.raises(ExchangeError) as caught:
            await m.call(okx)
    assert type(caught.value) is ExchangeError and not caught.value.retryable
    assert isinstance(caught.value.__cause__, ccxt.BadSymbol)
    assert "OKX 51001" in str(caught.value)
    assert sleep.delays == []
    assert 1 <= fault.fired <= m.calls


@pytest.mark.parametrize("m", METHODS, ids=IDS)
async def test_rate_limited_50011_is_retried_with_the_longer_backoff(
        m: Method, server: SimServer, venue: SimExchange) -> None:
    sleep = RecordingSleep()
    fault = venue.faults.add(Fault("reject", endpoint=m.endpoint, code="50011"))
    async with adapter(server, sleep) as okx:
        await m.call(okx)
    assert fault.fired == 1
    assert len(sleep.delays) == 1 and 0.5 <= sleep.delays[0] <= 1.0


@pytest.mark.parametrize("m", METHODS[:1] + [m for m in METHODS if m.private], ids=lambda m: m.name)
async def test_rate_limited_always_raises_rate_limited(m: Method, server: SimServer,
                                                       venue: SimExchange) -> None:
    sleep = RecordingSleep()
    venue.faults.add(Fault("reject", endpoint=m.endpoint, code="50011", count=None))
    async with adapter(server, sleep) as okx:
        with pytest.raises(RateLimited) as caught:
            await m.call(okx)
    assert caught.value.retryable
    assert isinstance(caught.value.__cause__, ccxt.RateLimitExceeded)


@pytest.mark.parametrize("m", [m for m in METHODS if m.private], ids=lambda m: m.name)
async def test_permission_50120_is_permission_denied(m: Method, server: SimServer,
                                                     venue: SimExchange) -> None:
    sleep = RecordingSleep()
    venue.faults.add(Fault("reject", endpoint=m.endpoint, code="50120", count=None))
    async with adapter(server, sleep) as okx:
        with pytest.raises(PermissionDenied) as caught:
            await m.call(okx)
    assert isinstance(caught.value, AuthenticationFailed)  # an operator must act
    assert sleep.delays == []


@pytest.mark.parametrize("m", METHODS, ids=IDS)
async def test_bad_signature(m: Method, server: SimServer) -> None:
    sleep = RecordingSleep()
    wrong = "wrong-secret-do-not-print"
    before = server.request_count
    async with adapter(server, sleep, secret=wrong) as okx:
        if not m.private:
            await m.call(okx)  # public endpoints are not signed
            return
        with pytest.raises(AuthenticationFailed) as caught:
            await m.call(okx)
    assert type(caught.value) is AuthenticationFailed
    assert isinstance(caught.value.__cause__, ccxt.AuthenticationError)
    assert "OKX 50113" in str(caught.value)
    for secret in (wrong, PASSPHRASE, "test-secret"):
        assert secret not in str(caught.value)
    assert sleep.delays == []
    assert server.request_count == before  # refused at the signature check, never served


async def test_missing_credentials_is_authentication_failed(server: SimServer) -> None:
    async with create(sim_config(server), OkxCredentials()) as okx:
        assert await okx.funding_rates()
        with pytest.raises(AuthenticationFailed):
            await okx.balances()


async def test_unknown_instrument_is_a_plain_exchange_error(server: SimServer) -> None:
    async with create(sim_config(server), OkxCredentials()) as okx:
        with pytest.raises(ExchangeError) as caught:
            await okx.order_book("NOPE-USDT")
    assert type(caught.value) is ExchangeError and "OKX 51001" in str(caught.value)
