"""Engine and URL: which database, reached with which async driver, shown with a masked password.

``database.url`` (``sqlite:///path`` or ``postgresql://user@host:port/dbname``, never with a
password) or the separate keys (``type``, ``path`` | ``host``/``port``/``user``/``dbname``) name
the database; the password comes from ``LAICAI_DB_PASSWORD`` (``Settings.secrets.db_password``).
The driver is always the async one: aiosqlite for SQLite, asyncpg for PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import URL, event, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from laicai.config.sections import DatabaseConfig
from laicai.errors import ConfigError

ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
SQLITE_BUSY_TIMEOUT_MS = 5_000


def _plain(password: str | SecretStr | None) -> str | None:
    if isinstance(password, SecretStr):
        password = password.get_secret_value()
    return password or None


def database_url(cfg: DatabaseConfig, password: str | SecretStr | None = None) -> URL:
    """The async SQLAlchemy URL of the configured database (the password only for PostgreSQL).

    Render it with :func:`masked`, never with ``str()`` of a hand-built string.
    """
    if cfg.url is not None:
        try:
            url = make_url(cfg.url)
        except ArgumentError as e:
            raise ConfigError(f"database.url is not a valid database URL: {e}") from None
        backend = url.get_backend_name()
        if backend not in ASYNC_DRIVERS:
            raise ConfigError(f"database.url must be sqlite or postgresql, not {backend!r}")
        url = url.set(drivername=ASYNC_DRIVERS[backend])
    elif cfg.type == "sqlite":
        url = URL.create(ASYNC_DRIVERS["sqlite"], database=str(cfg.path))
    else:
        url = URL.create(
            ASYNC_DRIVERS["postgresql"],
            username=cfg.user,
            host=cfg.host,
            port=cfg.port,
            database=cfg.dbname,
        )
    plain = _plain(password)
    if plain is not None and url.get_backend_name() == "postgresql":
        url = url.set(password=plain)
    return url


def masked(url: URL) -> str:
    """The URL as text with its password (if any) replaced by ``***``."""
    return url.render_as_string(hide_password=True)


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL; ``None`` for an in-memory or URI-style database."""
    database = url.database
    if not is_sqlite(url) or not database or database == ":memory:":
        return None
    if database.startswith("file:") or url.query.get("uri"):
        return None
    return Path(database)


def dumps_json(value: Any) -> str:
    """JSON for the JSON columns: Decimals become exact strings, datetimes ISO 8601."""
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def make_engine(url: URL, *, echo: bool = False) -> AsyncEngine:
    """An async engine; for SQLite the file's folder is created, and every connection runs
    with foreign keys on, WAL journaling and a busy timeout."""
    kwargs: dict[str, Any] = {"echo": echo, "json_serializer": dumps_json}
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    if not is_sqlite(url):
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine
