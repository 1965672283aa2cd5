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
Change = tuple[Decimal, Decimal]  # (price, new size); size 0 deletes the level

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
    if "E" in t:
        return s(x)
    if t[-1] == "0" and "." in t:
        t = t.rstrip("0").rstrip(".") or "0"
    return t


def render_levels(side: Side) -> str:
    """``["px","sz","0","1"],...`` for every level of ``side``."""
    return ",".join(['["' + num(px) + '","' + num(sz) + '","0","1"]' for px, sz in side])


def render_changes(changes: list[Change]) -> str:
    return ",".join(['["' + num(px) + '","' + num(sz) + '","0","1"]' if sz
                     else '["' + num(px) + '","0","0","0"]' for px, sz in changes])


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


def diff_side(old: Side, new: Side, asc: bool) -> tuple[list[Change], Side]:
    """What changed from ``old`` to ``new`` (one side, best first: prices ascending for asks,
    descending for bids), and a private copy of ``new`` to diff against next time (reusing
    ``old``'s copies for the unchanged levels)."""
    if old == new:
        return [], old
    no, nn = len(old), len(new)
    m = min(no, nn)
    i = 0
    while i < m and old[i] == new[i]:
        i += 1
    tail = _common_suffix(old, new, m - i) if m - i > 0 else 0
    eo, en = no - tail, nn - tail
    # merge the differing middles by price (no hashing: Decimal hashes are slow)
    changes: list[Change] = []
    add = changes.append
    zero = Decimal(0)
    a, b = i, i
    while a < eo and b < en:
        op, osz = old[a]
        np_, nsz = new[b]
        if op == np_:
            if osz != nsz:
                add((np_, nsz))
            a += 1
            b += 1
        elif (op < np_) is asc:  # the old level is gone
            add((op, zero))
            a += 1
        else:
            add((np_, nsz))
            b += 1
    while a < eo:
        add((old[a][0], zero))
        a += 1
    while b < en:
        px, sz = new[b]
        add((px, sz))
        b += 1
    copy = old[:i]
    copy.extend([[px, sz] for px, sz in new[i:en]])
    if tail:
        copy.extend(old[eo:])
    return changes, copy


def _copy(side: Side) -> Side:
    return [[px, sz] for px, sz in side]


class IncState:
    """What one incremental stream (one depth) last published."""

    __slots__ = ("asks", "bids", "seq")

    def __init__(self, asks: Side, bids: Side, seq: int) -> None:
        self.asks = asks
        self.bids = bids
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
    def active(self) -> bool:
        return any(self.subs.values())

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

    def remove_conn(self, conn: Any) -> None:
        for ch in [c for c, subs in self.subs.items() if conn in subs]:
            self.remove(ch, conn)

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
            da, st_asks = diff_side(st.asks, book.asks[:depth], True)
            db, st_bids = diff_side(st.bids, book.bids[:depth], False)
            if not da and not db:
                continue
            st.asks, st.bids = st_asks, st_bids
            body = (',"action":"update","data":[{"asks":[' + render_changes(da)
                    + '],"bids":[' + render_changes(db) + '],"ts":"' + ts
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
                st = self.inc[depth] = IncState(_copy(book.asks[:depth]),
                                                _copy(book.bids[:depth]), self.seq)
            return (self._arg[channel] + ',"action":"snapshot","data":[{"asks":['
                    + render_levels(st.asks) + '],"bids":[' + render_levels(st.bids)
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
