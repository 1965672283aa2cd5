"""Order-book channels of the simulator's WebSocket: ``books`` / ``books-l2-tbt`` /
``books50-l2-tbt`` (snapshot, then incremental updates chained by ``seqId``/``prevSeqId``),
``books5`` and ``bbo-tbt`` (a full top-of-book snapshot on every change).

One :class:`BookFeed` per instrument is shared by every connection, so all subscribers see
the same sequence ids (as on OKX). The update path is built to be cheap: a book change is
detected from the book's own sequence number, only the part of each side that differs from
what was last published is compared (a taker order touches the top levels, a rebuild shifts
everything), numbers are formatted without Decimal's slow paths, and each push is rendered
once as text and shared by all of its subscribers.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from laicai.sim.book import L2Book
from laicai.sim.server.views import s

Level = list[Decimal]
Side = list[Level]

# channel -> (kind, depth): "inc" streams send a snapshot then diffs, "top" ones full snapshots
BOOK_CHANNELS: dict[str, tuple[str, int]] = {
    "books": ("inc", 400),
    "books-l2-tbt": ("inc", 400),
    "books50-l2-tbt": ("inc", 50),
    "books5": ("top", 5),
    "bbo-tbt": ("top", 1),
}

def num(x: Decimal) -> str:
    """OKX's number string for a book price or size (same output as ``views.s``, about four
    times faster for the plain decimals a book holds)."""
    t = str(x)
    if "E" in t or len(t) > 20:  # exponent form or many decimals: the careful way
        return s(x)
    if t[-1] == "0" and "." in t:
        t = t.rstrip("0").rstrip(".") or "0"
    return t


def render_levels(side: Side) -> str:
    """``["px","sz","0","1"],...`` for every level of ``side``."""
    return ",".join(['["' + num(px) + '","' + num(sz) + '","0","1"]' for px, sz in side])


def _level(p: str, sz: Decimal) -> str:
    return '["' + p + '","' + num(sz) + '","0","1"]'


def _common_suffix(old: Side, new: Side, limit: int) -> int:
    """Length of the longest common tail of ``old`` and ``new`` (at most ``limit``).

    Tries the shapes book changes usually have first (a rebuild shares nothing; a taker
    order leaves everything below the top level alone), each a single C-level compare,
    and binary-searches otherwise (a matching tail of length L implies one of L - 1).
    """
    if limit <= 0 or old[-1] != new[-1]:
        return 0
    no, nn = len(old), len(new)
    if old[no - limit:] == new[nn - limit:]:
        return limit
    if limit > 1 and old[no - limit + 1:] == new[nn - limit + 1:]:
        return limit - 1
    lo, hi = 1, limit - 2  # the tail of length 1 matches
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[no - mid:] == new[nn - mid:]:
            lo = mid
        else:
            hi = mid - 1
    return lo


class SideState:
    """One side of a book as last published: private copies of its levels (compared with the
    live book's level lists in C) and, in parallel, each level's price string (so deletes
    and size changes need no formatting, and levels are matched by string, whose hash is
    cached, not by Decimal, whose hash is slow)."""

    __slots__ = ("levels", "pxs")

    def __init__(self, side: Side) -> None:
        self.levels: Side = [[px, sz] for px, sz in side]
        self.pxs: list[str] = [num(px) for px, _ in side]

    def render(self) -> str:
        return ",".join([_level(p, lv[1]) for p, lv in zip(self.pxs, self.levels,
                                                             strict=True)])

    def update(self, new: Side) -> list[str]:
        """Become ``new``; returns the rendered changes (a level of size "0" is a delete)."""
        old = self.levels
        if old == new:
            return []
        no, nn = len(old), len(new)
        m = min(no, nn)
        i = 0
        while i < m and old[i] == new[i]:
            i += 1
        tail = _common_suffix(old, new, m - i) if m - i > 0 else 0
        eo, en = no - tail, nn - tail
        new_mid = new[i:en]
        mid_pxs = [num(px) for px, _ in new_mid]
        if eo > i:
            prev = dict(zip(self.pxs[i:eo], old[i:eo], strict=True))
            pop = prev.pop
            out = [_level(p, lv[1]) for p, lv in zip(mid_pxs, new_mid, strict=True)
                   if (o := pop(p, None)) is None or o[1] != lv[1]]
            out.extend(['["' + p + '","0","0","0"]' for p in prev])
        else:
            out = [_level(p, lv[1]) for p, lv in zip(mid_pxs, new_mid, strict=True)]
        levels = old[:i]
        levels.extend([[px, sz] for px, sz in new_mid])
        pxs = self.pxs[:i]
        pxs.extend(mid_pxs)
        if tail:
            levels.extend(old[eo:])
            pxs.extend(self.pxs[eo:])
        self.levels, self.pxs = levels, pxs
        return out


def _copy(side: Side) -> Side:
    return [[px, sz] for px, sz in side]


class IncState:
    """What one incremental stream (one depth) last published."""

    __slots__ = ("asks", "bids", "seq")

    def __init__(self, asks: Side, bids: Side, seq: int) -> None:
        self.asks = SideState(asks)
        self.bids = SideState(bids)
        self.seq = seq


class TopState:
    __slots__ = ("asks", "bids")

    def __init__(self, asks: Side, bids: Side) -> None:
        self.asks = asks
        self.bids = bids


class BookFeed:
    """The order-book channels of one instrument.

    ``subs`` maps a channel name to its subscribers (any hashable connection object);
    :meth:`refresh` turns a book change into ``(channel, text)`` pushes for them.
    """

    def __init__(self, inst_id: str) -> None:
        self.inst_id = inst_id
        self.subs: dict[str, dict[Any, None]] = {}
        self.key: tuple[int, int, int, int, int] | None = None
        self.seq = -1  # seqId of the current state
        self.ts = 0
        self.inc: dict[int, IncState] = {}
        self.top: dict[int, TopState] = {}
        inst = json.dumps(inst_id)
        self._arg = {ch: '{"arg":{"channel":"' + ch + '","instId":' + inst + "}"
                     for ch in BOOK_CHANNELS}
        self._inst_json = inst

    # ------------------------------------------------------------------ subscribers
    def add(self, channel: str, conn: Any) -> None:
        self.subs.setdefault(channel, {})[conn] = None

    def remove(self, channel: str, conn: Any) -> None:
        subs = self.subs.get(channel)
        if subs is None:
            return
        subs.pop(conn, None)
        if subs:
            return
        del self.subs[channel]
        kind, depth = BOOK_CHANNELS[channel]
        if not any(BOOK_CHANNELS[c] == (kind, depth) for c in self.subs):
            (self.inc if kind == "inc" else self.top).pop(depth, None)

    # ------------------------------------------------------------------ pushes
    def _advance(self, book: L2Book, now_ms: int) -> bool:
        """Note the book's current state; False when it has not changed since last time."""
        key = (id(book), book.seq_id, book.built_ms, len(book.bids), len(book.asks))
        if key == self.key:
            return False
        self.key = key
        self.seq = book.seq_id if book.seq_id > self.seq else self.seq + 1
        self.ts = max(book.ts_ms, now_ms)
        return True

    def refresh(self, book: L2Book, now_ms: int) -> list[tuple[str, str, bool]]:
        """Pushes for what changed since the last refresh: ``(channel, text, is_update)``."""
        if not self._advance(book, now_ms):
            return []
        out: list[tuple[str, str, bool]] = []
        ts = str(self.ts)
        seq = str(self.seq)
        for depth, st in self.inc.items():
            da = st.asks.update(book.asks[:depth])
            db = st.bids.update(book.bids[:depth])
            if not da and not db:
                continue
            body = (',"action":"update","data":[{"asks":[' + ",".join(da)
                    + '],"bids":[' + ",".join(db) + '],"ts":"' + ts
                    + '","checksum":0,"prevSeqId":' + str(st.seq) + ',"seqId":' + seq
                    + "}]}")
            st.seq = self.seq
            for ch in self.subs:
                if BOOK_CHANNELS[ch] == ("inc", depth):
                    out.append((ch, self._arg[ch] + body, True))
        for depth, tp in self.top.items():
            na = book.asks[:depth]
            nb = book.bids[:depth]
            if na == tp.asks and nb == tp.bids:
                continue
            tp.asks, tp.bids = _copy(na), _copy(nb)
            for ch in self.subs:
                if BOOK_CHANNELS[ch] == ("top", depth):
                    out.append((ch, self._top_text(ch, tp), True))
        return out

    def start(self, channel: str, book: L2Book) -> str:
        """The first push for a new subscriber of ``channel``: an incremental stream's
        snapshot (consistent with the updates that follow) or the current top of book.
        Call :meth:`refresh` (and send what it returns) first, so that the shared state
        is the book's current one."""
        kind, depth = BOOK_CHANNELS[channel]
        if kind == "inc":
            st = self.inc.get(depth)
            if st is None:
                st = self.inc[depth] = IncState(book.asks[:depth], book.bids[:depth],
                                                self.seq)
            return (self._arg[channel] + ',"action":"snapshot","data":[{"asks":['
                    + st.asks.render() + '],"bids":[' + st.bids.render()
                    + '],"ts":"' + str(self.ts) + '","checksum":0,"prevSeqId":-1,"seqId":'
                    + str(st.seq) + "}]}")
        tp = self.top.get(depth)
        if tp is None:
            tp = self.top[depth] = TopState(_copy(book.asks[:depth]),
                                            _copy(book.bids[:depth]))
        return self._top_text(channel, tp)

    def _top_text(self, channel: str, tp: TopState) -> str:
        inst = ',"instId":' + self._inst_json if channel == "books5" else ""
        return (self._arg[channel] + ',"data":[{"asks":[' + render_levels(tp.asks)
                + '],"bids":[' + render_levels(tp.bids) + "]" + inst + ',"ts":"'
                + str(self.ts) + '","seqId":' + str(self.seq) + "}]}")
