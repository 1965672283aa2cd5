"""Venues: the Exchange port and its adapters (ccxt-OKX for live/paper; the in-process
simulator for backtests)."""
