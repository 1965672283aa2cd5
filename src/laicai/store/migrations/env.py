"""Alembic environment: runs on the connection that :mod:`laicai.store.migrate` hands over
(``config.attributes["connection"]``); SQLite in batch mode, so ALTERs work there too.

Types are rendered as plain SQLAlchemy types, so a revision never imports laicai's code and
keeps meaning what it meant when it was written.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import JSON, Connection

from laicai.store.models import Base
from laicai.store.types import Amount, EnumText, UtcDateTime

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    if type_ != "type":
        return False
    if isinstance(obj, Amount):
        return f'sa.Numeric({obj.precision}, {obj.scale}).with_variant(sa.Text(), "sqlite")'
    if isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, EnumText):
        return "sa.Text()"
    if isinstance(obj, JSON):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
    return False


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "laicai's migrations run through `laicai db upgrade` or laicai.store.migrate, "
        "which pass a connection; plain `alembic` with an ini file is not supported"
    )
run_on(connection)
