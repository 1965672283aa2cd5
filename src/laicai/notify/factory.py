"""Building the notification side from the configuration: what the engine calls.

::

    stop = await start_notifications(operator, settings)   # events from operator.subscribe()
    ...                                # publish BotStopped on the bus before stopping
    await stop()                       # commands first, then drain the queues (bounded)

or, with the pieces in hand::

    notifications = build_notifications(settings, bus, operator)
    await notifications.start()        # returns at once; nothing here can stop the bot
    await notifications.stop()

The notification language is ``telegram.language`` (``zh`` by default) for every backend.
``telegram_base_url`` / ``dingtalk_base_url`` point the clients at another server (a local
Bot API server, or a test's fake).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from laicai.config.schema import Settings
from laicai.config.secrets import Secrets
from laicai.engine.bus import EventBus
from laicai.engine.operator import Operator
from laicai.notify.dingtalk import DINGTALK_API_URL, DingtalkNotifier
from laicai.notify.notifier import LogNotifier, Notifier
from laicai.notify.redaction import Redactor
from laicai.notify.service import NotificationService
from laicai.notify.telegram_commands import TelegramCommands
from laicai.notify.telegram_notifier import TelegramBotHandle, TelegramNotifier, make_bot

log = logging.getLogger(__name__)


def build_notifiers(
    settings: Settings,
    secrets: Secrets | None = None,
    *,
    telegram_base_url: str | None = None,
    dingtalk_base_url: str | None = None,
    timeout_s: float = 10.0,
    include_log: bool = True,
) -> list[Notifier]:
    """One notifier per enabled channel: a :class:`TelegramNotifier` per configured chat
    (sharing one bot), the DingTalk robot, and the log (unless ``include_log`` is false).

    ``secrets`` defaults to ``settings.secrets``. A channel enabled without its token (which
    :class:`Settings` validation already refuses) is skipped with an error in the log.
    """
    secrets = secrets if secrets is not None else settings.secrets
    redactor = Redactor.from_secrets(secrets)
    notifiers: list[Notifier] = []
    tg = settings.telegram
    if tg.enabled:
        if secrets.telegram_bot_token is None:
            log.error("notify: telegram.enabled but LAICAI_TELEGRAM_BOT_TOKEN is not set")
        else:
            bot = make_bot(secrets.telegram_bot_token.get_secret_value(),
                           base_url=telegram_base_url, timeout_s=timeout_s)
            handle = TelegramBotHandle(bot, redactor)
            notifiers.extend(TelegramNotifier(handle, chat, redactor) for chat in tg.chat_ids)
    if settings.dingtalk.enabled:
        if secrets.dingtalk_access_token is None:
            log.error("notify: dingtalk.enabled but LAICAI_DINGTALK_ACCESS_TOKEN is not set")
        else:
            secret = secrets.dingtalk_secret
            notifiers.append(DingtalkNotifier(
                secrets.dingtalk_access_token.get_secret_value(),
                secret.get_secret_value() if secret is not None else None,
                base_url=dingtalk_base_url or DINGTALK_API_URL,
                timeout_s=timeout_s,
                redactor=redactor,
            ))
    if include_log:
        notifiers.append(LogNotifier(redactor))
    return notifiers


def build_telegram_commands(
    settings: Settings,
    operator: Operator,
    secrets: Secrets | None = None,
    *,
    telegram_base_url: str | None = None,
    timeout_s: float = 10.0,
) -> TelegramCommands | None:
    """The Telegram command handler, or ``None`` when Telegram is off (or has no token/chat)."""
    secrets = secrets if secrets is not None else settings.secrets
    tg = settings.telegram
    if not tg.enabled or secrets.telegram_bot_token is None or not tg.chat_ids:
        return None
    return TelegramCommands(
        secrets.telegram_bot_token.get_secret_value(),
        operator,
        tg.chat_ids,
        language=tg.language,
        base_url=telegram_base_url,
        redactor=Redactor.from_secrets(secrets),
        request_timeout_s=timeout_s,
    )


@dataclass
class Notifications:
    """The notification service and (when configured) the Telegram commands, started and
    stopped together."""

    service: NotificationService
    commands: TelegramCommands | None = None

    async def start(self) -> None:
        await self.service.start()
        if self.commands is not None:
            await self.commands.start()

    async def stop(self, timeout_s: float = 5.0) -> None:
        if self.commands is not None:
            await self.commands.stop()
        await self.service.stop(timeout_s)


def build_notifications(
    settings: Settings,
    bus: EventBus | None = None,
    operator: Operator | None = None,
    secrets: Secrets | None = None,
    *,
    telegram_base_url: str | None = None,
    dingtalk_base_url: str | None = None,
    timeout_s: float = 10.0,
    queue_size: int = 500,
    coalesce_s: float = 60.0,
) -> Notifications:
    """Everything wired: notifiers from the settings, a service reading the events of ``bus``
    (or of ``operator.subscribe()`` without a bus), and the Telegram commands over
    ``operator`` (none without an operator)."""
    secrets = secrets if secrets is not None else settings.secrets
    notifiers = build_notifiers(settings, secrets, telegram_base_url=telegram_base_url,
                                dingtalk_base_url=dingtalk_base_url, timeout_s=timeout_s)
    service = NotificationService(
        notifiers,
        language=settings.telegram.language,
        redactor=Redactor.from_secrets(secrets),
        queue_size=queue_size,
        coalesce_s=coalesce_s,
    )
    if bus is not None:
        service.attach(bus)
    elif operator is not None:
        service.consume(operator.subscribe())
    commands = None
    if operator is not None:
        commands = build_telegram_commands(settings, operator, secrets,
                                           telegram_base_url=telegram_base_url,
                                           timeout_s=timeout_s)
    return Notifications(service, commands)


async def start_notifications(
    operator: Operator,
    settings: Settings,
    secrets: Secrets | None = None,
    *,
    telegram_base_url: str | None = None,
    dingtalk_base_url: str | None = None,
    timeout_s: float = 10.0,
    stop_timeout_s: float = 5.0,
) -> Callable[[], Awaitable[None]]:
    """Build and start everything over ``operator`` (events from ``operator.subscribe()``);
    returns the coroutine function that stops it. Returns at once: nothing here waits for
    Telegram or DingTalk, and nothing here can fail the bot's start."""
    notifications = build_notifications(settings, None, operator, secrets,
                                        telegram_base_url=telegram_base_url,
                                        dingtalk_base_url=dingtalk_base_url,
                                        timeout_s=timeout_s)
    await notifications.start()

    async def stop() -> None:
        await notifications.stop(stop_timeout_s)

    return stop
