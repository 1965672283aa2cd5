"""``laicai demo``: the whole bot in paper mode against an in-process simulator, no keys, no
server. A few simulated hours of the squeeze scenario at high speed, kept in a SQLite file the
test then reads."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from laicai.cli.app import app


def test_demo_runs_the_bot_and_stops_after_the_hours_asked(runner: CliRunner,
                                                           tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    out = runner.invoke(app, ["demo", "--scenario", "squeeze", "--speed", "3600", "--hours",
                              "3", "--no-view", "--db", str(db)])
    assert out.exit_code == 0, out.output
    assert "demo stopped in state STOPPED" in out.output
    with sqlite3.connect(db) as conn:
        opened = conn.execute("select count(*) from positions").fetchone()[0]
        state = conn.execute("select value from bot_state where key = 'engine'").fetchone()[0]
    assert opened >= 1  # the scenario's funding clears the bar: the bot opened carries
    record = json.loads(state)
    assert record["state"] == "STOPPED" and record["clean_exit"] is True
