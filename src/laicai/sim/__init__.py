"""OKX v5 simulator: a deterministic core plus an HTTP/WebSocket façade that speaks OKX."""
