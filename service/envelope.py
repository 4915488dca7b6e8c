"""The stored form of a cache entry: a small header, then the response body as sent.

    raw = pack(body=b'{"a":1}', created=1700000000.0, ttl=300, delta=0.42)
    entry = unpack(raw)        # Entry(created=..., ttl=300, delta=0.42, body=b'{"a":1}')

The header carries what the cache needs without parsing the body: when the
entry was computed (its age, its logical expiry) and how long the computation
took (for XFetch early refresh). A hit sends `body` as it is.
"""

from __future__ import annotations

import math
import struct
from typing import NamedTuple

MAGIC = b"CW1"
_HEADER = struct.Struct("<3sdIf")  # magic, created (unix s), ttl (s), delta (s)


class CorruptEntry(ValueError):
    """Bytes under a cachewatch key that are not an entry cachewatch wrote."""


class Entry(NamedTuple):
    created: float
    ttl: int
    delta: float
    body: bytes

    def age(self, now: float) -> float:
        return max(0.0, now - self.created)

    def fresh(self, now: float) -> bool:
        return now < self.created + self.ttl


def pack(body: bytes, created: float, ttl: int, delta: float) -> bytes:
    return _HEADER.pack(MAGIC, created, ttl, delta) + body


def unpack(raw: bytes) -> Entry:
    if len(raw) < _HEADER.size:
        raise CorruptEntry("entry shorter than its header")
    magic, created, ttl, delta = _HEADER.unpack_from(raw)
    if magic != MAGIC or not (0 < created < math.inf and 0 <= delta < math.inf):
        raise CorruptEntry("not a cachewatch entry")
    return Entry(created, ttl, delta, raw[_HEADER.size :])
