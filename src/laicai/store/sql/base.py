"""What every part of the SQL repository shares: one transaction per call with errors
translated, the dialect's INSERT ... ON CONFLICT, and row <-> record conversion."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from laicai.store.errors import (
    ConflictingDuplicate,
    ConstraintViolation,
    StoreError,
    StoreUnavailable,
)
from laicai.store.models import Base
from laicai.store.types import Amount, quantize_amount

R = TypeVar("R")


def reason(error: StatementError) -> str:
    """The driver's own words for an error, first line only, without the SQL or parameters."""
    orig = error.orig if error.orig is not None else error
    text = str(orig).strip() or type(orig).__name__
    return text.splitlines()[0]


def to_record(cls: type[R], row: Any) -> R:
    """A record dataclass filled from the same-named attributes of an ORM row."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    return cls(**{name: getattr(row, name) for name in names})


def set_fields(obj: Any) -> dict[str, Any]:
    """The fields of a record dataclass that are not ``None``."""
    return {
        f.name: value
        for f in dataclasses.fields(obj)
        if (value := getattr(obj, f.name)) is not None
    }


class SqlBase:
    """Holds the engine and the session factory; each public method is one transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction, committed on success; SQLAlchemy errors translated."""
        try:
            async with self._sessions.begin() as session:
                yield session
        except (IntegrityError, DataError) as e:
            raise ConstraintViolation(reason(e)) from e
        except DBAPIError as e:
            if e.connection_invalidated:
                raise StoreUnavailable(f"lost the database connection: {reason(e)}") from e
            raise StoreError(reason(e)) from e
        except StatementError as e:
            if isinstance(e.orig, ValueError):  # e.g. an amount that does not fit its column
                raise ConstraintViolation(reason(e)) from e
            raise StoreError(reason(e)) from e
        except OSError as e:
            raise StoreUnavailable(f"lost the database connection: {e}") from e

    def _insert(self, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
        if self._dialect == "postgresql":
            return postgresql.insert(model)
        return sqlite.insert(model)

    async def _insert_once(
        self,
        session: AsyncSession,
        model: type[Base],
        values: Mapping[str, Any],
        key: Sequence[str],
        compared: Sequence[str],
    ) -> bool:
        """INSERT unless a row with the same ``key`` exists. ``True`` if inserted; ``False``
        if an identical row (on ``compared``) was there; ``ConflictingDuplicate`` otherwise."""
        table = Base.metadata.tables[model.__tablename__]
        stmt = (
            self._insert(model)
            .values(**values)
            .on_conflict_do_nothing(index_elements=list(key))
            .returning(table.c.id)
        )
        if (await session.execute(stmt)).scalar_one_or_none() is not None:
            return True
        where = [table.c[k] == values[k] for k in key]
        existing = (await session.execute(select(table).where(*where))).mappings().one()
        differing = []
        for name in compared:
            new, old = values.get(name), existing[name]
            column_type = table.c[name].type
            if isinstance(column_type, Amount) and new is not None:
                new = quantize_amount(new, column_type.precision, column_type.scale)
            if new != old:
                differing.append(f"{name}: stored {old!s}, now {new!s}")
        if differing:
            ident = ", ".join(f"{k}={values[k]!r}" for k in key)
            raise ConflictingDuplicate(
                f"{model.__tablename__} {ident} arrived again with different contents "
                f"({'; '.join(differing)})"
            )
        return False
