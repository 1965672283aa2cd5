"""Configurations, database rows and sim setups shared by the self-check and status tests.
(A module of its own, not conftest.py: test modules import it by a name no other test
directory uses.)"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from laicai.config import Settings, load_config
from laicai.domain.enums import Direction
from laicai.store import NewPosition, PositionChanges, PositionRecord, PositionStatus, Store
from laicai.testing.sim import API_KEY, PASSPHRASE, SECRET

D = Decimal
KEYS_ENV = {"LAICAI_OKX_API_KEY": API_KEY, "LAICAI_OKX_SECRET_KEY": SECRET,
            "LAICAI_OKX_PASSPHRASE": PASSPHRASE}


def write_config(tmp_path: Path, rest_url: str, *, mode: str = "paper", extra: str = ""
                 ) -> Path:
    """A config file for ``rest_url`` with its database in ``tmp_path`` and no log file."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    cfg = tmp_path / "config.yml"
    cfg.write_text(f"mode: {mode}\nokx:\n  rest_url: {rest_url}\n  enable_rate_limit: false\n"
                   f"database:\n  path: {tmp_path / 'laicai.db'}\nlogging:\n  file: null\n"
                   f"{extra}")
    return cfg


def settings_for(tmp_path: Path, rest_url: str, *, mode: str = "paper",
                 env: dict[str, str] | None = None, extra: str = "") -> Settings:
    path = write_config(tmp_path, rest_url, mode=mode, extra=extra)
    return load_config(path, env=KEYS_ENV if env is None else env)


def engine_row(*, heartbeat: datetime, clean_exit: bool = False, state: str = "IDLE",
               pid: int = 999_999, started_at: datetime | None = None) -> dict[str, Any]:
    return {"state": state, "mode": "paper", "dry_run": False, "pid": pid,
            "started_at": (started_at or heartbeat).isoformat(),
            "heartbeat": heartbeat.isoformat(), "clean_exit": clean_exit}


async def open_carry(store: Store, *, symbol: str = "BTC", base: str = "0.1",
                     direction: Direction = Direction.SHORT, price: str = "60000",
                     opened: datetime | None = None, changes: PositionChanges | None = None
                     ) -> PositionRecord:
    """An OPEN carry in the database (what the engine leaves after an open)."""
    ts = opened or datetime(2026, 1, 1, tzinfo=UTC)
    pos = await store.create_position(NewPosition(
        symbol=symbol, direction=direction, spot_inst_id=f"{symbol}-USDT",
        swap_inst_id=f"{symbol}-USDT-SWAP", leverage=D(2), open_timestamp=ts,
        position_amount=D(base), entry_spot_price=D(price), entry_swap_price=D(price),
        initial_funding_rate=D("0.0001"), swap_contracts=D(base) * 100,
        notional_usdt=D(base) * D(price), funding_interval_hours=8,
        borrow_ccy=symbol if direction is Direction.LONG else None))
    return await store.transition_position(pos.id, PositionStatus.OPEN, ts=ts, changes=changes)
