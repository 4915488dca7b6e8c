from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.keys import cache_key, endpoint_pattern


def test_argument_order_does_not_change_the_key() -> None:
    a = cache_key("valuation", {"area": "northfield", "bedrooms": 2, "size_sqm": 75})
    b = cache_key("valuation", {"size_sqm": 75, "area": "northfield", "bedrooms": 2})
    assert a == b


def test_different_arguments_give_different_keys() -> None:
    assert cache_key("areas", {"listing_type": "buy"}) != cache_key(
        "areas", {"listing_type": "rent"}
    )
    assert cache_key("areas", {"listing_type": "buy"}) != cache_key(
        "property_types", {"listing_type": "buy"}
    )


def test_key_is_readable_by_endpoint_and_shares_a_slot_with_its_lock() -> None:
    key = cache_key("areas", {"listing_type": "buy"})
    assert key.key == f"cachewatch:v1:areas:{{{key.digest}}}"
    assert key.lock.startswith(key.key)
    assert len(key.digest) == 32


@given(st.text(min_size=1, max_size=200))
def test_no_user_input_appears_in_a_key(value: str) -> None:
    key = cache_key("valuation", {"area": value})
    assert key.key.startswith("cachewatch:v1:valuation:{")
    assert set(key.digest) <= set("0123456789abcdef")


def test_endpoint_pattern_matches_only_that_endpoint() -> None:
    assert endpoint_pattern("areas") == "cachewatch:v1:areas:*"
