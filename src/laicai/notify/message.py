"""The one value every notifier sends: a :class:`Message` with a level, a title and body lines.

Messages are plain text (no Markdown or HTML), so nothing a venue or an operator typed can
break the formatting of a Telegram or DingTalk message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import IntEnum
from typing import Literal

Lang = Literal["zh", "en"]
"""The languages messages are written in; ``zh`` is the default, as in the seeds."""

LANGUAGES: tuple[Lang, ...] = ("zh", "en")


class Level(IntEnum):
    """How urgent a message is; ordered, so ``level >= Level.WARN`` reads naturally."""

    INFO = 10
    WARN = 20
    ERROR = 30

    @property
    def icon(self) -> str:
        return _ICONS[self]

    @classmethod
    def parse(cls, name: str, default: Level | None = None) -> Level:
        """``"INFO"``/``"WARN"``/``"WARNING"``/``"ERROR"`` (any case) -> a level; unknown names
        give ``default`` (WARN when not given: an alert of unknown weight is not routine)."""
        key = name.strip().upper()
        if key == "WARNING":
            key = "WARN"
        try:
            return cls[key]
        except KeyError:
            return default if default is not None else cls.WARN


_ICONS = {Level.INFO: "✅", Level.WARN: "⚠️", Level.ERROR: "🚨"}

RULE = "━━━━━━━━━━━━"
"""The bar that frames a highlighted message (a reset: the seed's main risk)."""


@dataclass(frozen=True, slots=True)
class Message:
    """One notification.

    ``kind`` names what happened (``open``, ``reset``, ``naked`` ...: the policy mutes or routes
    by it); ``key`` is the coalescing key: messages with the same key within the service's
    window are sent once, then summarised as one message with ``count`` (shown as ``×N``).
    ``None`` never coalesces. ``highlight`` frames the title with rules.
    """

    level: Level
    title: str
    lines: tuple[str, ...] = ()
    kind: str = "note"
    position_id: int | None = None
    key: str | None = None
    count: int = 1
    highlight: bool = False
    ts: datetime | None = field(default=None, compare=False)

    @property
    def headline(self) -> str:
        suffix = f" ×{self.count}" if self.count > 1 else ""
        return f"{self.level.icon} {self.title}{suffix}"

    def render(self) -> str:
        """The text a person reads: icon, title (``×N`` when coalesced), then the body lines."""
        head = [RULE, self.headline, RULE] if self.highlight else [self.headline]
        return "\n".join([*head, *self.lines])

    def redacted(self, redact: Callable[[str], str]) -> Message:
        """The same message with ``redact`` applied to the title and every line."""
        return replace(self, title=redact(self.title), lines=tuple(redact(x) for x in self.lines))

    def repeated(self, count: int, note: str | None = None) -> Message:
        """This message standing for ``count`` occurrences, with ``note`` (if any) saying so."""
        lines = (*self.lines, note) if note else self.lines
        return replace(self, count=count, lines=lines)
