"""Coalescing of repeated alerts: the first message with a key goes out at once; repeats with
the same key within the window are held back and summarised when the window closes, as the
latest of them marked ``×N``. While repeats keep coming, one summary per window goes out.

Pure bookkeeping over an explicit ``now`` (seconds on any monotonic clock): the service
schedules :meth:`Coalescer.close` when a window opened by :meth:`Coalescer.offer` ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from laicai.notify.message import Message


@dataclass(slots=True)
class _Window:
    ends_at: float
    latest: Message
    held: int = 0


class Coalescer:
    def __init__(self, window_s: float, windows_by_kind: Mapping[str, float] | None = None):
        self.window_s = window_s
        self.windows_by_kind = dict(windows_by_kind or {})
        self._open: dict[str, _Window] = {}

    def window_for(self, message: Message) -> float:
        return self.windows_by_kind.get(message.kind, self.window_s)

    def offer(self, message: Message, now: float) -> tuple[Message | None, float | None]:
        """(what to send now or ``None`` if held back, when a newly opened window ends).

        A message without a key, or with a zero window, passes straight through."""
        window = self.window_for(message)
        if message.key is None or window <= 0:
            return message, None
        current = self._open.get(message.key)
        if current is not None and now < current.ends_at:
            current.held += 1
            current.latest = message
            return None, None
        ends_at = now + window
        self._open[message.key] = _Window(ends_at, message)
        return message, ends_at

    def close(self, key: str, now: float) -> tuple[Message | None, float | None]:
        """Close ``key``'s window if it has ended: (summary of what it held back, when the
        follow-up window ends). A window that held nothing closes for good."""
        current = self._open.get(key)
        if current is None or now < current.ends_at:
            return None, None
        if current.held == 0:
            del self._open[key]
            return None, None
        summary = current.latest.repeated(current.held)
        ends_at = now + self.window_for(current.latest)
        self._open[key] = _Window(ends_at, current.latest)
        return summary, ends_at

    def close_all(self) -> list[Message]:
        """Summaries of every window holding something back (at shutdown)."""
        out = [w.latest.repeated(w.held) for w in self._open.values() if w.held]
        self._open.clear()
        return out

    def held(self, key: str) -> int:
        w = self._open.get(key)
        return w.held if w else 0
