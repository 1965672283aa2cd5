"""Instruments: USDT spot and USDT-margined linear swaps, loaded from ``public/instruments``
and kept by id for the conversions other reads need (a position's contracts -> base)."""

from __future__ import annotations

from laicai.domain.instrument import Instrument
from laicai.errors import ExchangeError
from laicai.venues.okx import parsing
from laicai.venues.okx.constants import INSTRUMENTS
from laicai.venues.okx.gateway import OkxGateway, gather_or_cancel


class OkxInstrumentProvider:
    def __init__(self, gateway: OkxGateway) -> None:
        self._gw = gateway
        self._by_id: dict[str, Instrument] = {}

    async def load(self) -> list[Instrument]:
        """Every USDT spot and USDT linear swap (live or not: ``Instrument.live`` says)."""
        spot, swap = await gather_or_cancel(
            self._gw.rows(INSTRUMENTS, {"instType": "SPOT"}, what="instruments SPOT"),
            self._gw.rows(INSTRUMENTS, {"instType": "SWAP"}, what="instruments SWAP"),
        )
        out = [i for i in map(parsing.instrument, [*spot, *swap]) if i is not None]
        self._by_id = {i.inst_id: i for i in out}
        return out

    def cached(self, inst_id: str) -> Instrument | None:
        return self._by_id.get(inst_id)

    async def get(self, inst_id: str) -> Instrument:
        """``inst_id``'s instrument, loading the list once if it is not known yet."""
        found = self._by_id.get(inst_id)
        if found is None:
            await self.load()
            found = self._by_id.get(inst_id)
        if found is None:
            raise ExchangeError(f"OKX has no USDT spot or USDT swap instrument {inst_id!r}")
        return found
