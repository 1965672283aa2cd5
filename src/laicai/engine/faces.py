"""Attach the operator's faces to a bot: the dashboard (with /metrics) and notifications.

Each face is a service: an async starter that returns its async stop, started after the bot
is built and stopped (in reverse order) after it stops. Neither touches trading state: both
talk to the bot's :class:`~laicai.engine.operator_service.EngineOperator`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from laicai.config.schema import Settings
from laicai.engine.bot import Bot

log = logging.getLogger(__name__)

Stop = Callable[[], Awaitable[None]]
Service = Callable[[], Awaitable[Stop]]


def services(bot: Bot) -> list[Service]:
    found: list[Service] = bot.extras.setdefault("services", [])
    return found


def attach_web(bot: Bot, settings: Settings, *, port: int | None = None) -> None:
    from laicai.web import WebServer

    server = WebServer.from_settings(bot.operator, settings, port=port)
    bot.extras["web"] = server

    async def start() -> Stop:
        await server.start()
        return server.stop

    services(bot).append(start)


def attach_notifications(bot: Bot, settings: Settings) -> None:
    from laicai.notify import start_notifications

    async def start() -> Stop:
        return await start_notifications(bot.operator, settings)

    services(bot).append(start)


def attach_faces(bot: Bot, settings: Settings, *, web_port: int | None = None) -> None:
    """The dashboard when ``web.enabled``; Telegram / DingTalk when enabled in the config
    (the log always gets every notification)."""
    if settings.web.enabled:
        attach_web(bot, settings, port=web_port)
    attach_notifications(bot, settings)
