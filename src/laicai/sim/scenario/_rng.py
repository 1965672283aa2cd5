"""Counter-based randomness: every draw is a pure function of (seed, key, index).

Nothing here depends on call order or on Python's per-process ``hash()`` salt, so a scenario
built twice from the same seed produces the same numbers in any process, queried in any order.
"""

from __future__ import annotations

import hashlib
from statistics import NormalDist

_STD_NORMAL = NormalDist()
_TWO_64 = float(2**64)


def derive_seed(*parts: object) -> int:
    """A 64-bit integer determined by ``parts`` (their ``str`` forms, in order)."""
    text = "\x1f".join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def counter_normal(*parts: object) -> float:
    """A standard-normal draw determined by ``parts``."""
    u = (derive_seed(*parts) + 0.5) / _TWO_64  # strictly inside (0, 1)
    return _STD_NORMAL.inv_cdf(u)
