"""Coalescing windows, on an explicit clock."""

from __future__ import annotations

from laicai.notify.coalesce import Coalescer
from laicai.notify.message import Level, Message


def alert(i: int, key: str | None = "naked:1", kind: str = "naked") -> Message:
    return Message(Level.ERROR, "naked", (f"{i} USDT",), kind=kind, key=key)


def test_first_goes_out_repeats_are_held_and_summarised() -> None:
    c = Coalescer(60.0)
    out, ends = c.offer(alert(0), now=0.0)
    assert out == alert(0) and ends == 60.0
    for i in range(1, 5):
        assert c.offer(alert(i), now=float(i)) == (None, None)
    assert c.close("naked:1", now=59.0) == (None, None)  # not over yet
    summary, follow_up = c.close("naked:1", now=60.0)
    assert summary is not None
    assert summary.count == 4
    assert summary.lines == ("4 USDT",)  # the latest one stands for them
    assert summary.headline == "🚨 naked ×4"
    assert follow_up == 120.0  # a new window, so a steady stream gives one message per window


def test_quiet_window_closes_for_good() -> None:
    c = Coalescer(10.0)
    c.offer(alert(0), now=0.0)
    assert c.close("naked:1", now=10.0) == (None, None)
    out, ends = c.offer(alert(1), now=11.0)
    assert out == alert(1) and ends == 21.0


def test_follow_up_window_holds_the_stream() -> None:
    c = Coalescer(10.0)
    c.offer(alert(0), now=0.0)
    c.offer(alert(1), now=5.0)
    summary, _ = c.close("naked:1", now=10.0)
    assert summary is not None and summary.count == 1
    assert c.offer(alert(2), now=12.0) == (None, None)  # inside the follow-up window
    assert c.held("naked:1") == 1


def test_no_key_or_other_key_passes_through() -> None:
    c = Coalescer(60.0)
    c.offer(alert(0), now=0.0)
    assert c.offer(alert(1, key=None), now=1.0) == (alert(1, key=None), None)
    out, ends = c.offer(alert(2, key="naked:2"), now=1.0)
    assert out is not None and ends == 61.0


def test_window_per_kind_and_zero_window() -> None:
    c = Coalescer(60.0, {"decision": 900.0, "naked": 0.0})
    assert c.window_for(alert(0, kind="decision")) == 900.0
    assert c.offer(alert(0), now=0.0) == (alert(0), None)
    assert c.offer(alert(1), now=0.1) == (alert(1), None)


def test_close_all_summarises_what_is_held() -> None:
    c = Coalescer(60.0)
    c.offer(alert(0), now=0.0)
    c.offer(alert(1), now=1.0)
    c.offer(alert(0, key="other"), now=1.0)
    [summary] = c.close_all()
    assert summary.count == 1 and summary.key == "naked:1"
    assert c.held("naked:1") == 0
