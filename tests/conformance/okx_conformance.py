"""Shared helpers for the OKX conformance tests: ccxt's recorded OKX fixtures, a venue that
holds every coin those fixtures name, and the shape comparison of OKX JSON objects.

Shape rules (``shape_problems``), applied to one object of ours against the real samples of the
same OKX object (e.g. every real ``trade/order`` row in the fixtures):

- keys: ours must hold every key present in *all* real samples (the intersection) and no key
  absent from *every* sample (the union), except fields listed in ``NEWER_FIELDS`` that OKX
  documents today but that the (older) recorded sample predates;
- JSON type per key: string / number / bool / list / object / null must match each sample
  that has the key;
- strings: a numeric-looking sample string ("0.1", "-3", "1712410901848") must be numeric or
  "" in ours; a sample "" accepts any string; a non-numeric sample string ("cross", "live")
  must not be answered by a number; no exponent notation anywhere (OKX never sends "1E-8");
- objects recurse; lists of scalars are compared as tuples (same length, element by element,
  e.g. an order-book level ``[px, sz, "0", orders]``); lists of containers are homogeneous:
  each of our elements against the first sample element.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from laicai.sim.exchange import SimExchange
from laicai.testing.sim import make_exchange

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "okx_ccxt_static"


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


RESPONSES: dict[str, Any] = load_fixture("response_okx.subset.json")["methods"]
REQUESTS: dict[str, Any] = load_fixture("request_okx.json")
REQUEST_SKIP_KEYS: tuple[str, ...] = tuple(REQUESTS["skipKeys"])  # clOrdId, tag


# ---------------------------------------------------------------------- venue
# Every coin the fixtures trade or transfer. LTC, ADA and XRP get OKX's real instrument
# definitions (shipped with the simulator); TUSD and USDC get derived pairs so that ccxt knows
# the currencies (``client.currency("TUSD")``) and the accounts can hold them.
PRICES: dict[str, Decimal] = {
    "BTC": Decimal(60000), "ETH": Decimal(3000), "DOGE": Decimal("0.2"), "LTC": Decimal(68),
    "ADA": Decimal("0.4"), "XRP": Decimal("0.6"), "TUSD": Decimal(1), "USDC": Decimal(1),
}
FUNDING = {f"{c}-USDT-SWAP": (Decimal("0.0001"), 8) for c in PRICES}


def make_venue(*, trading: Mapping[str, Decimal] | None = None,
               funding_account: Mapping[str, Decimal] | None = None) -> SimExchange:
    return make_exchange(
        prices=PRICES, funding=FUNDING,
        trading=trading if trading is not None else {
            "USDT": Decimal(100000), "LTC": Decimal(10), "TUSD": Decimal(1000),
            "USDC": Decimal(1000)},
        funding_account=funding_account if funding_account is not None else {
            "USDT": Decimal(1000)},
    )


def raw_json(client: Any) -> Any:
    """The JSON body of the last HTTP response ccxt received, exactly as the venue sent it."""
    text = client.last_http_response
    assert text, "no HTTP response recorded"
    return json.loads(text)


def reset_last(client: Any) -> None:
    client.last_request_url = None
    client.last_request_body = None
    client.last_request_headers = None
    client.last_http_response = None


# ---------------------------------------------------------------------- shapes
_NUM = re.compile(r"^-?\d+(\.\d+)?$")
_EXP = re.compile(r"^-?\d+(\.\d+)?[eE][-+]?\d+$")


def json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, str):
        return "string"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "object"
    raise TypeError(f"not a JSON value: {v!r}")


def string_class(v: str) -> str:
    if v == "":
        return "empty"
    return "numeric" if _NUM.match(v) else "text"


def _is_container(v: Any) -> bool:
    return isinstance(v, list | dict)


def _value_problems(ours: Any, real: Any, path: str, out: list[str]) -> None:
    t_real, t_ours = json_type(real), json_type(ours)
    if t_real != t_ours:
        out.append(f"{path}: ours is {t_ours} {ours!r}, OKX sends {t_real} {real!r}")
        return
    if t_real == "string":
        c_real, c_ours = string_class(real), string_class(ours)
        if _EXP.match(ours):
            out.append(f"{path}: ours {ours!r} uses exponent notation")
        elif c_real == "numeric" and c_ours == "text":
            out.append(f"{path}: ours {ours!r} is not numeric, OKX sends {real!r}")
        elif c_real == "text" and c_ours == "numeric":
            out.append(f"{path}: ours {ours!r} is numeric, OKX sends text {real!r}")
    elif t_real == "object":
        out.extend(shape_problems(ours, [real], path=path))
    elif t_real == "list" and real and ours:
        if any(_is_container(x) for x in real):
            for i, item in enumerate(ours):
                _value_problems(item, real[0], f"{path}[{i}]", out)
        elif len(ours) != len(real):
            out.append(f"{path}: ours has {len(ours)} elements {ours!r}, OKX sends "
                       f"{len(real)} {real!r}")
        else:
            for i, (a, b) in enumerate(zip(ours, real, strict=True)):
                _value_problems(a, b, f"{path}[{i}]", out)


def shape_problems(ours: Any, samples: Iterable[Mapping[str, Any]], *, path: str = "",
                   newer: Iterable[str] = ()) -> list[str]:
    """Everything in which ``ours`` differs in shape from the real ``samples`` (see module
    docstring); an empty list when it conforms."""
    samples = list(samples)
    assert samples, "no real sample to compare with"
    if not isinstance(ours, dict):
        return [f"{path or '<root>'}: ours is {json_type(ours)}, OKX sends object"]
    required = set.intersection(*(set(s) for s in samples))
    allowed = set.union(*(set(s) for s in samples)) | set(newer)
    out = [f"{path}.{k}: missing (OKX always sends it)" for k in sorted(required - set(ours))]
    out += [f"{path}.{k}: not an OKX field" for k in sorted(set(ours) - allowed)]
    for key, value in ours.items():
        for sample in samples:
            if key in sample:
                _value_problems(value, sample[key], f"{path}.{key}", out)
    return out


def envelope_samples() -> list[dict[str, Any]]:
    """Every real HTTP response body in the response fixtures."""
    return [c["httpResponse"] for cases in RESPONSES.values() for c in cases]


def envelope_problems(body: Any) -> list[str]:
    """OKX's envelope: ``code`` (string), ``msg`` (string), ``data`` (list); ``inTime`` and
    ``outTime`` appear in the real samples too (trade endpoints)."""
    reals = envelope_samples()
    shell = [{k: v for k, v in r.items() if k != "data"} for r in reals]
    ours = {k: v for k, v in body.items() if k != "data"} if isinstance(body, dict) else body
    out = shape_problems(ours, shell, path="<envelope>")
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        out.append("<envelope>.data: not a list")
    return out


# ---------------------------------------------------------------------- parsed structures
def present_fields(parsed: Any, prefix: str = "") -> set[str]:
    """Dotted names of the non-None fields of a ccxt unified structure (``info`` left out;
    dict values are walked, list values count as present when not None)."""
    if not isinstance(parsed, dict):
        return {prefix or "<value>"} if parsed is not None else set()
    out: set[str] = set()
    for k, v in parsed.items():
        if k == "info" or v is None:
            continue
        name = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.add(name)
            out |= present_fields(v, name + ".")
        else:
            out.add(name)
    return out


# ---------------------------------------------------------------------- requests
def path_and_query(url: str) -> str:
    """The URL without scheme and host: ``/api/v5/...?...``."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def strip_keys(body: Any, keys: Iterable[str]) -> Any:
    """``body`` with the values of ``keys`` replaced by a marker (presence still compared)."""
    keys = tuple(keys)
    if isinstance(body, list):
        return [strip_keys(b, keys) for b in body]
    if isinstance(body, dict):
        return {k: ("<ignored>" if k in keys else strip_keys(v, keys)) for k, v in body.items()}
    return body
