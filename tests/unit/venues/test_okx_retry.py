"""The retrier: transient errors retried with exponential backoff and jitter within attempts
and a time budget; everything else raised at once."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from laicai.errors import (
    AuthenticationFailed,
    ExchangeError,
    OrderRejected,
    RateLimited,
    TransientExchangeError,
)
from laicai.venues.okx.retry import RetryPolicy, retry_transient


class Flaky:
    """Raises the given errors in turn, then returns ``"ok"``."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, s: float) -> None:
        self.delays.append(s)


POLICY = RetryPolicy(max_attempts=4, base_delay_s=0.1, rate_limited_delay_s=1.0,
                     max_delay_s=0.3, budget_s=100.0, jitter_floor=0.5)


async def test_transient_errors_are_retried_with_growing_capped_backoff() -> None:
    op = Flaky(TransientExchangeError("a"), TransientExchangeError("b"),
               TransientExchangeError("c"))
    sleep = Sleeps()
    assert await retry_transient(op, POLICY, sleep=sleep, draw=lambda: 1.0) == "ok"
    assert op.calls == 4
    assert sleep.delays == pytest.approx([0.1, 0.2, 0.3])  # 0.4 capped at max_delay_s


async def test_rate_limits_back_off_longer() -> None:
    sleep = Sleeps()
    await retry_transient(Flaky(RateLimited("50011")), POLICY, sleep=sleep, draw=lambda: 0.0)
    assert sleep.delays == [0.3 * 0.5]  # min(max, 1.0) x jitter floor


async def test_gives_up_after_max_attempts_with_the_last_error() -> None:
    errors = [TransientExchangeError(str(i)) for i in range(5)]
    op = Flaky(*errors)
    with pytest.raises(TransientExchangeError, match="3"):
        await retry_transient(op, POLICY, sleep=Sleeps())
    assert op.calls == 4


@pytest.mark.parametrize("error", [ExchangeError("51001"), OrderRejected("lot"),
                                   AuthenticationFailed("sig"), ValueError("bug")])
async def test_non_transient_errors_are_raised_at_once(error: Exception) -> None:
    op = Flaky(error)
    sleep = Sleeps()
    with pytest.raises(type(error)):
        await retry_transient(op, POLICY, sleep=sleep)
    assert op.calls == 1 and sleep.delays == []


async def test_time_budget_stops_retries() -> None:
    now = [0.0]

    async def sleep(s: float) -> None:
        now[0] += s

    op = Flaky(*[TransientExchangeError("x")] * 10)
    policy = RetryPolicy(max_attempts=10, base_delay_s=1.0, max_delay_s=8.0, budget_s=5.0)
    with pytest.raises(TransientExchangeError):
        await retry_transient(op, policy, sleep=sleep, draw=lambda: 1.0, clock=lambda: now[0])
    assert now[0] <= 5.0 and op.calls == 3  # waits 1 + 2; a third wait of 4 would overrun


def test_policy_validation() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(jitter_floor=1.5)


@given(retry=st.integers(1, 20), draw=st.floats(0, 1, exclude_max=True),
       limited=st.booleans())
def test_delay_within_the_jitter_band(retry: int, draw: float, limited: bool) -> None:
    policy = RetryPolicy()
    error = RateLimited("x") if limited else TransientExchangeError("x")
    base = policy.rate_limited_delay_s if limited else policy.base_delay_s
    ceiling = min(policy.max_delay_s, base * 2 ** (retry - 1))
    delay = policy.delay_s(retry, error, draw)
    assert ceiling * policy.jitter_floor <= delay <= ceiling
