"""The secret scrubber on its own: whole bodies, streams, escaped forms."""

from __future__ import annotations

import itertools
import json

import httpx
from starlette.types import Receive, Scope, Send

from laicai.web.middleware import SecretScrubber, secret_variants

SECRET = 'sk-"quoted"\\path/9f8e7d'


async def fixed_body(scope: Scope, receive: Receive, send: Send) -> None:
    body = json.dumps({"msg": f"key {SECRET} and {SECRET}", "ok": True}).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    half = len(body) // 2  # the secret may straddle two chunks of one body
    await send({"type": "http.response.body", "body": body[:half], "more_body": True})
    await send({"type": "http.response.body", "body": body[half:]})


async def stream(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/event-stream")]})
    for i in range(3):
        await send({"type": "http.response.body", "more_body": True,
                    "body": f"data: {{\"n\": {i}, \"m\": \"{SECRET}\"}}\n\n".encode()})
    await send({"type": "http.response.body", "body": b""})


async def get(app: SecretScrubber) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://127.0.0.1") as client:
        return await client.get("/")


async def test_a_whole_body_is_scrubbed_and_its_length_fixed() -> None:
    response = await get(SecretScrubber(fixed_body, [SECRET]))
    assert response.json() == {"msg": "key *** and ***", "ok": True}
    assert int(response.headers["content-length"]) == len(response.content)


async def test_a_stream_is_scrubbed_chunk_by_chunk() -> None:
    response = await get(SecretScrubber(stream, [SECRET, "short"]))
    assert response.text.count("***") == 3 and SECRET not in response.text
    assert "content-length" not in response.headers


async def test_without_secrets_nothing_changes() -> None:
    response = await get(SecretScrubber(fixed_body, ["tiny", ""]))  # too short to scrub
    assert response.json()["msg"] == f"key {SECRET} and {SECRET}"


def test_variants_cover_escaped_forms_longest_first() -> None:
    variants = secret_variants([SECRET, "abc"])
    assert SECRET.encode() in variants
    assert json.dumps(SECRET)[1:-1].encode() in variants
    assert b"sk-%22quoted%22%5Cpath%2F9f8e7d" in variants
    assert all(len(a) >= len(b) for a, b in itertools.pairwise(variants))
    assert b"abc" not in variants
