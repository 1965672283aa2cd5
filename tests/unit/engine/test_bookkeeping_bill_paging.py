"""The adapter's bill paging against a scripted gateway: what it asks for, when it stops, and
that an answer walking the wrong way is refused instead of looping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from laicai.errors import ExchangeError
from laicai.venues.okx.account import OkxAccountReads


def row(bill_id: int) -> dict[str, str]:
    return {"billId": str(bill_id), "ccy": "USDT", "type": "8", "subType": "174",
            "balChg": "1", "ts": str(1_700_000_000_000 + bill_id), "pnl": "1"}


class Gateway:
    """Answers like OKX: newest first, ``after`` = older than, ``limit`` rows at most."""

    def __init__(self, ids: list[int], *, broken: bool = False) -> None:
        self.ids = sorted(ids, reverse=True)
        self.broken = broken
        self.asked: list[dict[str, str]] = []

    async def rows(self, path: str, params: Mapping[str, str] | None = None, *,
                   private: bool = False, what: str | None = None) -> list[dict[str, Any]]:
        assert path == "account/bills" and private
        p = dict(params or {})
        self.asked.append(p)
        after = int(p["after"]) if "after" in p else None
        older = [i for i in self.ids if after is None or i < after or self.broken]
        return [row(i) for i in older[: int(p["limit"])]]


def reads(gw: Gateway) -> OkxAccountReads:
    return OkxAccountReads(gw, None)  # type: ignore[arg-type]  # bills need no instruments


async def test_walks_back_with_after_and_stops_at_the_cursor() -> None:
    gw = Gateway(list(range(101, 131)))
    got = await reads(gw).bills(newer_than="110", page_size=8, bill_type="8", begin_ms=5)
    assert [b.bill_id for b in got] == [str(i) for i in range(111, 131)]
    assert [p.get("after") for p in gw.asked] == [None, "123", "115"]
    assert all(p["type"] == "8" and p["begin"] == "5" and p["limit"] == "8"
               and "before" not in p for p in gw.asked)


async def test_a_page_that_does_not_go_older_is_refused() -> None:
    with pytest.raises(ExchangeError, match="older than"):
        await reads(Gateway(list(range(1, 30)), broken=True)).bills(page_size=5)
