"""Persistence: SQLAlchemy 2 models, one repository, Alembic migrations; SQLite or PostgreSQL."""
