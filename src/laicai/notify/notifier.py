"""The notifier interface every backend implements, the error it raises, and the log backend.

A backend's :meth:`Notifier.send` delivers one message or raises :class:`DeliveryError`; it
never retries and never swallows a failure. Retrying, backing off, queueing and logging
failures is :class:`~laicai.notify.service.NotificationService`'s job, so a slow or broken
backend can never hold up the bot.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import ClassVar

from laicai.errors import LaicaiError
from laicai.notify.message import Level, Message
from laicai.notify.redaction import Redactor


class DeliveryError(LaicaiError):
    """A backend could not deliver a message, and sending it again will not help (refused:
    bad request, wrong token or signature, bot blocked)."""

    retry_after_s: float | None = None


class TransientDeliveryError(DeliveryError):
    """The same message may get through later (network down, server busy, rate limited).

    ``retry_after_s`` is the wait the service asked for (Telegram's ``RetryAfter``), which the
    sender honours instead of its own backoff."""

    retryable: ClassVar[bool] = True

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Notifier(ABC):
    """An async notification backend, with the lifecycle of an async context manager."""

    name: str = "notifier"

    async def start(self) -> None:
        """Acquire connections. Must not raise when the service behind is unreachable."""
        return None

    @abstractmethod
    async def send(self, message: Message) -> None:
        """Deliver ``message`` once, or raise :class:`DeliveryError`."""

    async def close(self) -> None:
        """Release connections; idempotent."""
        return None

    async def __aenter__(self) -> Notifier:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


_LOG_LEVELS = {Level.INFO: logging.INFO, Level.WARN: logging.WARNING, Level.ERROR: logging.ERROR}


class LogNotifier(Notifier):
    """Writes each message to the ``laicai.notify.messages`` logger at its level (one line)."""

    def __init__(self, redactor: Redactor | None = None,
                 logger: logging.Logger | None = None) -> None:
        self.name = "log"
        self._redact = redactor or Redactor()
        self._log = logger or logging.getLogger("laicai.notify.messages")

    async def send(self, message: Message) -> None:
        text = self._redact(message.render()).replace("\n", " | ")
        self._log.log(_LOG_LEVELS[message.level], "%s", text)
