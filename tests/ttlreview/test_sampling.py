from __future__ import annotations

import hashlib

import numpy as np

from ttlreview.sampling import hash_fractions, is_sampled, key_hash, key_hashes, subsample_group


def test_key_hash_is_the_contract_formula() -> None:
    digest = hashlib.blake2b(b"valuation:0af3", digest_size=8).hexdigest()
    assert key_hash("valuation", "0af3") == int(digest, 16)
    assert is_sampled("valuation", "0af3", 0.3) == (int(digest, 16) / 2**64 < 0.3)


def test_vectorized_hashes_match_and_agree_with_is_sampled() -> None:
    endpoints = ["areas", "valuation", "property_types"] * 100
    keys = [f"k{i}" for i in range(300)]
    hashes = key_hashes(endpoints, keys)
    assert [int(h) for h in hashes] == [
        key_hash(e, k) for e, k in zip(endpoints, keys, strict=True)
    ]
    kept = hash_fractions(hashes) < 0.25
    assert kept.tolist() == [is_sampled(e, k, 0.25) for e, k in zip(endpoints, keys, strict=True)]


def test_rate_keeps_that_share_of_keys_and_rate_one_keeps_all() -> None:
    keys = [f"key-{i}" for i in range(20_000)]
    share = np.mean([is_sampled("valuation", k, 0.1) for k in keys])
    assert 0.09 < share < 0.11
    assert all(is_sampled("valuation", k, 1.0) for k in keys[:500])


def test_samples_nest_and_groups_split_the_hash_space_evenly() -> None:
    keys = [f"key-{i}" for i in range(20_000)]
    small = {k for k in keys if is_sampled("areas", k, 0.05)}
    large = {k for k in keys if is_sampled("areas", k, 0.2)}
    assert small < large
    groups = np.bincount([subsample_group(key_hash("areas", k), 20) for k in keys], minlength=20)
    assert groups.min() > 850 and groups.max() < 1150
