"""The engine: the only path from market data to decisions and orders, in every world."""
