"""DingTalk backend: a custom robot's webhook, signed as DingTalk documents it.

``POST {base_url}/robot/send?access_token=T&timestamp=MS&sign=S`` with
``{"msgtype": "text", "text": {"content": ...}}``, where ``S`` is
``urlencode(base64(HMAC-SHA256(key=secret, msg=f"{MS}\\n{secret}")))`` and ``MS`` the current
Unix time in milliseconds (DingTalk refuses a timestamp more than an hour off). Without a
secret (a robot secured by keywords or IP instead) the request is sent unsigned.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

import httpx

from laicai.notify.message import Message
from laicai.notify.notifier import DeliveryError, Notifier, TransientDeliveryError
from laicai.notify.redaction import Redactor

DINGTALK_API_URL = "https://oapi.dingtalk.com"
MAX_CONTENT_BYTES = 18_000
"""DingTalk accepts about 20,000 bytes of text; longer messages are cut with a mark."""

# errcodes worth a retry: system busy, too many messages per minute.
_RETRYABLE_ERRCODES = frozenset({-1, 130101, 410100})


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """The ``sign`` query value: base64 HMAC-SHA256 of ``"{timestamp}\\n{secret}"``, keyed with
    the secret, then URL-encoded."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def webhook_url(base_url: str, access_token: str, secret: str | None, timestamp_ms: int) -> str:
    url = f"{base_url.rstrip('/')}/robot/send?access_token={quote_plus(access_token)}"
    if secret:
        url += f"&timestamp={timestamp_ms}&sign={dingtalk_sign(timestamp_ms, secret)}"
    return url


def _truncate(text: str) -> str:
    data = text.encode()
    if len(data) <= MAX_CONTENT_BYTES:
        return text
    return data[:MAX_CONTENT_BYTES].decode(errors="ignore") + "\n…"


class DingtalkNotifier(Notifier):
    """Posts each message as a text message to one custom robot."""

    def __init__(
        self,
        access_token: str,
        secret: str | None = None,
        *,
        base_url: str = DINGTALK_API_URL,
        timeout_s: float = 10.0,
        redactor: Redactor | None = None,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.name = "dingtalk"
        self._token = access_token
        self._secret = secret
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._redact = redactor or Redactor([access_token, *([secret] if secret else [])])
        self._clock_ms = clock_ms
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout_s)

    async def send(self, message: Message) -> None:
        if self._client is None:
            await self.start()
        assert self._client is not None
        url = webhook_url(self._base_url, self._token, self._secret, self._clock_ms())
        body = {"msgtype": "text", "text": {"content": _truncate(self._redact(message.render()))}}
        try:
            response = await self._client.post(url, json=body)
        except httpx.HTTPError as e:
            # the exception's text may hold the URL, and with it the token: redact it
            raise TransientDeliveryError(
                self._redact(f"dingtalk: {type(e).__name__}: {e}")) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientDeliveryError(f"dingtalk: HTTP {response.status_code}")
        try:
            answer: Any = response.json()
        except ValueError:
            raise DeliveryError(f"dingtalk: HTTP {response.status_code}, not JSON") from None
        errcode = answer.get("errcode") if isinstance(answer, dict) else None
        if response.status_code != 200 or errcode != 0:
            errmsg = answer.get("errmsg", "") if isinstance(answer, dict) else ""
            text = self._redact(
                f"dingtalk: HTTP {response.status_code} errcode {errcode}: {errmsg}")
            if errcode in _RETRYABLE_ERRCODES:
                raise TransientDeliveryError(text)
            raise DeliveryError(text)

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
