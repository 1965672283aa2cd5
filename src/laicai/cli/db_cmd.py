"""``laicai db``: create or upgrade the database schema, and show which revision it is at."""

from __future__ import annotations

import asyncio

import typer

from laicai.cli.common import ConfigOption, fail, load_or_exit, resolve_config_path, stdout
from laicai.config import Settings
from laicai.errors import ConfigError
from laicai.store.db import masked
from laicai.store.errors import StoreError
from laicai.store.migrate import current_revision, head_revision, upgrade
from laicai.store.store import connect

db_app = typer.Typer(
    name="db",
    help="The database (database.* in the config): create or upgrade its schema, show it.",
    no_args_is_help=True,
)


def _password(settings: Settings) -> str | None:
    secret = settings.secrets.db_password
    return None if secret is None else secret.get_secret_value()


async def _upgrade(settings: Settings) -> tuple[str, str | None, str | None]:
    engine, url = await connect(settings.database, _password(settings))
    try:
        before = await current_revision(engine)
        after = await upgrade(engine)
    finally:
        await engine.dispose()
    return masked(url), before, after


async def _current(settings: Settings) -> tuple[str, str | None]:
    engine, url = await connect(settings.database, _password(settings))
    try:
        revision = await current_revision(engine)
    finally:
        await engine.dispose()
    return masked(url), revision


@db_app.command("upgrade")
def upgrade_cmd(ctx: typer.Context, config: ConfigOption = None) -> None:
    """Create the schema in an empty database or migrate it to this laicai's newest revision
    (safe to repeat: an up-to-date database is left as it is)."""
    settings = load_or_exit(resolve_config_path(ctx, config))
    try:
        where, before, after = asyncio.run(_upgrade(settings))
    except (StoreError, ConfigError) as e:
        fail(str(e))
    if before == after:
        message = f"database {where} is up to date at revision {after}"
    else:
        message = f"database {where} upgraded: {before or 'empty'} -> {after}"
    stdout().print(message, soft_wrap=True)


@db_app.command("current")
def current_cmd(ctx: typer.Context, config: ConfigOption = None) -> None:
    """Show the database's schema revision and the newest this laicai knows."""
    settings = load_or_exit(resolve_config_path(ctx, config))
    try:
        where, revision = asyncio.run(_current(settings))
    except (StoreError, ConfigError) as e:
        fail(str(e))
    head = head_revision()
    lines = [f"database {where}: revision {revision or 'none (empty)'}; newest {head}"]
    if revision != head:
        lines.append("not up to date: run `laicai db upgrade` (laicai also does it at start-up)")
    stdout().print("\n".join(lines), soft_wrap=True)
