"""Fixtures of the execution tests; the rig itself lives in ``execution_rig``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from execution_rig import Rig, build_rig, carry_venue


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async for r in build_rig(carry_venue(), tmp_path):
        yield r
