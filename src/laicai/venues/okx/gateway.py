"""The one place the adapter calls ccxt.

Every call goes: retrier -> ccxt (whose REST requests each wait for a slot of their endpoint's
rate limit, see :mod:`laicai.venues.okx.factories`) -> errors translated into laicai's
hierarchy with ``raise ... from e``. Only transient errors come back round the retrier.

Writes that must not happen twice (placing an order, moving money) go through
:meth:`OkxGateway.submit`: a rate-limit refusal (OKX 50011, HTTP 429: the request was not
processed) is retried like any call, every other transient failure (a timeout, a dropped
connection, a 5xx, an unreadable answer) may have been processed and becomes
:class:`~laicai.errors.OutcomeUnknown`, never sent again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import aiohttp
import ccxt

from laicai.errors import ExchangeError, OutcomeUnknown, RateLimited
from laicai.venues.okx.errors import translate
from laicai.venues.okx.retry import RetryPolicy, Sleep, retry_transient
from laicai.venues.okx.types import Row

T = TypeVar("T")

# What a ccxt call can raise that is not a bug of ours.
FOREIGN_ERRORS: tuple[type[BaseException], ...] = (
    ccxt.BaseError, aiohttp.ClientError, TimeoutError, ConnectionError,
)


async def gather_or_cancel(*aws: Awaitable[T]) -> list[T]:
    """Like ``asyncio.gather``, but the first error cancels the other calls (no orphan keeps
    retrying after its caller gave up) before it is raised."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def implicit_method(path: str, private: bool, method: str = "GET") -> str:
    """ccxt's implicit-API method for an OKX path: ``market/books`` ->
    ``public_get_market_books``."""
    access = "private" if private else "public"
    return f"{access}_{method.lower()}_{path.replace('/', '_').replace('-', '_')}"


class _Final(Exception):
    """Carries an error the retrier must not retry (OutcomeUnknown is retryable by class)
    past it; never escapes the gateway."""

    def __init__(self, error: ExchangeError) -> None:
        super().__init__(str(error))
        self.error = error


def _data(what: str, response: Any) -> list[Row]:
    data = response.get("data") if isinstance(response, Mapping) else None
    if not isinstance(data, list):
        raise ExchangeError(f"{what}: OKX answered without a data list")
    return [row for row in data if isinstance(row, Mapping)]


class OkxGateway:
    """ccxt client + retry policy + translation; hands raw OKX rows to the parsers."""

    def __init__(self, client: Any, *, retry: RetryPolicy, secrets: tuple[str, ...] = (),
                 sleep: Sleep = asyncio.sleep) -> None:
        self.client = client
        self.retry = retry
        self._secrets = secrets
        self._sleep = sleep

    async def call(self, what: str, fn: Callable[[], Awaitable[T]]) -> T:
        """``await fn()`` (a ccxt call) translated and retried."""

        async def once() -> T:
            try:
                return await fn()
            except FOREIGN_ERRORS as e:
                raise translate(e, what, self._secrets) from e

        return await retry_transient(once, self.retry, label=what, sleep=self._sleep)

    async def rows(self, path: str, params: Mapping[str, str] | None = None, *,
                   private: bool = False, what: str | None = None) -> list[Row]:
        """The ``data`` rows of GET ``/api/v5/{path}``, exactly as OKX sent them."""
        what = what or path
        fn = getattr(self.client, implicit_method(path, private))
        request = dict(params or {})
        return _data(what, await self.call(what, lambda: fn(request)))

    async def submit(self, what: str, fn: Callable[[], Awaitable[T]]) -> T:
        """``await fn()`` (a ccxt call that must not happen twice) sent at most once: retried
        only after a rate-limit refusal; any other transient failure raises
        :class:`OutcomeUnknown` (``from`` the original error) at once."""

        async def once() -> T:
            try:
                return await fn()
            except FOREIGN_ERRORS as e:
                error = translate(e, what, self._secrets)
                if error.retryable and not isinstance(error, RateLimited):
                    unknown = OutcomeUnknown(f"{error} [outcome unknown: it may have been "
                                             f"processed; not sent again]")
                    unknown.__cause__ = e
                    raise _Final(unknown) from None
                raise error from e

        try:
            return await retry_transient(once, self.retry, label=what, sleep=self._sleep)
        except _Final as final:
            raise final.error from final.error.__cause__

    async def post(self, path: str, body: Mapping[str, str], *, idempotent: bool,
                   what: str | None = None) -> list[Row]:
        """The ``data`` rows of a signed POST ``/api/v5/{path}``. ``idempotent`` writes (a
        leverage setting, a cancel) are retried like reads; the others go through
        :meth:`submit`."""
        what = what or path
        fn = getattr(self.client, implicit_method(path, True, "POST"))
        request = dict(body)
        if idempotent:
            return _data(what, await self.call(what, lambda: fn(request)))
        response = await self.submit(what, lambda: fn(request))
        try:
            return _data(what, response)
        except ExchangeError as e:  # an answer we cannot read says nothing about the outcome
            raise OutcomeUnknown(f"{e} [outcome unknown: not sent again]") from e

    async def close(self) -> None:
        await self.client.close()
