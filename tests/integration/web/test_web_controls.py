"""Controls: always the Bearer token, refused without a configured one, answered with the
Operator's result; close-all needs an explicit confirmation."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from web_operator_support import TOKEN, RecordingOperator, ScriptedOperator, api_client

from laicai.engine.operator import CommandResult
from laicai.errors import InvariantViolation
from laicai.web import create_app

CONTROLS: list[tuple[str, dict[str, Any]]] = [
    ("/api/pause", {"reason": "maintenance"}),
    ("/api/resume", {}),
    ("/api/positions/1/close", {}),
    ("/api/close-all", {"confirm": True}),
]
IDS = [c[0] for c in CONTROLS]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(("path", "body"), CONTROLS, ids=IDS)
@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
async def test_every_control_needs_the_bearer_token(operator: RecordingOperator, path: str,
                                                    body: dict[str, Any], host: str) -> None:
    basic = base64.b64encode(f"admin:{TOKEN}".encode()).decode()
    attempts = [{}, bearer("wrong-token"), bearer(TOKEN[:-1]), bearer(TOKEN + "x"),
                {"Authorization": f"Basic {basic}"}, {"Authorization": TOKEN},
                {"Cookie": f"token={TOKEN}"}]
    async with api_client(create_app(operator, token=TOKEN, host=host)) as client:
        for headers in attempts:
            response = await client.post(path, json=body, headers=headers)
            assert response.status_code == 401, (headers, response.text)
            assert "www-authenticate" in response.headers
    assert operator.calls == []


@pytest.mark.parametrize(("path", "body"), CONTROLS, ids=IDS)
async def test_controls_are_refused_when_no_token_is_configured(
        operator: RecordingOperator, path: str, body: dict[str, Any]) -> None:
    async with api_client(create_app(operator, token=None, host="127.0.0.1")) as client:
        for headers in ({}, bearer(TOKEN), bearer("")):
            response = await client.post(path, json=body, headers=headers)
            assert response.status_code == 403, response.text
            assert "LAICAI_WEB_TOKEN" in response.json()["detail"]
    assert operator.calls == []


async def test_pause_and_resume_reach_the_operator(operator: RecordingOperator) -> None:
    async with api_client(create_app(operator, token=TOKEN, host="127.0.0.1")) as client:
        paused = await client.post("/api/pause", json={"reason": "maintenance"},
                                   headers=bearer(TOKEN))
        again = await client.post("/api/pause", headers=bearer(TOKEN))  # no body: no reason
        state = (await client.get("/api/status")).json()["state"]
        resumed = await client.post("/api/resume", headers=bearer(TOKEN))
    assert paused.status_code == 200 and paused.json()["ok"] is True
    assert again.status_code == 409 and again.json() == {"ok": False, "message": "already paused"}
    assert state == "PAUSED"
    assert resumed.status_code == 200 and resumed.json()["message"] == "resumed"
    assert operator.names() == ["pause", "pause", "resume"]
    by, reason = operator.calls[0].args
    assert by == "web 127.0.0.1" and reason == "maintenance"
    assert operator.calls[1].args[1] == ""


async def test_close_one_position(operator: RecordingOperator) -> None:
    async with api_client(create_app(operator, token=TOKEN, host="127.0.0.1")) as client:
        closed = await client.post("/api/positions/2/close", headers=bearer(TOKEN))
        unknown = await client.post("/api/positions/99/close", headers=bearer(TOKEN))
        invalid = await client.post("/api/positions/0/close", headers=bearer(TOKEN))
        left = [p["id"] for p in (await client.get("/api/positions")).json()]
    assert closed.status_code == 200 and closed.json()["message"] == "closing #2 ETH-USDT"
    assert unknown.status_code == 409 and "no open position #99" in unknown.json()["message"]
    assert invalid.status_code == 422
    assert left == [1, 3]
    assert [(c.name, c.args[0]) for c in operator.calls] == [("close_position", 2),
                                                             ("close_position", 99)]


@pytest.mark.parametrize("body", [None, {}, {"confirm": False}, {"confirm": "no"}],
                         ids=["no-body", "empty", "false", "not-a-bool"])
async def test_close_all_needs_confirm_true(operator: RecordingOperator,
                                            body: dict[str, Any] | None) -> None:
    async with api_client(create_app(operator, token=TOKEN, host="127.0.0.1")) as client:
        response = await client.post("/api/close-all", json=body, headers=bearer(TOKEN))
    assert response.status_code in (400, 422), response.text
    if response.status_code == 400:
        assert "confirm" in response.json()["detail"]
    assert operator.calls == []


async def test_close_all_with_confirmation(operator: RecordingOperator,
                                           scripted: ScriptedOperator) -> None:
    async with api_client(create_app(operator, token=TOKEN, host="127.0.0.1")) as client:
        response = await client.post("/api/close-all", json={"confirm": True},
                                     headers=bearer(TOKEN))
    assert response.status_code == 200, response.text
    assert response.json()["message"].startswith("closing all 3 carries")
    assert operator.names() == ["close_all"]
    assert scripted.state == "EMERGENCY"


class _Failing(ScriptedOperator):
    async def resume(self, by: str) -> CommandResult:
        raise InvariantViolation(f"resume refused: journal corrupt (signed {TOKEN})")


async def test_an_engine_error_is_answered_not_leaked() -> None:
    app = create_app(_Failing.sample(), token=TOKEN, host="127.0.0.1")
    async with api_client(app) as client:
        response = await client.post("/api/resume", headers=bearer(TOKEN))
    assert response.status_code == 500
    assert response.json() == {
        "detail": "InvariantViolation: resume refused: journal corrupt (signed ***)"}
