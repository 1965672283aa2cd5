"""Alembic migrations on an empty database, repeated, against the models, and refusals."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from laicai.config.sections import DatabaseConfig
from laicai.store import MigrationError, open_store
from laicai.store.db import database_url, make_engine
from laicai.store.migrate import alembic_config, current_revision, head_revision, upgrade
from laicai.store.models import Base

TABLES = {
    "positions",
    "orders",
    "fills",
    "funding_payments",
    "earn_events",
    "borrow_events",
    "journal",
    "equity_snapshots",
    "events",
    "scan_runs",
    "scan_results",
    "bot_state",
}


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _diff(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _downgrade_to_base(conn: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.downgrade(cfg, "base")


async def test_upgrade_creates_every_table_then_is_a_no_op(db_config: DatabaseConfig) -> None:
    engine = make_engine(database_url(db_config))
    try:
        assert await current_revision(engine) is None
        assert await upgrade(engine) == head_revision()
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == TABLES | {"alembic_version"}
        # Idempotent: again through the function and through open_store.
        assert await upgrade(engine) == head_revision()
        async with await open_store(db_config, None) as store:
            assert store.masked_url
        assert await current_revision(engine) == head_revision()
        async with engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        assert versions == [(head_revision(),)]
    finally:
        await engine.dispose()


async def test_migrated_schema_is_exactly_the_models(db_config: DatabaseConfig) -> None:
    engine = make_engine(database_url(db_config))
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_downgrade_to_base_and_up_again(db_config: DatabaseConfig) -> None:
    engine = make_engine(database_url(db_config))
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.run_sync(_downgrade_to_base)
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) <= {"alembic_version"}
        assert await current_revision(engine) is None
        assert await upgrade(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_without_upgrade_an_empty_database_is_refused(db_config: DatabaseConfig) -> None:
    with pytest.raises(MigrationError, match="laicai db upgrade"):
        await open_store(db_config, None, upgrade=False)
    async with await open_store(db_config, None) as store:
        assert store.engine is not None
    async with await open_store(db_config, None, upgrade=False) as store:
        assert store.engine is not None


async def test_a_database_from_a_newer_laicai_is_refused(db_config: DatabaseConfig) -> None:
    engine = make_engine(database_url(db_config))
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
        with pytest.raises(MigrationError, match="newer laicai"):
            await upgrade(engine)
    finally:
        await engine.dispose()
