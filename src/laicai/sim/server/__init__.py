"""The simulator's façade: OKX v5 REST and WebSocket over aiohttp, plus the /sim control API."""
