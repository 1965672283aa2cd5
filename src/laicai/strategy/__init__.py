"""WHAT to open: the opportunity model, pure functions over a :class:`MarketSnapshot`.

No I/O, no clock (``now_ms`` is passed in), no third-party imports: only :mod:`laicai.domain`
and the standard library. Settings arrive as a frozen :class:`ScanParams`.

- :mod:`.slippage` walks an L2 book: VWAP, slippage, or insufficient depth;
- :mod:`.sizing` turns capital into a base quantity both legs can hold exactly;
- :mod:`.costs` prices the round trip: fees, slippage, spread (basis);
- :mod:`.opportunity` holds the candidate value, its reject reasons and the APR arithmetic;
- :mod:`.scanner` judges and ranks every candidate: :func:`find_opportunities`.
"""

from laicai.strategy.opportunity import Opportunity, RejectReason
from laicai.strategy.params import ScanParams
from laicai.strategy.scanner import ScanResult, book_requests, find_opportunities
from laicai.strategy.sizing import DynamicSizing
from laicai.strategy.snapshot import MarketSnapshot

__all__ = [
    "DynamicSizing",
    "MarketSnapshot",
    "Opportunity",
    "RejectReason",
    "ScanParams",
    "ScanResult",
    "book_requests",
    "find_opportunities",
]
