"""Errors of the store, in the project's one hierarchy (:mod:`laicai.errors`).

Driver and SQLAlchemy exceptions are translated here, at the edge, with ``raise ... from e``.
No message carries a database password: URLs are always rendered masked.
"""

from __future__ import annotations

from laicai.errors import InvariantViolation, LaicaiError


class StoreError(LaicaiError):
    """The database could not do what was asked."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or opened (server down, bad path, authentication)."""


class MigrationError(StoreError):
    """The schema cannot be brought to the code's revision (e.g. the database is newer)."""


class ConstraintViolation(StoreError):
    """A write broke a CHECK, UNIQUE or FOREIGN KEY constraint of the schema."""


class NotFound(StoreError):
    """The row asked for does not exist."""


class IllegalTransition(InvariantViolation):
    """A position or journal intent was asked to move to a state it cannot reach from its own."""


class ConflictingDuplicate(InvariantViolation):
    """An exchange bill or trade id arrived twice with different contents: corrupt data."""
