"""A crashed engine is known dead at once when its record names this host and a pid that no
longer exists: a restart need not wait for the heartbeat to go stale."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime

from laicai.engine.selfcheck import CheckStatus, EngineRecord, check_last_exit

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def record(pid: int, host: str) -> dict[str, object]:
    return {"state": "IDLE", "mode": "paper", "dry_run": False, "pid": pid, "host": host,
            "started_at": NOW.isoformat(), "heartbeat": NOW.isoformat(), "clean_exit": False}


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_dead_pid_on_this_host_is_a_crash_not_a_running_engine() -> None:
    rec = record(dead_pid(), socket.gethostname())
    assert EngineRecord.parse(rec).gone()
    assert check_last_exit(rec, NOW).status is CheckStatus.WARN  # crashed: recovery runs


def test_a_live_pid_or_another_host_still_blocks_a_second_engine() -> None:
    alive = record(os.getppid(), socket.gethostname())
    assert check_last_exit(alive, NOW).status is CheckStatus.FAIL
    elsewhere = record(dead_pid(), "another-host")
    assert check_last_exit(elsewhere, NOW).status is CheckStatus.FAIL
