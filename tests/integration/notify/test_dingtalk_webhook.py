"""DingTalk custom robot against a local webhook that verifies the HMAC-SHA256 signature the
way DingTalk does: signed messages are accepted, a wrong secret, a stale timestamp or a
signature sent without URL-encoding are rejected, and rejection never raises into the bot."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from notify_fakes import FakeDingtalk
from pydantic import SecretStr

from laicai.config.schema import Settings
from laicai.config.secrets import Secrets
from laicai.config.sections import DingtalkConfig
from laicai.engine.bus import EventBus
from laicai.execution.events import CarryReset
from laicai.notify import build_notifications, build_notifiers
from laicai.notify.dingtalk import DingtalkNotifier
from laicai.notify.message import Level, Message
from laicai.notify.notifier import DeliveryError, TransientDeliveryError
from laicai.notify.preview import SAMPLE_TS
from laicai.notify.service import NotificationService

ACCESS_TOKEN = "dt-access-token-5f1e"
SECRET = "SECb6c0a1f2e3d4c5b6a7988776655443322110ffeeddccbbaa"
MESSAGE = Message(Level.ERROR, "Hedge broken: naked exposure ETH #14", ("1,380.55 USDT",))


@pytest.fixture
async def hook() -> AsyncIterator[FakeDingtalk]:
    server = FakeDingtalk(ACCESS_TOKEN, SECRET)
    await server.start()
    yield server
    await server.stop()


async def test_signed_message_is_accepted(hook: FakeDingtalk) -> None:
    async with DingtalkNotifier(ACCESS_TOKEN, SECRET, base_url=hook.base_url) as dingtalk:
        await dingtalk.send(MESSAGE)
    assert hook.rejected == []
    [post] = hook.accepted
    assert post.body == {"msgtype": "text", "text": {"content": MESSAGE.render()}}
    assert set(post.query) == {"access_token", "timestamp", "sign"}
    assert abs(int(post.query["timestamp"]) - time.time() * 1000) < 60_000
    raw_sign = post.raw_query.split("sign=")[1]
    assert not set("+/=") & set(raw_sign)  # URL-encoded, as the docs require


async def test_wrong_secret_is_rejected(hook: FakeDingtalk) -> None:
    async with DingtalkNotifier(ACCESS_TOKEN, "SECnot-the-right-one",
                                base_url=hook.base_url) as dingtalk:
        with pytest.raises(DeliveryError) as caught:
            await dingtalk.send(MESSAGE)
    assert not isinstance(caught.value, TransientDeliveryError)  # retrying cannot help
    assert "310000" in str(caught.value)
    assert hook.accepted == []
    assert [code for _, code in hook.rejected] == [310000]


async def test_stale_timestamp_is_rejected(hook: FakeDingtalk) -> None:
    two_hours_ago = int(time.time() * 1000) - 2 * 3_600_000
    async with DingtalkNotifier(ACCESS_TOKEN, SECRET, base_url=hook.base_url,
                                clock_ms=lambda: two_hours_ago) as dingtalk:
        with pytest.raises(DeliveryError):
            await dingtalk.send(MESSAGE)
    assert hook.accepted == []


async def test_the_webhook_rejects_a_sign_that_is_not_url_encoded(hook: FakeDingtalk) -> None:
    """The fake is strict where DingTalk is: a raw base64 '+' arrives as a space."""
    ts = int(time.time() * 1000)
    while True:
        digest = hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
        raw = base64.b64encode(digest).decode()
        if "+" in raw:
            break
        ts += 1
    url = f"{hook.base_url}/robot/send?access_token={ACCESS_TOKEN}&timestamp={ts}&sign={raw}"
    async with httpx.AsyncClient() as client:
        answer = (await client.post(url, json={"msgtype": "text",
                                               "text": {"content": "x"}})).json()
    assert answer["errcode"] == 310000
    assert hook.accepted == []


async def test_robot_without_secret_is_sent_unsigned() -> None:
    server = FakeDingtalk(ACCESS_TOKEN, secret=None)
    await server.start()
    try:
        async with DingtalkNotifier(ACCESS_TOKEN, None, base_url=server.base_url) as dingtalk:
            await dingtalk.send(MESSAGE)
    finally:
        await server.stop()
    [post] = server.accepted
    assert set(post.query) == {"access_token"}


async def test_rejection_is_logged_never_raised(hook: FakeDingtalk,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="laicai.notify.service")
    service = NotificationService(
        [DingtalkNotifier(ACCESS_TOKEN, "SECwrong", base_url=hook.base_url)],
        backoff_s=0.01)
    await service.start()
    service.notify(MESSAGE)
    await hook.wait_posts(1)
    await service.stop(timeout_s=1.0)
    stats = service.stats()["dingtalk"]
    assert (stats.sent, stats.failed, stats.retried) == (0, 1, 0)  # refused: not retried
    [record] = [r for r in caplog.records if "gave up" in r.getMessage()]
    assert "sign not match" in record.getMessage()
    assert ACCESS_TOKEN not in record.getMessage()


async def test_wired_from_settings_with_events_in_chinese(hook: FakeDingtalk) -> None:
    secrets = Secrets(dingtalk_access_token=SecretStr(ACCESS_TOKEN),
                      dingtalk_secret=SecretStr(SECRET))
    settings = Settings(dingtalk=DingtalkConfig(enabled=True), secrets=secrets)
    assert [n.name for n in build_notifiers(settings)] == ["dingtalk", "log"]
    bus = EventBus()
    notifications = build_notifications(settings, bus, dingtalk_base_url=hook.base_url,
                                        timeout_s=2.0)
    assert notifications.commands is None
    await notifications.start()
    bus.publish(CarryReset(SAMPLE_TS, 12, "BTC", 1, Decimal("18.4"), Decimal("0.15")))
    await hook.wait_posts(1)
    await notifications.stop(timeout_s=1.0)
    [post] = hook.accepted
    content = post.body["text"]["content"]
    assert "⚠️ ‼️ 仓位重置 BTC #12" in content
    assert "本次成本：18.40 USDT" in content
    assert "累计重置次数：1" in content
    assert ACCESS_TOKEN not in content and SECRET not in content
