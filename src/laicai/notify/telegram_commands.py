"""Telegram commands: the operator steers the bot from a phone through the :class:`Operator`.

A python-telegram-bot :class:`~telegram.ext.Application` long-polls ``getUpdates`` in the
bot's event loop. Only the configured chats are answered: an update from any other chat gets
no reply at all (not even "forbidden") and is logged. ``/closeall`` only acts after a
confirmation from the same chat within the window: the inline button, or ``/closeall confirm``.

Commands sent while the bot was down are dropped at start-up (a stale ``/close 12`` from hours
ago must not run). Start-up never blocks: connecting, and reconnecting after an outage, happen
in a background task with backoff.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from laicai.engine.operator import Operator
from laicai.notify import operator_texts as texts
from laicai.notify.language import Tr
from laicai.notify.message import Lang, Level
from laicai.notify.redaction import Redactor
from laicai.notify.telegram_notifier import TELEGRAM_API_URL, split_text

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
_CONFIRM_WORDS = frozenset({"confirm", "yes", "确认"})


@dataclass(frozen=True, slots=True)
class _PendingCloseAll:
    nonce: str
    deadline: float


class TelegramCommands:
    """The command side of the Telegram bot; :meth:`start` and :meth:`stop` in the bot's loop.

    ``clock`` (monotonic seconds) times the confirmation window; tests pass their own.
    """

    def __init__(
        self,
        token: str,
        operator: Operator,
        chat_ids: Iterable[int],
        *,
        language: Lang = "zh",
        base_url: str | None = None,
        redactor: Redactor | None = None,
        confirm_window_s: float = 60.0,
        poll_timeout_s: float = 10.0,
        request_timeout_s: float = 10.0,
        reconnect_max_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.operator = operator
        self.chat_ids = frozenset(chat_ids)
        self.tr = Tr(language)
        self.confirm_window_s = confirm_window_s
        self.rejected_updates = 0
        self._redact = redactor or Redactor([token])
        self._poll_timeout_s = poll_timeout_s
        self._reconnect_max_s = reconnect_max_s
        self._clock = clock
        self._pending: dict[int, _PendingCloseAll] = {}
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        t = request_timeout_s
        self.app: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(token)
            .base_url(base_url or TELEGRAM_API_URL)
            .connect_timeout(t).read_timeout(t).write_timeout(t).pool_timeout(t)
            .get_updates_connect_timeout(t).get_updates_read_timeout(t)
            .get_updates_write_timeout(t).get_updates_pool_timeout(t)
            .job_queue(None)
            .build()
        )
        self._install_handlers()

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and start polling in the background; returns at once."""
        if self._task is None:
            self._task = asyncio.create_task(self._connect(), name="telegram-commands-connect")

    async def wait_ready(self, timeout_s: float) -> bool:
        """True once polling runs (False if it did not within ``timeout_s``)."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._ready.wait()
        except TimeoutError:
            return False
        return True

    async def _connect(self) -> None:
        delay = min(1.0, self._reconnect_max_s)
        while True:
            try:
                await self.app.initialize()
                assert self.app.updater is not None
                await self.app.updater.start_polling(
                    timeout=timedelta(seconds=self._poll_timeout_s),
                    allowed_updates=["message", "callback_query"],
                    drop_pending_updates=True,
                    error_callback=self._on_poll_error,
                )
                await self.app.start()
                break
            except TelegramError as e:
                log.warning("telegram commands: cannot connect (%s), retrying in %.0f s",
                            self._describe(e), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._reconnect_max_s)
        await self._register_commands()
        self._ready.set()
        log.info("telegram commands: polling for chats %s", sorted(self.chat_ids))

    async def _register_commands(self) -> None:
        """The command menu in Telegram's UI (best effort)."""
        try:
            await self.app.bot.set_my_commands(
                [(name, self.tr(zh, en)) for name, zh, en in texts.COMMANDS])
        except TelegramError as e:
            log.info("telegram commands: setMyCommands failed: %s", self._describe(e))

    async def stop(self) -> None:
        """Stop polling (the handler in flight finishes first) and close the connections."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        self._ready.clear()
        try:
            if self.app.updater is not None and self.app.updater.running:
                await self.app.updater.stop()
            if self.app.running:
                await self.app.stop()
            await self.app.shutdown()
        except (TelegramError, RuntimeError) as e:
            log.warning("telegram commands: stopping: %s", self._describe(e))

    def _describe(self, e: BaseException) -> str:
        return self._redact(f"{type(e).__name__}: {e}")

    def _on_poll_error(self, e: TelegramError) -> None:
        log.warning("telegram commands: polling failed: %s", self._describe(e))

    async def _on_error(self, update: object, context: Context) -> None:
        err = context.error
        log.error("telegram commands: handler failed: %s",
                  self._describe(err) if err else "unknown error")

    # --- dispatch ------------------------------------------------------------------------

    def _install_handlers(self) -> None:
        app = self.app
        app.add_handler(TypeHandler(Update, self._gate), group=-1)
        commands: dict[str, Callable[[Update, Context], Coroutine[Any, Any, None]]] = {
            "start": self._help, "help": self._help, "status": self._status,
            "positions": self._positions, "pnl": self._pnl, "funding": self._funding,
            "pause": self._pause, "resume": self._resume, "close": self._close,
            "closeall": self._close_all,
        }
        for name, handler in commands.items():
            app.add_handler(CommandHandler(name, handler))
        app.add_handler(CallbackQueryHandler(self._close_all_button, pattern=r"^closeall:"))
        app.add_handler(MessageHandler(filters.COMMAND, self._unknown))
        app.add_error_handler(self._on_error)

    async def _gate(self, update: Update, context: Context) -> None:
        """Group -1: updates from any chat not configured stop here, unanswered."""
        chat = update.effective_chat
        if chat is not None and chat.id in self.chat_ids:
            return
        user = update.effective_user
        self.rejected_updates += 1
        log.warning("telegram commands: ignored an update from chat %s (user %s, %s): "
                    "not a configured chat", chat.id if chat else None,
                    user.id if user else None, user.username if user else None)
        raise ApplicationHandlerStop

    @staticmethod
    def _chat_id(update: Update) -> int:
        assert update.effective_chat is not None  # the gate let only chats through
        return update.effective_chat.id

    @staticmethod
    def _by(update: Update) -> str:
        user = update.effective_user
        if user is None:
            return "telegram"
        return f"telegram:{user.id}" + (f"(@{user.username})" if user.username else "")

    async def _reply(self, chat_id: int, text: str,
                     markup: InlineKeyboardMarkup | None = None) -> None:
        chunks = split_text(self._redact(text))
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            await self.app.bot.send_message(chat_id=chat_id, text=chunk,
                                            reply_markup=markup if last else None)

    async def _answer(self, update: Update, produce: Callable[[], Awaitable[str]]) -> None:
        """Reply with what ``produce`` returns, or with the error it raised."""
        try:
            text = await produce()
        except Exception as e:
            log.exception("telegram commands: the operator call failed")
            text = f"{Level.ERROR.icon} " + self.tr("命令失败", "Command failed") + \
                f": {type(e).__name__}: {e}"
        await self._reply(self._chat_id(update), text)

    # --- commands ------------------------------------------------------------------------

    async def _help(self, update: Update, context: Context) -> None:
        await self._reply(self._chat_id(update), texts.help_text(self.tr))

    async def _unknown(self, update: Update, context: Context) -> None:
        unknown = self.tr("未知命令。", "Unknown command.")
        await self._reply(self._chat_id(update), unknown + "\n" + texts.help_text(self.tr))

    async def _status(self, update: Update, context: Context) -> None:
        async def produce() -> str:
            return texts.status_text(await self.operator.status(), self.tr)

        await self._answer(update, produce)

    async def _positions(self, update: Update, context: Context) -> None:
        async def produce() -> str:
            return texts.positions_text(await self.operator.positions(), self.tr)

        await self._answer(update, produce)

    async def _pnl(self, update: Update, context: Context) -> None:
        async def produce() -> str:
            return texts.pnl_text(await self.operator.pnl(), self.tr)

        await self._answer(update, produce)

    async def _funding(self, update: Update, context: Context) -> None:
        async def produce() -> str:
            return texts.funding_text(await self.operator.funding(), self.tr)

        await self._answer(update, produce)

    async def _pause(self, update: Update, context: Context) -> None:
        reason = " ".join(context.args or ()) or self.tr("操作员通过 Telegram 暂停",
                                                          "paused by the operator on Telegram")

        async def produce() -> str:
            return texts.result_text(await self.operator.pause(self._by(update), reason))

        await self._answer(update, produce)

    async def _resume(self, update: Update, context: Context) -> None:
        async def produce() -> str:
            return texts.result_text(await self.operator.resume(self._by(update)))

        await self._answer(update, produce)

    async def _close(self, update: Update, context: Context) -> None:
        args = context.args or []
        raw = args[0].lstrip("#") if len(args) == 1 else ""
        if not raw.isdigit():
            await self._reply(self._chat_id(update), f"{Level.WARN.icon} " + self.tr(
                "用法：/close <仓位编号>，编号见 /positions",
                "usage: /close <position id> (ids are in /positions)"))
            return
        position_id = int(raw)

        async def produce() -> str:
            return texts.result_text(
                await self.operator.close_position(position_id, self._by(update)))

        await self._answer(update, produce)

    async def _close_all(self, update: Update, context: Context) -> None:
        chat_id = self._chat_id(update)
        args = [a.lower() for a in context.args or ()]
        if args and args[0] in _CONFIRM_WORDS:
            await self._confirm_close_all(update, nonce=None)
            return
        nonce = secrets.token_hex(4)
        self._pending[chat_id] = _PendingCloseAll(nonce, self._clock() + self.confirm_window_s)
        window = f"{self.confirm_window_s:g}"
        markup = InlineKeyboardMarkup([[
            InlineKeyboardButton(self.tr("确认全部平仓", "Confirm: close all"),
                                 callback_data=f"closeall:yes:{nonce}"),
            InlineKeyboardButton(self.tr("取消", "Cancel"), callback_data=f"closeall:no:{nonce}"),
        ]])
        await self._reply(chat_id, f"{Level.WARN.icon} " + self.tr(
            f"确认平掉全部仓位？请在 {window} 秒内点击下方按钮，或发送 /closeall confirm",
            f"Close ALL positions? Confirm within {window} s: press the button below or send "
            "/closeall confirm"), markup)

    def _take_pending(self, chat_id: int, nonce: str | None) -> str | None:
        """Consume the chat's pending request; the reason it cannot be confirmed, if any."""
        pending = self._pending.get(chat_id)
        if pending is None or (nonce is not None and nonce != pending.nonce):
            return self.tr("没有待确认的全部平仓请求，请先发送 /closeall",
                           "no close-all request is waiting: send /closeall first")
        del self._pending[chat_id]
        if self._clock() > pending.deadline:
            return self.tr("确认已超时，请重新发送 /closeall",
                           "the confirmation expired: send /closeall again")
        return None

    async def _confirm_close_all(self, update: Update, nonce: str | None) -> bool:
        chat_id = self._chat_id(update)
        problem = self._take_pending(chat_id, nonce)
        if problem is not None:
            await self._reply(chat_id, f"{Level.WARN.icon} {problem}")
            return False
        log.warning("telegram commands: close-all confirmed in chat %s by %s",
                    chat_id, self._by(update))

        async def produce() -> str:
            return texts.result_text(await self.operator.close_all(self._by(update)))

        await self._answer(update, produce)
        return True

    async def _close_all_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        _, answer, nonce = ((query.data or "") + "::").split(":")[:3]
        if answer == "yes":
            await query.answer(self.tr("收到", "Received"))
            await query.edit_message_reply_markup(reply_markup=None)
            await self._confirm_close_all(update, nonce=nonce)
        else:
            problem = self._take_pending(self._chat_id(update), nonce)
            await query.answer(self.tr("已取消", "Cancelled"))
            await query.edit_message_reply_markup(reply_markup=None)
            if problem is None:
                await self._reply(self._chat_id(update), f"{Level.INFO.icon} " + self.tr(
                    "已取消全部平仓", "close-all cancelled"))
