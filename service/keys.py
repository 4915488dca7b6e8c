"""Cache keys: readable by endpoint, hashed over the canonical arguments.

    >>> cache_key("areas", {"listing_type": "buy"}) == cache_key("areas", {"listing_type": "buy"})
    True
    >>> cache_key("areas", {"listing_type": "buy"}).key.startswith("cachewatch:v1:areas:{")
    True

The digest sits in a Redis Cluster hash tag (`{…}`), so an entry and its
companion keys (its lock) always share one hash slot. No raw user input ever
appears in a key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import NamedTuple

import orjson

PREFIX = "cachewatch:v1"
EVENTS_STREAM = f"{PREFIX}:events"


class CacheKey(NamedTuple):
    endpoint: str
    digest: str
    key: str

    @property
    def lock(self) -> str:
        return f"{self.key}:lock"


def digest(params: Mapping[str, object]) -> str:
    """A stable digest of `params`: same mapping, any order, same digest."""
    canonical = orjson.dumps(params, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(canonical, digest_size=16).hexdigest()


def cache_key(endpoint: str, params: Mapping[str, object]) -> CacheKey:
    d = digest(params)
    return CacheKey(endpoint, d, f"{PREFIX}:{endpoint}:{{{d}}}")


def endpoint_pattern(endpoint: str) -> str:
    """The SCAN pattern that matches every entry and lock of `endpoint`."""
    return f"{PREFIX}:{endpoint}:*"
