"""The bounded, level-aware outbox."""

from __future__ import annotations

import asyncio

import pytest

from laicai.notify.message import Level, Message
from laicai.notify.outbox import Outbox


def m(level: Level, title: str) -> Message:
    return Message(level, title)


def drain(box: Outbox) -> list[str]:
    out = []
    while (msg := box.get_nowait()) is not None:
        out.append(msg.title)
    return out


def test_fifo_across_levels() -> None:
    box = Outbox(10)
    for level, title in [(Level.INFO, "a"), (Level.ERROR, "b"), (Level.WARN, "c"),
                         (Level.INFO, "d")]:
        box.put(m(level, title))
    assert drain(box) == ["a", "b", "c", "d"]


def test_overflow_drops_the_oldest_least_urgent() -> None:
    box = Outbox(3)
    box.put(m(Level.ERROR, "e1"))
    box.put(m(Level.INFO, "i1"))
    box.put(m(Level.WARN, "w1"))
    assert box.put(m(Level.WARN, "w2")) == m(Level.INFO, "i1")
    assert box.put(m(Level.ERROR, "e2")) == m(Level.WARN, "w1")
    assert len(box) == 3
    assert box.dropped == 2 and box.take_dropped() == 2 and box.take_dropped() == 0
    assert drain(box) == ["e1", "w2", "e2"]


def test_overflow_drops_an_incoming_message_less_urgent_than_all_queued() -> None:
    box = Outbox(2)
    box.put(m(Level.ERROR, "e1"))
    box.put(m(Level.ERROR, "e2"))
    assert box.put(m(Level.INFO, "i")) == m(Level.INFO, "i")
    assert drain(box) == ["e1", "e2"]


def test_put_stays_bounded_under_a_flood() -> None:
    box = Outbox(100)
    for i in range(10_000):
        box.put(m(Level(10 * (1 + i % 3)), str(i)))
    assert len(box) == 100
    assert box.dropped == 9_900
    titles = drain(box)
    assert all(int(t) % 3 == 2 for t in titles)  # only ERRORs are left, the newest ones


async def test_get_waits_and_join_tracks_done() -> None:
    box = Outbox(5)
    getter = asyncio.create_task(box.get())
    await asyncio.sleep(0)
    assert not getter.done()
    box.put(m(Level.INFO, "x"))
    assert (await asyncio.wait_for(getter, 1.0)).title == "x"
    joined = asyncio.create_task(box.join())
    await asyncio.sleep(0)
    assert not joined.done()
    box.task_done()
    await asyncio.wait_for(joined, 1.0)


def test_maxsize_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Outbox(0)
