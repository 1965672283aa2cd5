"""OKX v5 request authentication, verified for real.

OK-ACCESS-SIGN = Base64(HMAC-SHA256(secret, timestamp + method + requestPath + body)), where
requestPath includes the query string; the timestamp is ISO-8601 with milliseconds in UTC and
must be within 30 seconds of the server's (wall-clock) time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import datetime

from laicai.sim.account import Account, ApiKey
from laicai.sim.errors import err
from laicai.sim.exchange import SimExchange

MAX_SKEW_MS = 30_000


def sign(secret: str, prehash: str) -> str:
    mac = hmac.new(secret.encode(), prehash.encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def parse_timestamp_ms(ts: str) -> int:
    """OKX accepts ISO-8601 (``2020-12-08T09:08:57.715Z``) in REST headers."""
    try:
        dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        raise err("50112") from None
    if dt.tzinfo is None:
        raise err("50112")
    return int(dt.timestamp() * 1000)


def authenticate(
    ex: SimExchange,
    headers: Mapping[str, str],
    method: str,
    path_qs: str,
    body: str,
    now_ms: int | None = None,
) -> tuple[Account, ApiKey]:
    key = headers.get("OK-ACCESS-KEY", "")
    signature = headers.get("OK-ACCESS-SIGN", "")
    ts = headers.get("OK-ACCESS-TIMESTAMP", "")
    passphrase = headers.get("OK-ACCESS-PASSPHRASE", "")
    if not key:
        raise err("50103")
    if not signature:
        raise err("50106")
    if not ts:
        raise err("50107")
    if not passphrase:
        raise err("50104")
    acct, api_key = ex.authenticate(key)
    if not hmac.compare_digest(passphrase, api_key.passphrase):
        raise err("50105")
    ts_ms = parse_timestamp_ms(ts)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now - ts_ms) > MAX_SKEW_MS:
        raise err("50102")
    expected = sign(api_key.secret_key, ts + method.upper() + path_qs + body)
    if not hmac.compare_digest(expected, signature):
        raise err("50113")
    return acct, api_key


def ws_login_ok(ex: SimExchange, args: Mapping[str, str], now_s: float | None = None
                ) -> tuple[Account, ApiKey]:
    """WebSocket login: sign = Base64(HMAC-SHA256(secret, timestamp + 'GET' +
    '/users/self/verify')) with the timestamp in Unix seconds."""
    key = args.get("apiKey", "")
    if not key:
        raise err("60009", "Login failed.")
    acct, api_key = ex.authenticate(key)
    if args.get("passphrase", "") != api_key.passphrase:
        raise err("60024", "Wrong passphrase")
    ts = args.get("timestamp", "")
    try:
        ts_s = float(ts)
    except ValueError:
        raise err("60006", "Timestamp request expired") from None
    now = time.time() if now_s is None else now_s
    if abs(now - ts_s) > 30:
        raise err("60006", "Timestamp request expired")
    expected = sign(api_key.secret_key, ts + "GET" + "/users/self/verify")
    if not hmac.compare_digest(expected, args.get("sign", "")):
        raise err("60007", "Invalid sign")
    return acct, api_key
