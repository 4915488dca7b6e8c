from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.envelope import CorruptEntry, pack, unpack


@given(st.binary(max_size=2000), st.integers(1, 86400), st.floats(0, 100))
def test_round_trip(body: bytes, ttl: int, delta: float) -> None:
    entry = unpack(pack(body, 1_700_000_000.0, ttl, delta))
    assert entry.body == body
    assert entry.ttl == ttl
    assert entry.created == 1_700_000_000.0


def test_fresh_until_the_logical_ttl_runs_out() -> None:
    entry = unpack(pack(b"{}", 1000.0, 60, 0.1))
    assert entry.fresh(1059.9)
    assert not entry.fresh(1060.0)
    assert entry.age(1030.0) == 30.0


@pytest.mark.parametrize(
    "raw", [b"", b"{}", b"garbage that is long enough to hold a header", b"CW1" + b"\0" * 30]
)
def test_foreign_bytes_are_refused(raw: bytes) -> None:
    with pytest.raises(CorruptEntry):
        unpack(raw)
