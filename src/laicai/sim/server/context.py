"""What a REST handler receives: the venue, the caller's account (private) and parameters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from laicai.sim.account import Account, ApiKey
from laicai.sim.errors import err
from laicai.sim.exchange import SimExchange


@dataclass(slots=True)
class Ctx:
    ex: SimExchange
    endpoint: str
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    account: Account | None = None
    api_key: ApiKey | None = None

    def param(self, name: str) -> str:
        """A query parameter (GET) or a field of a JSON object body (POST); "" if absent."""
        if name in self.query:
            return self.query[name]
        if isinstance(self.body, dict) and name in self.body:
            v = self.body[name]
            return "" if v is None else str(v)
        return ""

    def decimal(self, name: str, *, required: bool = True) -> Decimal | None:
        raw = self.param(name)
        if raw == "":
            if required:
                raise err("50014", param0=name)
            return None
        try:
            d = Decimal(raw)
        except InvalidOperation:
            raise err("51000", param0=name) from None
        if not d.is_finite() or d <= 0:
            raise err("51000", param0=name)
        return d

    @property
    def acct(self) -> Account:
        assert self.account is not None, "private endpoint without an authenticated account"
        return self.account


Handler = Callable[[Ctx], list[dict[str, Any]]]
