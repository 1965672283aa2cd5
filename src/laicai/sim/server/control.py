"""The /sim control API: read the whole state, steer time, prices and funding, inject faults.

For tests, demos and chaos runs; documented in docs/simulator.md. Plain JSON, no auth (the
simulator binds to loopback by default).
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiohttp import web

from laicai.sim.clock import ManualClock, ScaledClock
from laicai.sim.faults import Fault
from laicai.sim.instruments import with_state
from laicai.sim.ledger import total_equity_usdt, usdt_margin
from laicai.sim.server.views import order, s

if TYPE_CHECKING:
    from laicai.sim.server.app import SimServer


class BadControl(ValueError):
    """A control request with a bad field; answered 400 with the field named."""


def _ok(data: Any) -> web.Response:
    return web.Response(text=json.dumps(data, default=str), content_type="application/json")


def _dec(body: dict[str, Any], key: str) -> Decimal | None:
    v = body.get(key)
    if v is None or v == "":
        return None
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        raise BadControl(f"{key}: not a number: {v!r}") from None
    if not d.is_finite():
        raise BadControl(f"{key}: must be finite")
    return d


def state(server: SimServer) -> dict[str, Any]:
    ex = server.exchange
    ex.sync()
    clock = ex.clock
    insts = {}
    for inst_id, inst in sorted(ex.instruments.items()):
        bid, ask = ex.touch(inst_id)
        row: dict[str, Any] = {"instType": inst.inst_type, "state": inst.state,
                               "markPx": s(ex.mark_px(inst_id)), "bidPx": s(bid),
                               "askPx": s(ask)}
        if inst.is_swap:
            row.update(fundingRate=s(ex.funding_rate(inst_id)),
                       nextFundingTime=ex.next_funding_ms[inst_id],
                       fundingIntervalHours=ex.interval_hours(inst_id))
        insts[inst_id] = row
    accounts = {}
    for name, a in ex.accounts.items():
        pool = usdt_margin(ex, a)
        accounts[name] = {
            "uid": a.uid, "acctLv": a.acct_lv, "feeTier": a.fee_tier,
            "equityUsdt": s(total_equity_usdt(ex, a)),
            "usdtMargin": {"equity": s(pool.equity), "imr": s(pool.imr), "mmr": s(pool.mmr),
                           "availEq": s(pool.avail_eq), "mgnRatio": s(pool.mgn_ratio)},
            "trading": {c: {"cash": s(b.cash), "liab": s(b.liab), "interest": s(b.interest),
                            "frozen": s(b.frozen)} for c, b in sorted(a.trading.items())},
            "funding": {c: s(v) for c, v in sorted(a.funding.items())},
            "savings": {c: s(v) for c, v in sorted(a.savings.items())},
            "redemptions": [{"ccy": r.ccy, "amt": s(r.amt), "dueMs": r.due_ms}
                            for r in a.redemptions],
            "positions": {p.inst_id: {"pos": s(p.pos), "avgPx": s(p.avg_px),
                                      "mgnMode": p.mgn_mode, "margin": s(p.margin),
                                      "fundingFee": s(p.funding_fee)}
                          for p in a.positions.values() if p.pos != 0},
            "openOrders": len(a.open_orders), "orders": len(a.orders), "bills": len(a.bills),
        }
    return {
        "nowMs": clock.now_ms(),
        "clock": {"kind": type(clock).__name__,
                  "speed": clock.speed if isinstance(clock, ScaledClock) else None},
        "seed": ex.seed, "requests": server.request_count,
        "errors": dict(server.error_counts), "instruments": insts,
        "accounts": accounts, "faults": [f.to_json() for f in ex.faults.faults],
        "ws": server.ws.stats(),
    }


def install(server: SimServer) -> None:
    ex = server.exchange

    async def body_of(request: web.Request) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        try:
            data = await request.json()
        except json.JSONDecodeError as e:
            raise BadControl(f"body is not JSON: {e}") from None
        if not isinstance(data, dict):
            raise BadControl("body must be a JSON object")
        return data

    def guarded(fn: Any) -> Any:
        async def handler(request: web.Request) -> web.Response:
            try:
                resp: web.Response = await fn(request)
                return resp
            except (BadControl, ValueError, KeyError) as e:
                return web.Response(status=400, text=json.dumps({"error": str(e)}),
                                    content_type="application/json")
        return handler

    async def get_state(request: web.Request) -> web.Response:
        return _ok(state(server))

    async def post_clock(request: web.Request) -> web.Response:
        b = await body_of(request)
        clock = ex.clock
        if "speed" in b:
            if not isinstance(clock, ScaledClock):
                raise BadControl("speed: this simulator runs on a manual clock")
            clock.set_speed(float(b["speed"]))
        if "advance_ms" in b:
            step = int(b["advance_ms"])
            if isinstance(clock, (ManualClock, ScaledClock)):
                clock.advance(step)
            else:  # pragma: no cover - only our two clocks exist
                raise BadControl("advance_ms: clock cannot be advanced")
        if "set_ms" in b:
            if not isinstance(clock, ManualClock):
                raise BadControl("set_ms: only a manual clock can be set")
            clock.set(int(b["set_ms"]))
        ex.sync()
        return _ok({"nowMs": clock.now_ms()})

    async def post_price(request: web.Request) -> web.Response:
        b = await body_of(request)
        coin = str(b.get("coin") or "")
        if not coin:
            raise BadControl("coin: required (e.g. BTC)")
        px = ex.set_price(coin, price=_dec(b, "price"), pct=_dec(b, "pct"))
        return _ok({"coin": coin, "indexPx": s(px)})

    async def post_funding(request: web.Request) -> web.Response:
        b = await body_of(request)
        inst_id = str(b.get("instId") or "")
        if not inst_id:
            raise BadControl("instId: required")
        ex.set_funding_rate(inst_id, _dec(b, "rate"))
        return _ok({"instId": inst_id, "fundingRate": s(ex.funding_rate(inst_id))})

    async def post_settle(request: web.Request) -> web.Response:
        b = await body_of(request)
        ids = ex.settle_funding_now(b.get("instId") or None)
        return _ok({"settled": ids})

    async def post_instrument(request: web.Request) -> web.Response:
        b = await body_of(request)
        inst = ex.instrument(str(b.get("instId") or ""))
        st = str(b.get("state") or "")
        if st not in ("live", "suspend", "preopen", "test"):
            raise BadControl("state: one of live, suspend, preopen, test")
        ex.instruments[inst.inst_id] = with_state(inst, st)
        return _ok({"instId": inst.inst_id, "state": st})

    async def post_fault(request: web.Request) -> web.Response:
        b = await body_of(request)
        known = set(Fault.__dataclass_fields__) - {"fired", "id"}
        unknown = set(b) - known
        if unknown:
            raise BadControl(f"unknown fault field(s): {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(sorted(known))}")
        if "ratio" in b:
            b["ratio"] = Decimal(str(b["ratio"]))
        fault = ex.faults.add(Fault(**b))
        if fault.kind == "ws_drop":
            await server.ws.apply_faults()  # drop the WebSocket connections right away
        return _ok(fault.to_json())

    async def get_orders(request: web.Request) -> web.Response:
        name = request.query.get("account", "main")
        acct = ex.accounts.get(name)
        if acct is None:
            raise BadControl(f"account: no account {name!r}; known: {', '.join(ex.accounts)}")
        return _ok([order(o) for o in acct.orders.values()])

    async def get_faults(request: web.Request) -> web.Response:
        return _ok([f.to_json() for f in ex.faults.faults])

    async def delete_faults(request: web.Request) -> web.Response:
        n = ex.faults.clear(request.query.get("kind"))
        return _ok({"cleared": n})

    r = server.app.router
    r.add_get("/sim/state", guarded(get_state))
    r.add_post("/sim/clock", guarded(post_clock))
    r.add_post("/sim/price", guarded(post_price))
    r.add_post("/sim/funding", guarded(post_funding))
    r.add_post("/sim/funding/settle", guarded(post_settle))
    r.add_post("/sim/instrument", guarded(post_instrument))
    r.add_post("/sim/faults", guarded(post_fault))
    r.add_get("/sim/faults", guarded(get_faults))
    r.add_get("/sim/orders", guarded(get_orders))
    r.add_delete("/sim/faults", guarded(delete_faults))
