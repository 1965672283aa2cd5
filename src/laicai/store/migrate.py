"""Alembic, driven from code: the migrations ship inside the package (``migrations/``), and
:func:`upgrade` runs them on an async engine's connection (no ``alembic.ini`` needed).

A developer who changed the models writes the next revision with::

    uv run python -m laicai.store.migrate revision "what changed"

which upgrades a scratch SQLite database to head and autogenerates the difference; review the
file it writes under ``migrations/versions/`` (SQLite runs it in batch mode) before committing.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from laicai.store.db import database_url, make_engine
from laicai.store.errors import MigrationError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The newest revision this version of laicai knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its revisions
        raise MigrationError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at; ``None`` for an empty database."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> str | None:
    """Bring the schema to ``revision`` (default: head); a no-op when it is there already.

    Returns the revision the database is at afterwards.
    """
    current = await current_revision(engine)
    script = ScriptDirectory.from_config(alembic_config())
    if revision == "head" and current is not None and current == script.get_current_head():
        return current
    known = {s.revision for s in script.walk_revisions()}
    if current is not None and current not in known:
        raise MigrationError(
            f"the database is at revision {current!r}, which this version of laicai does not "
            f"know (its newest is {head_revision()!r}): it was migrated by a newer laicai; "
            "run that version, or restore a backup"
        )
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, revision)
    except CommandError as e:
        raise MigrationError(f"cannot upgrade the database to {revision!r}: {e}") from e
    except DBAPIError as e:
        detail = str(e.orig).strip().splitlines()[0] if str(e.orig).strip() else type(e).__name__
        raise MigrationError(f"upgrading the database to {revision!r} failed: {detail}") from e
    return await current_revision(engine)


def _autogenerate(connection: Connection, message: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.revision(cfg, message=message, autogenerate=True)


async def make_revision(message: str) -> None:
    """Autogenerate the next revision against a scratch SQLite database at head."""
    from laicai.config.sections import DatabaseConfig

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(database_url(DatabaseConfig(path=Path(tmp) / "scratch.db")))
        try:
            await upgrade(engine)
            async with engine.begin() as conn:
                await conn.run_sync(_autogenerate, message)
        finally:
            await engine.dispose()


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "revision":
        print('usage: python -m laicai.store.migrate revision "message"', file=sys.stderr)
        return 2
    asyncio.run(make_revision(argv[1]))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
