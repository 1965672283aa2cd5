"""Who may read: everyone on loopback (under a loopback Host), only token holders elsewhere;
and no public address without a token at all."""

from __future__ import annotations

import base64

import pytest
from fastapi import FastAPI
from web_operator_support import TOKEN, RecordingOperator, api_client

from laicai.errors import ConfigError
from laicai.web import WebServer, create_app

PUBLIC_HOSTS = ["0.0.0.0", "::", "192.168.1.20", "10.0.0.5", "dashboard.example.com", ""]
LOOPBACK_HOSTS = ["127.0.0.1", "127.0.0.2", "::1", "localhost"]


PAGES = ["/", "/static/dashboard.js", "/static/dashboard.css", "/api/openapi.json"]


def get_paths(app: FastAPI) -> list[str]:
    """Every GET path: those the schema documents and the page's own."""
    documented = [path for path, ops in app.openapi()["paths"].items() if "get" in ops]
    assert len(documented) >= 13, documented
    return [*documented, *PAGES]


@pytest.mark.parametrize("host", PUBLIC_HOSTS)
def test_refuses_a_public_address_without_a_token(operator: RecordingOperator,
                                                  host: str) -> None:
    for build in (lambda: create_app(operator, token=None, host=host),
                  lambda: WebServer(operator, host=host, port=0, token=None),
                  lambda: create_app(operator, token="", host=host)):
        with pytest.raises(ConfigError) as raised:
            build()
        assert "web.host" in str(raised.value) and "LAICAI_WEB_TOKEN" in str(raised.value)


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
def test_loopback_needs_no_token(operator: RecordingOperator, host: str) -> None:
    create_app(operator, token=None, host=host)
    WebServer(operator, host=host, port=0, token=None)


async def test_public_address_needs_the_token_for_everything(operator: RecordingOperator
                                                             ) -> None:
    app = create_app(operator, token=TOKEN, host="0.0.0.0")
    basic = base64.b64encode(f"operator:{TOKEN}".encode()).decode()
    wrong_basic = base64.b64encode(b"operator:guess").decode()
    async with api_client(app, host="203.0.113.7:8080") as client:
        for path in get_paths(app):
            if path == "/healthz":
                assert (await client.get(path)).status_code == 200
                continue
            for headers in ({}, {"Authorization": "Bearer guess"},
                            {"Authorization": f"Basic {wrong_basic}"}):
                response = await client.get(path, headers=headers)
                assert response.status_code == 401, (path, headers)
                assert response.headers["www-authenticate"].startswith("Basic")
                assert "positions" not in response.text
            if path == "/api/events":
                continue  # an open stream: its authorised form is tested against a server
            for headers in ({"Authorization": f"Bearer {TOKEN}"},
                            {"Authorization": f"Basic {basic}"}):
                response = await client.get(path, headers=headers)
                assert response.status_code == 200, (path, response.text)


async def test_healthz_says_nothing_but_ok(operator: RecordingOperator) -> None:
    app = create_app(operator, token=TOKEN, host="0.0.0.0")
    async with api_client(app) as client:
        assert (await client.get("/healthz")).json() == {"ok": True}


@pytest.mark.parametrize("host_header", ["evil.example", "evil.example:8080", "10.0.0.2:8080",
                                         "127.0.0.1.nip.io"])
async def test_loopback_answers_only_loopback_host_names(operator: RecordingOperator,
                                                         host_header: str) -> None:
    app = create_app(operator, token=None, host="127.0.0.1")
    async with api_client(app, host=host_header) as client:
        for path in ("/", "/api/positions", "/metrics"):
            response = await client.get(path)
            assert response.status_code == 403, path
            assert "Host" in response.text


@pytest.mark.parametrize("host_header", ["127.0.0.1:8080", "localhost:8080", "localhost",
                                         "[::1]:8080", "127.0.0.1"])
async def test_loopback_host_names_are_served(operator: RecordingOperator,
                                              host_header: str) -> None:
    app = create_app(operator, token=None, host="127.0.0.1")
    async with api_client(app, host=host_header) as client:
        assert (await client.get("/api/positions")).status_code == 200


@pytest.mark.parametrize("path", ["/static/..%2Fapp.py", "/static/app.py", "/static/nope.js",
                                  "/static/", "/static/..%2F..%2Fconfig%2Fsecrets.py"])
async def test_only_the_page_files_are_served(operator: RecordingOperator, path: str) -> None:
    async with api_client(create_app(operator, token=None, host="127.0.0.1")) as client:
        response = await client.get(path)
    assert response.status_code == 404
    assert "import" not in response.text
