"""Logging for every laicai process: rich console on stderr, a rotating file (plain text or JSON
lines) and a filter that replaces every configured secret with ``***`` before a record is
written anywhere."""

from __future__ import annotations

import json
import logging
import logging.handlers
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote

from pydantic import SecretStr
from rich.console import Console
from rich.logging import RichHandler

from laicai.config.sections import LoggingConfig

REDACTED = "***"
_TEXT_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"

# Handlers installed by the last setup_logging call, removed by the next one.
_installed: list[logging.Handler] = []


class SecretRedactingFilter(logging.Filter):
    """Replaces each secret (and its URL-encoded form) in the message and traceback text.

    Attach it to handlers, not loggers: a logger's filters do not see records propagated from
    its children, a handler's do.
    """

    def __init__(self, secrets: Iterable[str | SecretStr]) -> None:
        super().__init__()
        plain = {s.get_secret_value() if isinstance(s, SecretStr) else s for s in secrets}
        variants = {v for s in plain if s for v in (s, quote(s, safe=""))}
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = sorted(variants, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC, ISO 8601), level, logger, msg and exc if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(
    config: LoggingConfig,
    *,
    secrets: Iterable[str | SecretStr] = (),
    console: bool = True,
) -> None:
    """Install laicai's handlers on the root logger, replacing those of an earlier call.

    The file's parent directories are created. Rich tracebacks are off on purpose: they render
    from the live exception (and can show locals), which would bypass the redaction.
    """
    teardown_logging()
    root = logging.getLogger()
    redactor = SecretRedactingFilter(secrets)
    handlers: list[logging.Handler] = []
    if console:
        rich_handler = RichHandler(
            console=Console(stderr=True),
            show_path=False,
            markup=False,
            rich_tracebacks=False,
        )
        rich_handler.setFormatter(logging.Formatter("%(message)s"))
        handlers.append(rich_handler)
    if config.file is not None:
        config.file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            config.file,
            maxBytes=config.max_bytes,
            backupCount=config.backups,
            encoding="utf-8",
        )
        file_handler.setFormatter(
            JsonLinesFormatter() if config.json_lines else logging.Formatter(_TEXT_FORMAT)
        )
        handlers.append(file_handler)
    for handler in handlers:
        handler.addFilter(redactor)
        root.addHandler(handler)
        _installed.append(handler)
    root.setLevel(config.level)
    # migrations narrate every step at INFO; an operator needs only their outcome (logged by
    # laicai.store) unless debugging
    for noisy in ("alembic", "httpx", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if config.level == "DEBUG"
                                          else logging.WARNING)
    logging.captureWarnings(True)


def teardown_logging() -> None:
    """Remove and close the handlers installed by :func:`setup_logging` (flushes the file)."""
    root = logging.getLogger()
    for handler in _installed:
        root.removeHandler(handler)
        handler.close()
    _installed.clear()
