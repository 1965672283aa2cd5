"""No secret ever leaves the dashboard, even when the engine's free text quotes one."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
from pydantic import SecretStr
from web_operator_support import (
    TOKEN,
    RecordingOperator,
    ScriptedOperator,
    api_client,
    leak_secrets,
)

from laicai.config import Secrets, Settings
from laicai.config.sections import WebConfig
from laicai.web import WebServer

SECRETS = {
    "okx_api_key": "okx-key-0a1b2c3d4e5f60718293a4b5",
    "okx_secret_key": "OKXSECRET9F8E7D6C5B4A39281706F5E4",
    "okx_passphrase": 'pass"phrase\\with/odd&chars<1>',
    "db_password": "db-pw-密码-7c1e9b",
    "telegram_bot_token": "123456789:AAH-telegram-token-XYZ987",
    "dingtalk_secret": "SECdingtalk0f1e2d3c4b5a69788796a5b4",
    "web_token": TOKEN,
}
GET_PATHS = ["/", "/static/dashboard.js", "/static/dashboard.css", "/static/index.html",
             "/api/openapi.json", "/api/status", "/api/health", "/api/positions", "/api/pnl",
             "/api/funding", "/api/equity", "/api/resets", "/api/scan", "/api/alerts",
             "/api/log", "/metrics", "/healthz", "/api/nope", "/api/positions/abc/close"]


def settings() -> Settings:
    return Settings(web=WebConfig(host="127.0.0.1", port=18080),
                    secrets=Secrets(**{k: SecretStr(v) for k, v in SECRETS.items()}))


def forms(secret: str) -> set[str]:
    """How a secret could appear in a body."""
    return {secret, json.dumps(secret)[1:-1], quote(secret, safe=""),
            json.dumps(secret, ensure_ascii=False)[1:-1]}


def assert_clean(response: httpx.Response) -> None:
    body = response.content.decode("utf-8", "replace")
    for name, secret in SECRETS.items():
        for form in forms(secret):
            assert form not in body, f"{name} leaked by {response.request.url}"
    for value in response.headers.values():
        assert not any(secret in value for secret in SECRETS.values())


async def test_no_secret_in_any_response(scripted: ScriptedOperator,
                                         operator: RecordingOperator) -> None:
    leak_secrets(scripted, list(SECRETS.values()))
    assert any(SECRETS["okx_secret_key"] in line for line in scripted.log_tail(5))
    server = WebServer.from_settings(operator, settings())
    seen_redactions = 0
    async with api_client(server.app) as client:
        responses = [await client.get(path) for path in GET_PATHS]
        auth = {"Authorization": f"Bearer {TOKEN}"}
        responses += [
            await client.post("/api/pause", json={"reason": SECRETS["okx_api_key"]}, headers=auth),
            await client.post("/api/pause", headers=auth),  # refused: already paused
            await client.post("/api/positions/1/close", headers=auth),
            await client.post("/api/close-all", json={"confirm": True}, headers=auth),
            await client.post("/api/close-all", json={"confirm": TOKEN}, headers=auth),
            await client.post("/api/resume", headers={"Authorization": "Bearer nope"}),
        ]
    for response in responses:
        assert_clean(response)
        seen_redactions += response.text.count("***")
    by_path = {str(r.request.url.path): r for r in responses}
    assert by_path["/api/log"].status_code == 200
    assert "***" in by_path["/api/log"].text  # the secrets were there and were removed
    assert "***" in by_path["/api/alerts"].text and "***" in by_path["/api/scan"].text
    assert seen_redactions >= 10


async def test_views_without_secrets_are_untouched(operator: RecordingOperator) -> None:
    server = WebServer.from_settings(operator, settings())
    async with api_client(server.app) as client:
        log = (await client.get("/api/log")).json()
    assert log == {"lines": operator.log_tail(100)}
