"""Opening a store: URLs from the config, the password never shown, SQLite's settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from laicai.config.sections import DatabaseConfig
from laicai.store import Store, StoreUnavailable, database_url, masked, open_store

SECRET = "p@ss:w/rd%with-specials"


def test_urls_from_the_separate_keys_and_from_url() -> None:
    pg = DatabaseConfig(type="postgresql", host="db.internal", port=5433, user="bot", dbname="lc")
    url = database_url(pg, SECRET)
    assert url.drivername == "postgresql+asyncpg"
    assert url.password == SECRET
    assert masked(url) == "postgresql+asyncpg://bot:***@db.internal:5433/lc"
    assert SECRET not in repr(url) and SECRET not in str(url)

    from_url = database_url(DatabaseConfig(url="postgresql://bot@db.internal/lc"), SECRET)
    assert masked(from_url) == "postgresql+asyncpg://bot:***@db.internal/lc"
    assert database_url(DatabaseConfig(url="sqlite:///data/x.db")).drivername == "sqlite+aiosqlite"

    sqlite = database_url(DatabaseConfig(path=Path("data/laicai.db")), SECRET)
    assert sqlite.password is None  # SQLite has no password to carry
    assert masked(sqlite) == "sqlite+aiosqlite:///data/laicai.db"


async def test_an_unreachable_server_raises_without_the_password() -> None:
    cfg = DatabaseConfig(type="postgresql", host="127.0.0.1", port=1, user="bot", dbname="x")
    with pytest.raises(StoreUnavailable) as caught:
        await open_store(cfg, SECRET)
    message = str(caught.value)
    assert "postgresql+asyncpg://bot:***@127.0.0.1:1/x" in message
    assert SECRET not in message and "w/rd" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


async def test_sqlite_gets_its_folder_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "laicai.db"
    async with await open_store(DatabaseConfig(path=path), None) as store:
        assert isinstance(store, Store) and path.is_file()
        async with store.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert repr(store) == f"Store(sqlite+aiosqlite:///{path})"
