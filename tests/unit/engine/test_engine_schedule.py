"""The engine's timers (laicai.engine.schedule): when a job is first due, when it is due again
after it ran (late runs skip the missed ticks, never replay them), and what a Schedule hands
out at one instant."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from laicai.engine.core import EngineSettings
from laicai.engine.schedule import DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS, Job, Schedule

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, a day boundary


# ---------------------------------------------------------------------- Job.first_due
def test_unaligned_first_due_is_start_plus_offset() -> None:
    assert Job("scan", 45 * SECOND_MS).first_due(T0 + 123) == T0 + 123
    assert Job("scan", 45 * SECOND_MS, offset_ms=5_000).first_due(T0 + 123) == T0 + 5_123


def test_aligned_first_due_is_the_next_boundary_plus_offset() -> None:
    book = Job("bookkeeping", HOUR_MS, aligned=True, offset_ms=MINUTE_MS)
    # 00:00:00 -> 00:01:00 (same hour: the offset is still ahead)
    assert book.first_due(T0) == T0 + MINUTE_MS
    # 00:00:59.999 -> 00:01:00
    assert book.first_due(T0 + MINUTE_MS - 1) == T0 + MINUTE_MS
    # exactly 00:01:00 -> now (due >= start is due)
    assert book.first_due(T0 + MINUTE_MS) == T0 + MINUTE_MS
    # 00:01:00.001 -> 01:01:00 (this hour's slot has passed)
    assert book.first_due(T0 + MINUTE_MS + 1) == T0 + HOUR_MS + MINUTE_MS
    # 00:30 -> 01:01
    assert book.first_due(T0 + 30 * MINUTE_MS) == T0 + HOUR_MS + MINUTE_MS


def test_aligned_without_offset_starts_on_the_boundary_or_the_next() -> None:
    equity = Job("equity", HOUR_MS, aligned=True)
    assert equity.first_due(T0) == T0
    assert equity.first_due(T0 + 1) == T0 + HOUR_MS
    assert equity.first_due(T0 + HOUR_MS - 1) == T0 + HOUR_MS


def test_daily_report_is_two_minutes_after_midnight() -> None:
    daily = Job("daily", DAY_MS, aligned=True, offset_ms=2 * MINUTE_MS)
    assert daily.first_due(T0 + 5 * HOUR_MS) == T0 + DAY_MS + 2 * MINUTE_MS
    assert daily.first_due(T0 + MINUTE_MS) == T0 + 2 * MINUTE_MS


def test_aligned_offset_of_a_period_or_more_still_gives_the_earliest_slot() -> None:
    # a 90-minute offset on an hourly job is the slot at HH:30 (every hour)
    job = Job("late", HOUR_MS, aligned=True, offset_ms=90 * MINUTE_MS)
    assert job.first_due(T0) == T0 + 30 * MINUTE_MS
    assert job.first_due(T0 + 31 * MINUTE_MS) == T0 + HOUR_MS + 30 * MINUTE_MS


def test_period_must_be_positive() -> None:
    with pytest.raises(ValueError, match="period_ms"):
        Job("x", 0)
    with pytest.raises(ValueError, match="period_ms"):
        Job("x", -5)


# ---------------------------------------------------------------------- Job.after
def test_after_on_time_is_one_period_later() -> None:
    scan = Job("scan", 45 * SECOND_MS)
    assert scan.after(T0, T0) == T0 + 45 * SECOND_MS
    assert scan.after(T0, T0 + 44_999) == T0 + 45 * SECOND_MS  # ran late, next slot ahead


def test_after_skips_missed_ticks_and_never_replays_them() -> None:
    scan = Job("scan", 45 * SECOND_MS)
    # due at T0, ran 2 min 10 s late: the ticks at 45, 90 and 135 s... 135 s > 130 s
    assert scan.after(T0, T0 + 130 * SECOND_MS) == T0 + 135 * SECOND_MS
    # a tick falling exactly on the late run is not run again at the same instant
    assert scan.after(T0, T0 + 90 * SECOND_MS) == T0 + 135 * SECOND_MS
    # a day late: one run, the next tick on the original grid
    nxt = scan.after(T0, T0 + DAY_MS + 1)
    assert nxt > T0 + DAY_MS + 1
    assert nxt - (T0 + DAY_MS + 1) <= 45 * SECOND_MS
    assert (nxt - T0) % (45 * SECOND_MS) == 0


def test_after_of_an_aligned_job_stays_on_its_boundaries() -> None:
    book = Job("bookkeeping", HOUR_MS, aligned=True, offset_ms=MINUTE_MS)
    assert book.after(T0 + MINUTE_MS, T0 + MINUTE_MS) == T0 + HOUR_MS + MINUTE_MS
    # ran 3 h 10 min late -> 04:01, not 01:01, 02:01, 03:01 replayed
    assert book.after(T0 + MINUTE_MS, T0 + 3 * HOUR_MS + 11 * MINUTE_MS) == \
        T0 + 4 * HOUR_MS + MINUTE_MS
    # brought forward off its grid (run_soon at 00:30): the next one is back on the grid
    assert book.after(T0 + 30 * MINUTE_MS, T0 + 30 * MINUTE_MS) == T0 + HOUR_MS + MINUTE_MS


# ---------------------------------------------------------------------- Schedule
def test_schedule_first_dues_and_next_due() -> None:
    s = Schedule([Job("risk", MINUTE_MS), Job("scan", 45_000, offset_ms=5_000),
                  Job("equity", HOUR_MS, aligned=True)], T0 + 10)
    assert s.due == {"risk": T0 + 10, "scan": T0 + 5_010, "equity": T0 + HOUR_MS}
    assert s.next_due_ms() == T0 + 10


def test_duplicate_job_names_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        Schedule([Job("a", 1000), Job("a", 2000)], T0)


def test_pop_due_orders_by_due_time_then_by_the_given_order() -> None:
    s = Schedule([Job("late", 10_000, offset_ms=300), Job("b", 10_000, offset_ms=100),
                  Job("a", 10_000, offset_ms=100), Job("first", 10_000)], T0)
    assert s.pop_due(T0 - 1) == []
    assert s.pop_due(T0 + 1_000) == ["first", "b", "a", "late"]
    assert s.due == {"first": T0 + 10_000, "b": T0 + 10_100, "a": T0 + 10_100,
                     "late": T0 + 10_300}
    assert s.pop_due(T0 + 1_000) == []  # nothing twice at one instant
    assert s.pop_due(T0 + 10_100) == ["first", "b", "a"]
    assert s.next_due_ms() == T0 + 10_300


def test_pop_due_only_returns_what_is_due() -> None:
    s = Schedule([Job("fast", 1_000), Job("slow", 60_000, offset_ms=30_000)], T0)
    assert s.pop_due(T0) == ["fast"]
    assert s.pop_due(T0 + 999) == []
    assert s.pop_due(T0 + 5_500) == ["fast"]  # four missed ticks skipped
    assert s.due["fast"] == T0 + 6_000
    assert s.pop_due(T0 + 30_000) == ["fast", "slow"]
    assert s.due == {"fast": T0 + 31_000, "slow": T0 + 90_000}


def test_run_soon_brings_a_job_forward_but_never_back() -> None:
    s = Schedule([Job("risk", MINUTE_MS), Job("scan", 45_000)], T0)
    assert s.pop_due(T0) == ["risk", "scan"]
    s.run_soon("risk", T0 + 7_000)
    assert s.due["risk"] == T0 + 7_000
    assert s.next_due_ms() == T0 + 7_000
    assert s.pop_due(T0 + 7_000) == ["risk"]
    assert s.due["risk"] == T0 + 67_000  # counted from the early run
    s.run_soon("risk", T0 + 80_000)  # later than it is due anyway: unchanged
    assert s.due["risk"] == T0 + 67_000
    with pytest.raises(KeyError):
        s.run_soon("nope", T0)


def test_engine_jobs_are_a_valid_schedule() -> None:
    es = EngineSettings(mode="paper")
    jobs = {j.name: j for j in es.jobs()}
    assert set(jobs) == {"heartbeat", "risk", "bookkeeping", "equity", "daily", "scan"}
    assert jobs["bookkeeping"].aligned and jobs["bookkeeping"].offset_ms == MINUTE_MS
    assert jobs["daily"].period_ms == DAY_MS
    s = Schedule(es.jobs(), T0 + 17)
    # risk first, the first scan 5 s after it
    assert s.pop_due(T0 + 17) == ["heartbeat", "risk"]
    assert s.due["scan"] == T0 + 5_017


# ---------------------------------------------------------------------- properties
periods = st.integers(min_value=1, max_value=3 * DAY_MS)
starts = st.integers(min_value=0, max_value=2 * 10**12)


@st.composite
def jobs(draw: st.DrawFn, aligned: bool | None = None) -> Job:
    period = draw(periods)
    offset = draw(st.integers(min_value=0, max_value=3 * period))
    al = draw(st.booleans()) if aligned is None else aligned
    return Job(draw(st.text("abcdefgh", min_size=1, max_size=4)), period, al, offset)


def on_grid(job: Job, t: int) -> bool:
    return (t - job.offset_ms) % job.period_ms == 0


@given(jobs(aligned=True), starts)
def test_aligned_first_due_is_the_earliest_slot_at_or_after_start(job: Job, start: int) -> None:
    due = job.first_due(start)
    assert due >= start
    assert on_grid(job, due)
    assert due - start < job.period_ms  # no earlier slot was skipped


@given(jobs(), starts, st.lists(st.integers(min_value=0, max_value=5 * DAY_MS),
                                min_size=1, max_size=30))
def test_due_times_strictly_increase(job: Job, start: int, delays: list[int]) -> None:
    due = job.first_due(start)
    for delay in delays:
        now = due + delay  # the run happens at or after its due time
        nxt = job.after(due, now)
        assert nxt > due
        assert nxt > now  # never due again at (or before) the instant it ran
        assert nxt - now <= job.period_ms  # and no tick beyond the next one is skipped
        if job.aligned:
            assert on_grid(job, nxt)
        else:
            assert (nxt - due) % job.period_ms == 0
        due = nxt


@given(jobs(aligned=True), starts,
       st.lists(st.tuples(st.integers(min_value=0, max_value=2 * DAY_MS), st.booleans()),
                min_size=1, max_size=30))
def test_every_due_time_of_an_aligned_job_is_on_its_boundary(
        job: Job, start: int, steps: list[tuple[int, bool]]) -> None:
    s = Schedule([job], start)
    now = start
    assert on_grid(job, s.due[job.name])
    for gap, soon in steps:
        now += gap
        if soon:
            s.run_soon(job.name, now)  # off the grid until it ran
        if s.pop_due(now):
            assert on_grid(job, s.due[job.name]), (now, s.due)
        assert s.due[job.name] > now or not s.pop_due(now)


@given(st.lists(jobs(), min_size=1, max_size=6, unique_by=lambda j: j.name), starts,
       st.lists(st.integers(min_value=0, max_value=DAY_MS), min_size=1, max_size=40),
       st.data())
def test_pop_due_never_returns_a_job_twice_for_one_instant(
        js: list[Job], start: int, gaps: list[int], data: st.DataObject) -> None:
    s = Schedule(js, start)
    now = start
    for gap in gaps:
        now += gap
        ready = s.pop_due(now)
        assert len(ready) == len(set(ready))
        assert s.pop_due(now) == []  # asked again at the same instant: nothing
        assert all(t > now for t in s.due.values())
        assert s.next_due_ms() > now
        # ordering: by the due time they had, ties in the given order
        if data.draw(st.booleans()):
            name = data.draw(st.sampled_from([j.name for j in js]))
            s.run_soon(name, now)
            assert s.pop_due(now) == [name]
            assert s.pop_due(now) == []


@given(st.lists(jobs(aligned=False), min_size=2, max_size=6, unique_by=lambda j: j.name),
       starts, st.integers(min_value=0, max_value=3 * DAY_MS))
def test_pop_due_order(js: list[Job], start: int, gap: int) -> None:
    s = Schedule(js, start)
    before = dict(s.due)
    ready = s.pop_due(start + gap)
    order = {j.name: i for i, j in enumerate(js)}
    assert ready == sorted(ready, key=lambda n: (before[n], order[n]))
    assert set(ready) == {n for n, t in before.items() if t <= start + gap}
