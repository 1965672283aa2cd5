"""``Store``: the SQL repository plus its engine's life cycle, and :func:`open_store`, which
connects, upgrades the schema to head and hands the store over.

Use it as an async context manager (or call :meth:`Store.close`)::

    async with await open_store(settings.database, password) as store:
        await store.create_position(...)
"""

from __future__ import annotations

import logging
from types import TracebackType

from pydantic import SecretStr
from sqlalchemy import URL, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from laicai.config.sections import DatabaseConfig
from laicai.store import migrate
from laicai.store.db import database_url, make_engine, masked
from laicai.store.errors import MigrationError, StoreUnavailable
from laicai.store.repository import Repository
from laicai.store.sql.misc import MiscMixin
from laicai.store.sql.positions import PositionsMixin
from laicai.store.sql.trading import TradingMixin

log = logging.getLogger(__name__)


class Store(PositionsMixin, TradingMixin, MiscMixin):
    """The SQLAlchemy implementation of :class:`laicai.store.repository.Repository`."""

    def __init__(self, engine: AsyncEngine, url: URL) -> None:
        super().__init__(engine)
        self.url = url

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def masked_url(self) -> str:
        return masked(self.url)

    def __repr__(self) -> str:
        return f"Store({self.masked_url})"

    async def close(self) -> None:
        await self._engine.dispose()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def _redacted(message: str, password: str | SecretStr | None) -> str:
    plain = password.get_secret_value() if isinstance(password, SecretStr) else password
    return message.replace(plain, "***") if plain else message


async def connect(cfg: DatabaseConfig, password: str | SecretStr | None) -> tuple[AsyncEngine, URL]:
    """An engine that has answered ``SELECT 1``; ``StoreUnavailable`` (password-free) if not."""
    url = database_url(cfg, password)
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (DBAPIError, OSError) as e:
        await engine.dispose()
        detail = str(e.orig) if isinstance(e, DBAPIError) else str(e)
        first_line = detail.strip().splitlines()[0] if detail.strip() else type(e).__name__
        raise StoreUnavailable(
            f"cannot open the database {masked(url)}: {_redacted(first_line, password)}"
        ) from None
    return engine, url


async def open_store(
    cfg: DatabaseConfig, password: str | SecretStr | None, *, upgrade: bool = True
) -> Store:
    """Connect to the configured database and return a ready :class:`Store`.

    With ``upgrade`` (the default, at every start-up) the schema is migrated to head first;
    without it, a database not at head is refused with a :class:`MigrationError` that says to
    run ``laicai db upgrade``.
    """
    engine, url = await connect(cfg, password)
    try:
        if upgrade:
            revision = await migrate.upgrade(engine)
        else:
            revision = await migrate.current_revision(engine)
            head = migrate.head_revision()
            if revision != head:
                raise MigrationError(
                    f"the database {masked(url)} is at revision {revision or 'none (empty)'}, "
                    f"this laicai needs {head}: run `laicai db upgrade`"
                )
    except BaseException:
        await engine.dispose()
        raise
    log.info("database %s ready at revision %s", masked(url), revision)
    return Store(engine, url)


def _implements_the_protocol(store: Store) -> Repository:
    return store  # mypy checks here that Store has every method of Repository
