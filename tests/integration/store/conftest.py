"""Backends for the store tests: every test that takes ``db_config`` (or ``store``) runs on
SQLite (a tmp file) and on PostgreSQL at 127.0.0.1:5432 (user ``postgres``, trust auth).

PostgreSQL is tested for real by default: ``LAICAI_TEST_POSTGRES=0`` deselects those tests;
otherwise an unreachable server FAILS them (it does not skip them). One throwaway database
with a random name is created per run and dropped at the end; each test starts from an empty
schema in it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from laicai.config.sections import DatabaseConfig
from laicai.store import MigrationError, Store, database_url, open_store
from laicai.store.models import Base

T = TypeVar("T")

POSTGRES_ENV = "LAICAI_TEST_POSTGRES"
PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
START_HINT = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def postgres_wanted() -> bool:
    return os.environ.get(POSTGRES_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def _uses_postgres(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and callspec.params.get("backend") == "postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if postgres_wanted():
        return
    deselected = [item for item in items if _uses_postgres(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not _uses_postgres(item)]


def run_in_thread(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on its own loop in another thread: never touches the test's loop."""

    async def main() -> T:
        return await make()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def pg_config(dbname: str) -> DatabaseConfig:
    return DatabaseConfig(
        type="postgresql", host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=dbname
    )


async def pg_admin(*statements: str) -> None:
    engine = create_async_engine(database_url(pg_config("postgres")), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A throwaway database for this run; the run fails here if the server is unreachable."""
    name = f"laicai_test_{secrets.token_hex(6)}"
    problem = None
    try:
        run_in_thread(lambda: pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as e:
        problem = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
    if problem is not None:  # outside the except: no chained traceback in the report
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT} as user {PG_USER!r} "
            f"({problem}).\n"
            f"Start it with:  {START_HINT}\n"
            f"or run the store tests on SQLite only with {POSTGRES_ENV}=0.",
            pytrace=False,
        )
    yield name
    run_in_thread(lambda: pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def db_config(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> DatabaseConfig:
    """An empty database of the backend under test."""
    if backend == "sqlite":
        return DatabaseConfig(path=tmp_path / "data" / "laicai.db")
    cfg = pg_config(request.getfixturevalue("postgres_database"))
    await empty_pg_schema(cfg)
    return cfg


async def empty_pg_schema(cfg: DatabaseConfig) -> None:
    engine = create_async_engine(database_url(cfg), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per run; each test gets a copy (fast)."""
    path = tmp_path_factory.mktemp("template") / "laicai.db"

    async def migrate() -> None:
        await (await open_store(DatabaseConfig(path=path), None)).close()

    run_in_thread(migrate)
    return path


@pytest.fixture
async def store(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Store]:
    """A migrated store with every table empty."""
    if backend == "sqlite":
        path = tmp_path / "data" / "laicai.db"
        path.parent.mkdir()
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        opened = await open_store(DatabaseConfig(path=path), None)
    else:
        cfg = pg_config(request.getfixturevalue("postgres_database"))
        try:
            opened = await open_store(cfg, None)
        except MigrationError:  # a migration test left it at a revision from the future
            await empty_pg_schema(cfg)
            opened = await open_store(cfg, None)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        async with opened.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    async with opened:
        yield opened
