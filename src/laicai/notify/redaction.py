"""The last filter before any text leaves the process: every configured secret (and its
URL-encoded form, as the log filter does) becomes ``***``, and so does anything shaped like a
Telegram bot token or a webhook ``access_token`` even when it is not configured here."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import SecretStr

from laicai.config.secrets import Secrets
from laicai.logging_setup import REDACTED, SecretRedactingFilter

_SHAPES = (
    # Telegram bot token: <bot id>:<35 url-safe characters>
    (re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}"), REDACTED),
    # ...and as it appears inside a Bot API URL
    (re.compile(r"(/bot)[^/\s]{20,}"), r"\1" + REDACTED),
    # a webhook's query parameters
    (re.compile(r"((?:access_token|sign)=)[^&\s]+", re.IGNORECASE), r"\1" + REDACTED),
)


class Redactor:
    """``redact(text)`` with the project's secrets; callable, cheap, safe to share."""

    def __init__(self, secrets: Iterable[str | SecretStr] = ()) -> None:
        self._filter = SecretRedactingFilter(secrets)

    @classmethod
    def from_secrets(cls, secrets: Secrets) -> Redactor:
        return cls(secrets.plain_values())

    def __call__(self, text: str) -> str:
        text = self._filter.redact(text)
        for pattern, replacement in _SHAPES:
            text = pattern.sub(replacement, text)
        return text
