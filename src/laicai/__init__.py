"""laicai (来财): funding-rate arbitrage engine for OKX."""

__version__ = "0.1.0"
