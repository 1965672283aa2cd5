"""Domain values: what the strategy, risk and engine reason about, free of any venue's shapes.

Frozen dataclasses with Decimal money and units in names (``ts_ms``, ``notional_usdt``). No I/O,
no clock, no third-party imports.
"""
