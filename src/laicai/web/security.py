"""Who may see the dashboard and who may steer the bot.

- Controls (pause, resume, close one, close all) always need ``Authorization: Bearer <token>``
  with the token from ``LAICAI_WEB_TOKEN``; without a configured token they are refused (403).
  Only a header the page's script sets counts for a control, never credentials a browser sends
  by itself (Basic or cookies), so another web site cannot trigger one (no CSRF).
- Reads need the token too when the server listens on anything but loopback: the Bearer header
  (scripts, Prometheus) or HTTP Basic with the token as password (the browser asks once and
  repeats it for the page, its script, the API and the event stream).
- On loopback, reads are open but only under a loopback ``Host`` header, so a page on another
  site cannot read the API through a DNS name rebound to 127.0.0.1.
- Tokens are compared in constant time; the server refuses to listen publicly without one.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
from dataclasses import dataclass

from fastapi import HTTPException, Request, status

from laicai.config.secrets import SECRET_ENV_VARS
from laicai.errors import ConfigError

TOKEN_ENV_VAR = SECRET_ENV_VARS["web_token"]
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})


def is_loopback(host: str) -> bool:
    """``host`` (a listening address or a Host header's name) reaches this machine only."""
    name = host.strip().lower().strip("[]")
    if name in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def check_bind(host: str, token: str | None) -> None:
    """Refuse a non-loopback listening address without a token (the bot must not start)."""
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"web.host is {host!r}, reachable from other machines, but {TOKEN_ENV_VAR} is not "
            f"set: set {TOKEN_ENV_VAR} or bind web.host to 127.0.0.1",
            problems=(f"web.host: {host!r} is not a loopback address and {TOKEN_ENV_VAR} "
                      "is not set",),
        )


def host_header_name(value: str) -> str:
    """The name part of a ``Host`` header: ``[::1]:8080`` -> ``::1``, ``a.b:80`` -> ``a.b``."""
    value = value.strip()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def tokens_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _basic_password(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] or None


CONTROLS_DISABLED = (
    f"controls are disabled: no dashboard token is configured; set {TOKEN_ENV_VAR} in the "
    "environment (or .env) and restart the bot"
)


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """The rules above for one listening address and token."""

    host: str
    token: str | None

    def __post_init__(self) -> None:
        check_bind(self.host, self.token)

    @property
    def public(self) -> bool:
        return not is_loopback(self.host)

    @property
    def controls_enabled(self) -> bool:
        return bool(self.token)

    def _matches(self, given: str | None) -> bool:
        return given is not None and self.token is not None and tokens_equal(given, self.token)

    def host_allowed(self, host_header: str | None) -> bool:
        """On loopback only loopback names (or the configured host) may address us."""
        if self.public:
            return True
        if not host_header:
            return False
        name = host_header_name(host_header)
        return is_loopback(name) or name.lower() == self.host.lower()

    def check_read(self, request: Request) -> None:
        """Dependency of every page and read endpoint (raises 401 when not allowed)."""
        if not self.public:
            return
        if self._matches(_bearer(request)) or self._matches(_basic_password(request)):
            return
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=f"this dashboard needs the token ({TOKEN_ENV_VAR}): send "
                   "'Authorization: Bearer <token>' or log in with the token as password",
            headers={"WWW-Authenticate": 'Basic realm="laicai", charset="UTF-8"'},
        )

    def check_control(self, request: Request) -> None:
        """Dependency of every control: 403 without a configured token, 401 without the right
        Bearer token."""
        if not self.controls_enabled:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=CONTROLS_DISABLED)
        given = _bearer(request)
        if given is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="controls need 'Authorization: Bearer <token>' with the dashboard token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not self._matches(given):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="wrong dashboard token",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
