"""Fixtures of the notification integration tests; the fakes live in ``notify_fakes``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from notify_fakes import FakeBotApi, RecordingOperator


@pytest.fixture
async def bot_api() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi()
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
def operator() -> RecordingOperator:
    return RecordingOperator()
