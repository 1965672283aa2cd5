"""Telegram backend: python-telegram-bot's :class:`telegram.Bot` sending plain-text messages.

One :class:`TelegramNotifier` per chat, all sharing one :class:`TelegramBotHandle` (one HTTP
connection pool), so a retried message is never sent twice to a chat that already has it.
``base_url`` points the bot at another Bot API server (a local one, or a test's fake).
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from datetime import timedelta

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from laicai.notify.message import Message
from laicai.notify.notifier import DeliveryError, Notifier, TransientDeliveryError
from laicai.notify.redaction import Redactor

log = logging.getLogger(__name__)

TELEGRAM_API_URL = "https://api.telegram.org/bot"
MAX_TEXT = 4096
"""Telegram's limit on one message's text, in characters."""


def make_bot(token: str, *, base_url: str | None = None, timeout_s: float = 10.0) -> Bot:
    """A :class:`telegram.Bot` whose every request gives up after ``timeout_s``."""

    def request(pool: int) -> HTTPXRequest:
        return HTTPXRequest(connection_pool_size=pool, connect_timeout=timeout_s,
                            read_timeout=timeout_s, write_timeout=timeout_s,
                            pool_timeout=timeout_s)

    return Bot(token, base_url=base_url or TELEGRAM_API_URL, request=request(8),
               get_updates_request=request(1))


def retry_after_seconds(exc: RetryAfter) -> float:
    """``RetryAfter.retry_after`` in seconds, whichever type this PTB version returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB's int -> timedelta deprecation notice
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at line ends where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    return chunks


def delivery_error(exc: TelegramError, redact: Redactor) -> DeliveryError:
    """A PTB error as a :class:`DeliveryError`: flood control and network faults retry,
    refusals (bad request, bot blocked, bad token, chat moved) do not."""
    text = redact(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, RetryAfter):
        return TransientDeliveryError(text, retry_after_s=retry_after_seconds(exc))
    if isinstance(exc, BadRequest | Forbidden | InvalidToken | ChatMigrated):
        return DeliveryError(text)
    return TransientDeliveryError(text)  # NetworkError, TimedOut, Conflict, others


class TelegramBotHandle:
    """A :class:`telegram.Bot` shared by several notifiers: initialised by the first
    :meth:`acquire`, shut down by the last :meth:`release`."""

    def __init__(self, bot: Bot, redactor: Redactor | None = None) -> None:
        self.bot = bot
        self._redact = redactor or Redactor()
        self._users = 0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            self._users += 1
            if self._users > 1:
                return
            try:
                await self.bot.initialize()  # HTTP pools, then getMe
            except TelegramError as e:
                # The pools are up even when getMe failed: sending will retry on its own.
                log.warning("telegram: getMe failed at start-up: %s",
                            self._redact(f"{type(e).__name__}: {e}"))

    async def release(self) -> None:
        async with self._lock:
            if self._users == 0:
                return
            self._users -= 1
            if self._users == 0:
                await self.bot.shutdown()


class TelegramNotifier(Notifier):
    """Sends each message to one chat as plain text (split when over 4096 characters)."""

    def __init__(self, handle: TelegramBotHandle, chat_id: int,
                 redactor: Redactor | None = None) -> None:
        self.name = f"telegram:{chat_id}"
        self.handle = handle
        self.chat_id = chat_id
        self._redact = redactor or Redactor()
        self._started = False

    async def start(self) -> None:
        if not self._started:
            self._started = True
            await self.handle.acquire()

    async def send(self, message: Message) -> None:
        if not self._started:
            await self.start()
        for chunk in split_text(self._redact(message.render())):
            try:
                await self.handle.bot.send_message(chat_id=self.chat_id, text=chunk)
            except TelegramError as e:
                raise delivery_error(e, self._redact) from e

    async def close(self) -> None:
        if self._started:
            self._started = False
            await self.handle.release()
