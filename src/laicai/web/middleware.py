"""ASGI middleware around the whole dashboard: the last line that keeps secrets out of every
response, the loopback ``Host`` check and the browser security headers."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from laicai.logging_setup import REDACTED
from laicai.web.security import AccessPolicy

MIN_SECRET_LEN = 6
"""Shorter values are not scrubbed: they would mangle ordinary words and numbers."""

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
)


def secret_variants(secrets: Iterable[str]) -> list[bytes]:
    """Each secret as it may appear in a body: raw, JSON-escaped, URL- and HTML-escaped;
    longest first so a secret containing another is replaced whole."""
    out: set[bytes] = set()
    for secret in secrets:
        if len(secret) < MIN_SECRET_LEN:
            continue
        for form in (secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
                     quote(secret, safe=""), html.escape(secret)):
            out.add(form.encode())
    return sorted(out, key=len, reverse=True)


class SecretScrubber:
    """Replaces every secret in every response body with ``***``.

    Views never hold secrets by design; this guards free text (alerts, log lines, error
    messages, the scan) that might quote one. A body with a ``Content-Length`` is scrubbed
    whole (and its length fixed); a stream (the event stream) chunk by chunk, and every
    event is sent as one chunk."""

    def __init__(self, app: ASGIApp, secrets: Iterable[str]) -> None:
        self.app = app
        self.secrets = secret_variants(secrets)

    def scrub(self, body: bytes) -> bytes:
        for secret in self.secrets:
            body = body.replace(secret, REDACTED.encode())
        return body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.secrets:
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        streaming = False
        parts: list[bytes] = []

        async def scrubbing_send(message: Message) -> None:
            nonlocal start, streaming
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])]
                streaming = not any(k.lower() == b"content-length" for k, _ in headers)
                if streaming:
                    await send(message)
                else:
                    start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body = message.get("body", b"")
            if streaming:
                await send({**message, "body": self.scrub(body)})
                return
            parts.append(body)
            if message.get("more_body", False):
                return
            whole = self.scrub(b"".join(parts))
            assert start is not None
            headers = [(k, v) for k, v in start.get("headers", [])
                       if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(whole)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": whole, "more_body": False})

        await self.app(scope, receive, scrubbing_send)


class HostCheck:
    """On loopback, answer only requests addressed to a loopback name (DNS rebinding)."""

    def __init__(self, app: ASGIApp, policy: AccessPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.policy.public:
            host = next((v.decode("latin-1") for k, v in scope.get("headers", [])
                         if k == b"host"), None)
            if not self.policy.host_allowed(host):
                body = b"unexpected Host header: open the dashboard at 127.0.0.1 or localhost"
                await send({"type": "http.response.start", "status": 403,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """``nosniff``, no framing (the controls cannot be click-jacked), no referrer, a strict CSP
    (no inline script: data shown on the page can never run), and no caching of the API."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = str(scope.get("path", "")).startswith(("/api/", "/metrics"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                if api and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
