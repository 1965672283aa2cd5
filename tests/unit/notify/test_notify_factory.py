"""Which backends the configuration builds, and the pieces they are made of."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import unquote_plus

import pytest
from pydantic import SecretStr

from laicai.config.schema import Settings
from laicai.config.secrets import Secrets
from laicai.config.sections import DingtalkConfig, TelegramConfig
from laicai.engine.bus import EventBus
from laicai.notify import build_notifications, build_notifiers, build_telegram_commands
from laicai.notify.dingtalk import DingtalkNotifier, dingtalk_sign, webhook_url
from laicai.notify.notifier import LogNotifier
from laicai.notify.telegram_notifier import TelegramNotifier, split_text

TOKEN = "555000:AAExampleExampleExampleExample12345"


def test_nothing_enabled_leaves_the_log() -> None:
    notifiers = build_notifiers(Settings())
    assert [type(n) for n in notifiers] == [LogNotifier]
    assert build_notifiers(Settings(), include_log=False) == []


def test_telegram_one_notifier_per_chat_sharing_one_bot() -> None:
    settings = Settings(telegram=TelegramConfig(enabled=True, chat_ids=[1, -2]),
                        secrets=Secrets(telegram_bot_token=SecretStr(TOKEN)))
    tg = [n for n in build_notifiers(settings, telegram_base_url="http://127.0.0.1:9/bot")
          if isinstance(n, TelegramNotifier)]
    assert [n.name for n in tg] == ["telegram:1", "telegram:-2"]
    assert tg[0].handle is tg[1].handle
    assert tg[0].handle.bot.base_url == f"http://127.0.0.1:9/bot{TOKEN}"


def test_dingtalk_and_explicit_secrets() -> None:
    settings = Settings(dingtalk=DingtalkConfig(enabled=True),
                        secrets=Secrets(dingtalk_access_token=SecretStr("tok")))
    other = Secrets(dingtalk_access_token=SecretStr("other"), dingtalk_secret=SecretStr("s"))
    [dingtalk, _] = build_notifiers(settings, other)
    assert isinstance(dingtalk, DingtalkNotifier)
    assert dingtalk.name == "dingtalk"


def test_commands_only_with_telegram_and_an_operator() -> None:
    off = Settings()
    assert build_telegram_commands(off, operator=object()) is None  # type: ignore[arg-type]
    on = Settings(telegram=TelegramConfig(enabled=True, chat_ids=[1], language="en"),
                  secrets=Secrets(telegram_bot_token=SecretStr(TOKEN)))
    assert build_notifications(on, EventBus()).commands is None  # no operator given
    commands = build_telegram_commands(on, operator=object())  # type: ignore[arg-type]
    assert commands is not None
    assert commands.chat_ids == frozenset({1}) and commands.tr.lang == "en"


def test_dingtalk_signature_matches_an_independent_vector() -> None:
    # printf '1700000000000\nSECxyz' | openssl dgst -sha256 -hmac SECxyz -binary | base64
    expected = "0PUR1j8g85Xg3vlFV/UrEcxXfF5HpCAGzcjrNfyJoyg="
    sign = dingtalk_sign(1_700_000_000_000, "SECxyz")
    assert sign == "0PUR1j8g85Xg3vlFV%2FUrEcxXfF5HpCAGzcjrNfyJoyg%3D"
    assert unquote_plus(sign) == expected


@pytest.mark.parametrize("ts", [1_700_000_000_000, 1_712_345_678_901])
def test_dingtalk_signature_is_the_documented_hmac(ts: int) -> None:
    secret = "SEC" + "ab" * 30
    digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    assert unquote_plus(dingtalk_sign(ts, secret)) == base64.b64encode(digest).decode()


def test_webhook_url_shape() -> None:
    url = webhook_url("https://oapi.dingtalk.com/", "t0k", "SECxyz", 1_700_000_000_000)
    assert url == ("https://oapi.dingtalk.com/robot/send?access_token=t0k"
                   "&timestamp=1700000000000&sign=0PUR1j8g85Xg3vlFV%2FUrEcxXfF5HpCAGzcjrNfyJoyg%3D")
    assert webhook_url("https://x", "t", None, 1) == "https://x/robot/send?access_token=t"


def test_long_texts_are_split_at_line_ends() -> None:
    text = "\n".join(f"line {i:04d} " + "x" * 40 for i in range(300))
    chunks = split_text(text, limit=4096)
    assert all(len(c) <= 4096 for c in chunks)
    assert "\n".join(chunks) == text
    assert len(chunks) == 4
    assert split_text("y" * 10_000, limit=4096) == ["y" * 4096, "y" * 4096, "y" * 1808]
    assert split_text("") == [""]
