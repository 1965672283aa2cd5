"""``laicai check`` through typer's CliRunner against a simulator server in a thread: the
checklist, the exit code, JSON, and no secret in the output."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from selfcheck_rig import KEYS_ENV, write_config
from typer.testing import CliRunner

from laicai.cli.app import app
from laicai.testing.sim import make_exchange, server_in_thread


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No LAICAI_* variable of the shell, no .env or config of the repository."""
    for name in list(os.environ):
        if name.startswith("LAICAI_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args, env={**KEYS_ENV, "COLUMNS": "220"})
    return result.exit_code, result.stdout, result.output


def test_a_healthy_account_prints_ticks_and_exits_0(tmp_path: Path) -> None:
    with server_in_thread(make_exchange()) as srv:
        cfg = write_config(tmp_path, srv.rest_url)
        code, out, everything = run(["check", "--config", str(cfg)])
    assert code == 0, everything
    assert "✓ API keys accepted" in out.replace("  ", " ")
    assert "✗" not in out
    assert "ready: 12 ok, 1 warning(s), 0 failed" in out  # the database does not exist yet
    assert "fix: nothing to do: `laicai run` creates it" in out
    for value in KEYS_ENV.values():
        assert value not in everything


def test_a_withdraw_key_fails_with_the_fix_under_it_and_exits_1(tmp_path: Path) -> None:
    with server_in_thread(make_exchange(perm="read_only,trade,withdraw")) as srv:
        cfg = write_config(tmp_path, srv.rest_url)
        code, out, everything = run(["check", "--config", str(cfg)])
    assert code == 1, everything
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "API key permissions" in line)
    assert lines[at].lstrip().startswith("✗") and "WITHDRAW" in lines[at]
    assert "fix: create a new API key with only Read and Trade" in lines[at + 1]
    assert "not ready" in out and "`laicai run` would refuse to start" in out


def test_json_output(tmp_path: Path) -> None:
    with server_in_thread(make_exchange(acct_lv=1)) as srv:
        cfg = write_config(tmp_path, srv.rest_url)
        code, out, everything = run(["check", "--json", "--config", str(cfg)])
    assert code == 1, everything
    data = json.loads(out)
    assert data["ok"] is False and data["mode"] == "paper"
    by = {c["name"]: c for c in data["checks"]}
    assert by["account_mode"]["status"] == "fail" and "acctLv 1" in by["account_mode"]["detail"]
    assert by["leverage"]["status"] == "skip"
    assert by["keys_accepted"]["status"] == "ok" and by["keys_accepted"]["fix"] is None


def test_an_invalid_config_is_the_first_failure(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, "http://127.0.0.1:9", extra="risk:\n  leverage: 10\n")
    code, out, everything = run(["check", "--config", str(cfg)])
    assert code == 1, everything
    first = next(line for line in out.splitlines() if "configuration" in line)
    assert first.lstrip().startswith("✗") and "risk.leverage" in first
    assert out.count("not checked: the configuration does not load") == 12


def test_the_simulator_not_running_fails_and_says_how_to_start_it(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, "http://127.0.0.1:9")  # nothing listens on port 9
    code, out, everything = run(["check", "--config", str(cfg)])
    assert code == 1, everything
    assert "fix: paper mode talks to the simulator at http://127.0.0.1:9: start it with" in out
    assert "retrying" not in everything  # the adapter's retries stay out of the checklist
