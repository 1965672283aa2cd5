"""Notifications: every bot event as a message on Telegram, DingTalk and the log, and the
Telegram commands that steer the bot through the Operator. See ``docs/notifications.md``.

The engine calls :func:`start_notifications` (or :func:`build_notifications`, or
:func:`build_notifiers` and wires a :class:`NotificationService` itself).
"""

from laicai.notify.dingtalk import DingtalkNotifier, dingtalk_sign
from laicai.notify.event_messages import format_event
from laicai.notify.factory import (
    Notifications,
    build_notifications,
    build_notifiers,
    build_telegram_commands,
    start_notifications,
)
from laicai.notify.message import Lang, Level, Message
from laicai.notify.notifier import DeliveryError, LogNotifier, Notifier, TransientDeliveryError
from laicai.notify.redaction import Redactor
from laicai.notify.service import NotificationService
from laicai.notify.telegram_commands import TelegramCommands
from laicai.notify.telegram_notifier import TelegramBotHandle, TelegramNotifier, make_bot

__all__ = [
    "DeliveryError",
    "DingtalkNotifier",
    "Lang",
    "Level",
    "LogNotifier",
    "Message",
    "NotificationService",
    "Notifications",
    "Notifier",
    "Redactor",
    "TelegramBotHandle",
    "TelegramCommands",
    "TelegramNotifier",
    "TransientDeliveryError",
    "build_notifications",
    "build_notifiers",
    "build_telegram_commands",
    "dingtalk_sign",
    "format_event",
    "make_bot",
    "start_notifications",
]
