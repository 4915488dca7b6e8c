"""SHARDS-style spatial sampling of cache keys (Waldspurger et al., FAST 2015).

A key is sampled iff its hash, read as a fraction of 2**64, is below the rate, so
every request of a sampled key is kept and the sampled keys are a uniform random
subset of all keys. `key_hash` and `is_sampled` are the service's own
(service/sampling.py); the review re-applies them to make a trace sampled at
several rates consistent.

    >>> key_hash("valuation", "ab12")
    11074123793664576186
    >>> is_sampled("valuation", "ab12", 0.7), is_sampled("valuation", "ab12", 0.5)
    (True, False)
    >>> subsample_group(key_hash("valuation", "ab12"), 20)
    6

Sub-samples for confidence intervals split the hash space further: the hash
modulo K puts each key in one of K groups, independent of the sampling test,
which reads the hash's high bits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

from service.sampling import is_sampled, key_hash

__all__ = ["is_sampled", "key_hash", "key_hashes", "subsample_group"]

_SCALE = float(2**64)


def subsample_group(hash_value: int, groups: int) -> int:
    """The sub-sample (0..groups-1) a key with this hash belongs to."""
    return hash_value % groups


def key_hashes(endpoints: Iterable[str], keys: Iterable[str]) -> np.ndarray:
    """``key_hash`` of many keys at once, as a uint64 array."""
    blake = hashlib.blake2b
    return np.fromiter(
        (
            int.from_bytes(blake(f"{e}:{k}".encode(), digest_size=8).digest(), "big")
            for e, k in zip(endpoints, keys, strict=True)
        ),
        dtype=np.uint64,
    )


def hash_fractions(hashes: np.ndarray) -> np.ndarray:
    """Hashes as fractions of 2**64 in [0, 1), to compare with a rate."""
    return hashes.astype(np.float64) / _SCALE
