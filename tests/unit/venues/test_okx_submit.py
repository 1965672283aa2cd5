"""What is sent again and what never is: ``OkxGateway.submit`` (orders, money moves) retries
only OKX's rate-limit refusal and turns every other transient failure into OutcomeUnknown at
once; ``post(idempotent=True)`` retries like a read. Plus the OKX codes the write side adds to
the error mapping, and ``place_order`` when the order was accepted but cannot be read back.
A fake ccxt client scripts the answers."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import pytest

from laicai.domain.enums import InstKind, Side
from laicai.domain.instrument import Instrument
from laicai.domain.orders import OrderRequest, OrderType
from laicai.errors import (
    AuthenticationFailed,
    DuplicateClientOrderId,
    ExchangeError,
    InsufficientFunds,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
    TransientExchangeError,
)
from laicai.venues.okx.errors import item_error, okx_code_of, translate
from laicai.venues.okx.execution import OkxExecution
from laicai.venues.okx.gateway import OkxGateway
from laicai.venues.okx.providers import OkxInstrumentProvider
from laicai.venues.okx.retry import RetryPolicy

POLICY = RetryPolicy(max_attempts=4)
ACCEPTED = {"code": "0", "msg": "", "data": [{"clOrdId": "cl1", "ordId": "42", "sCode": "0",
                                              "sMsg": "Order placed"}]}


def okx_error(cls: type[Exception], code: str, item_code: str | None = None) -> Exception:
    items = [] if item_code is None else [{"sCode": item_code, "sMsg": "no"}]
    return cls("okx " + json.dumps({"code": code, "data": items, "msg": "say no"}))


class Script:
    """One implicit-API method: raises or returns the scripted answers in turn."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, params: dict[str, Any]) -> Any:
        self.calls.append(params)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer


class FakeClient:
    def __init__(self, **methods: Script) -> None:
        for name, script in methods.items():
            setattr(self, name, script)


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, s: float) -> None:
        self.delays.append(s)


def gateway(client: FakeClient, sleeps: Sleeps) -> OkxGateway:
    return OkxGateway(client, retry=POLICY, secrets=("sekrit",), sleep=sleeps)


# ---------------------------------------------------------------------- submit
@pytest.mark.parametrize("error", [
    ccxt.NetworkError("okx POST http://h/api/v5/trade/order connection reset"),
    ccxt.RequestTimeout("okx POST http://h/api/v5/trade/order request timeout (10000 ms)"),
    ccxt.ExchangeNotAvailable("okx 502 Bad Gateway"),
    ccxt.BadResponse("okx not json"),
    okx_error(ccxt.OnMaintenance, "1", "50001"),
    okx_error(ccxt.RequestTimeout, "1", "50004"),
    okx_error(ccxt.ExchangeNotAvailable, "50013"),
    aiohttp.ServerDisconnectedError(),
    TimeoutError(),
], ids=lambda e: type(e).__name__)
async def test_ambiguous_failures_are_outcome_unknown_and_never_resent(
        error: Exception) -> None:
    sleeps = Sleeps()
    post = Script(error, ACCEPTED)
    gw = gateway(FakeClient(private_post_trade_order=post), sleeps)
    with pytest.raises(OutcomeUnknown) as caught:
        await gw.post("trade/order", {"clOrdId": "cl1"}, idempotent=False, what="place cl1")
    assert len(post.calls) == 1 and sleeps.delays == []
    assert caught.value.__cause__ is error
    assert str(caught.value).startswith("place cl1: OKX")
    assert "outcome unknown" in str(caught.value)


@pytest.mark.parametrize("error", [
    okx_error(ccxt.RateLimitExceeded, "1", "50011"),  # per-item, HTTP 200
    okx_error(ccxt.RateLimitExceeded, "50011"),  # HTTP 429
    ccxt.DDoSProtection("okx 429 Too Many Requests"),
    okx_error(ccxt.ExchangeError, "1", "50061"),  # the sub-account's order rate limit
], ids=["item-50011", "envelope-50011", "http-429", "50061"])
async def test_rate_limit_refusals_are_retried_until_placed(error: Exception) -> None:
    sleeps = Sleeps()
    post = Script(error, error, ACCEPTED)
    gw = gateway(FakeClient(private_post_trade_order=post), sleeps)
    rows = await gw.post("trade/order", {"clOrdId": "cl1"}, idempotent=False)
    assert rows[0]["ordId"] == "42"
    assert len(post.calls) == 3 and len(sleeps.delays) == 2


async def test_rate_limited_to_the_end_raises_rate_limited_not_outcome_unknown() -> None:
    post = Script(okx_error(ccxt.RateLimitExceeded, "50011"))
    gw = gateway(FakeClient(private_post_trade_order=post), Sleeps())
    with pytest.raises(RateLimited) as caught:
        await gw.post("trade/order", {}, idempotent=False)
    assert not isinstance(caught.value, OutcomeUnknown)
    assert len(post.calls) == POLICY.max_attempts


@pytest.mark.parametrize(("error", "expected"), [
    (okx_error(ccxt.InsufficientFunds, "1", "51008"), InsufficientFunds),
    (okx_error(ccxt.InvalidOrder, "1", "51016"), DuplicateClientOrderId),
    (okx_error(ccxt.InvalidOrder, "1", "51121"), OrderRejected),
    (okx_error(ccxt.AuthenticationError, "50113"), AuthenticationFailed),
    (okx_error(ccxt.ExchangeError, "1", "51169"), ExchangeError),
], ids=["51008", "51016", "51121", "50113", "51169"])
async def test_refusals_pass_through_unretried(error: Exception,
                                               expected: type[ExchangeError]) -> None:
    sleeps = Sleeps()
    post = Script(error)
    gw = gateway(FakeClient(private_post_trade_order=post), sleeps)
    with pytest.raises(expected) as caught:
        await gw.post("trade/order", {}, idempotent=False)
    assert type(caught.value) is expected
    assert len(post.calls) == 1 and sleeps.delays == []


async def test_idempotent_posts_are_retried_like_reads() -> None:
    sleeps = Sleeps()
    post = Script(ccxt.NetworkError("okx reset"), ccxt.RequestTimeout("okx timeout"),
                  {"code": "0", "data": [{"sCode": "0"}], "msg": ""})
    gw = gateway(FakeClient(private_post_trade_cancel_order=post), sleeps)
    await gw.post("trade/cancel-order", {"clOrdId": "cl1"}, idempotent=True)
    assert len(post.calls) == 3 and len(sleeps.delays) == 2


async def test_outcome_unknown_message_carries_no_secret() -> None:
    error = ccxt.NetworkError("okx POST failed with key sekrit")
    gw = gateway(FakeClient(private_post_trade_order=Script(error)), Sleeps())
    with pytest.raises(OutcomeUnknown) as caught:
        await gw.post("trade/order", {}, idempotent=False)
    assert "sekrit" not in str(caught.value) and "***" in str(caught.value)


# ---------------------------------------------------------------------- error mapping
@pytest.mark.parametrize(("code", "ccxt_cls", "expected"), [
    ("51016", ccxt.InvalidOrder, DuplicateClientOrderId),
    ("58350", ccxt.InsufficientFunds, InsufficientFunds),
    ("51720", ccxt.ExchangeError, InsufficientFunds),  # ccxt does not know Earn's code
    ("59200", ccxt.InsufficientFunds, InsufficientFunds),
])
def test_write_side_codes(code: str, ccxt_cls: type[Exception],
                          expected: type[ExchangeError]) -> None:
    error = okx_error(ccxt_cls, "1", code)
    got = translate(error, "x")
    assert type(got) is expected and f"OKX {code}" in str(got)


def test_okx_code_of_reads_the_cause() -> None:
    cause = okx_error(ccxt.OrderNotFound, "1", "51402")
    try:
        raise translate(cause, "cancel") from cause
    except ExchangeError as e:
        assert okx_code_of(e) == "51402"
    assert okx_code_of(ExchangeError("no cause")) is None


def test_item_error_uses_the_code_mapping() -> None:
    assert type(item_error("x", "51016", "dup")) is DuplicateClientOrderId
    assert type(item_error("x", "51008", "poor")) is InsufficientFunds
    assert type(item_error("x", "51999", "")) is OrderRejected
    assert str(item_error("x", "51999", "")) == "x: OKX 51999: refused"


# ---------------------------------------------------------------------- place_order
class KnownInstruments(OkxInstrumentProvider):
    async def get(self, inst_id: str) -> Instrument:
        return Instrument(inst_id, InstKind.SPOT, "BTC", "USDT", Decimal("0.1"),
                          Decimal("0.0001"), Decimal("0.0001"))


REQUEST = OrderRequest("cl1", "BTC-USDT", Side.BUY, OrderType.MARKET, Decimal("0.01"), "cash")


async def test_accepted_but_unreadable_is_outcome_unknown() -> None:
    sleeps = Sleeps()
    post = Script(ACCEPTED)
    get = Script(ccxt.NetworkError("okx reset"))
    gw = gateway(FakeClient(private_post_trade_order=post, private_get_trade_order=get), sleeps)
    execution = OkxExecution(gw, KnownInstruments(gw))
    with pytest.raises(OutcomeUnknown, match="accepted as ordId 42") as caught:
        await execution.place_order(REQUEST)
    assert isinstance(caught.value.__cause__, TransientExchangeError)
    assert len(post.calls) == 1 and len(get.calls) == POLICY.max_attempts  # reads retried


async def test_accepted_but_not_found_is_outcome_unknown() -> None:
    post = Script(ACCEPTED)
    get = Script(okx_error(ccxt.OrderNotFound, "51603"))
    gw = gateway(FakeClient(private_post_trade_order=post, private_get_trade_order=get),
                 Sleeps())
    with pytest.raises(OutcomeUnknown, match="does not find it"):
        await OkxExecution(gw, KnownInstruments(gw)).place_order(REQUEST)


async def test_an_item_failure_ccxt_let_through_is_still_a_refusal() -> None:
    post = Script({"code": "0", "msg": "", "data": [{"clOrdId": "cl1", "ordId": "",
                                                     "sCode": "51016", "sMsg": "dup"}]})
    gw = gateway(FakeClient(private_post_trade_order=post), Sleeps())
    with pytest.raises(DuplicateClientOrderId, match="OKX 51016"):
        await OkxExecution(gw, KnownInstruments(gw)).place_order(REQUEST)


async def test_an_empty_answer_is_outcome_unknown() -> None:
    post = Script({"code": "0", "msg": "", "data": []})
    gw = gateway(FakeClient(private_post_trade_order=post), Sleeps())
    with pytest.raises(OutcomeUnknown, match="without the order"):
        await OkxExecution(gw, KnownInstruments(gw)).place_order(REQUEST)


async def test_the_body_sent_is_plain_strings() -> None:
    post = Script(ACCEPTED)
    row = {"clOrdId": "cl1", "ordId": "42", "instId": "BTC-USDT", "side": "buy",
           "state": "filled", "sz": "0.01", "accFillSz": "0.01", "avgPx": "60000",
           "fee": "-0.00001", "feeCcy": "BTC", "uTime": "1", "cTime": "1"}
    get = Script({"code": "0", "msg": "", "data": [row]})
    gw = gateway(FakeClient(private_post_trade_order=post, private_get_trade_order=get),
                 Sleeps())
    state = await OkxExecution(gw, KnownInstruments(gw)).place_order(
        OrderRequest("cl1", "BTC-USDT", Side.BUY, OrderType.MARKET, Decimal("1E-2"), "cash"))
    assert post.calls == [{"instId": "BTC-USDT", "tdMode": "cash", "side": "buy",
                           "ordType": "market", "sz": "0.01", "clOrdId": "cl1",
                           "tgtCcy": "base_ccy"}]
    assert get.calls == [{"instId": "BTC-USDT", "clOrdId": "cl1"}]
    assert state.fee == Decimal("0.00001") and state.venue_order_id == "42"


async def test_an_unreadable_answer_to_a_write_is_outcome_unknown() -> None:
    post = Script({"code": "0", "msg": ""})  # no data list
    gw = gateway(FakeClient(private_post_trade_order=post), Sleeps())
    with pytest.raises(OutcomeUnknown, match="without a data list"):
        await OkxExecution(gw, KnownInstruments(gw)).place_order(REQUEST)
    assert len(post.calls) == 1


# ---------------------------------------------------------------------- cancel_order
FILLED_ROW = {"clOrdId": "cl1", "ordId": "42", "instId": "BTC-USDT", "side": "buy",
              "state": "filled", "sz": "0.01", "accFillSz": "0.01", "avgPx": "60000",
              "fee": "-0.00001", "feeCcy": "BTC", "uTime": "1", "cTime": "1"}


async def test_cancel_item_saying_already_filled_returns_the_state() -> None:
    cancel = Script({"code": "0", "msg": "", "data": [{"clOrdId": "cl1", "sCode": "51402",
                                                       "sMsg": "filled"}]})
    get = Script({"code": "0", "msg": "", "data": [FILLED_ROW]})
    gw = gateway(FakeClient(private_post_trade_cancel_order=cancel,
                            private_get_trade_order=get), Sleeps())
    state = await OkxExecution(gw, KnownInstruments(gw)).cancel_order("BTC-USDT", "cl1")
    assert state.filled == Decimal("0.01") and cancel.calls == [{"instId": "BTC-USDT",
                                                                 "clOrdId": "cl1"}]


async def test_cancel_of_an_unknown_order_is_rejected() -> None:
    cancel = Script(okx_error(ccxt.OrderNotFound, "1", "51400"))
    get = Script(okx_error(ccxt.OrderNotFound, "51603"))
    gw = gateway(FakeClient(private_post_trade_cancel_order=cancel,
                            private_get_trade_order=get), Sleeps())
    with pytest.raises(OrderRejected, match="no such order"):
        await OkxExecution(gw, KnownInstruments(gw)).cancel_order("BTC-USDT", "cl1")


async def test_other_cancel_refusals_are_raised() -> None:
    cancel = Script(okx_error(ccxt.ExchangeError, "1", "51001"))
    gw = gateway(FakeClient(private_post_trade_cancel_order=cancel), Sleeps())
    with pytest.raises(ExchangeError, match="OKX 51001"):
        await OkxExecution(gw, KnownInstruments(gw)).cancel_order("BTC-USDT", "cl1")
