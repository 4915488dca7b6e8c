from __future__ import annotations

import itertools
from collections import Counter

import pytest

from loadgen.catalog import Catalog
from loadgen.traffic import Mix, Traffic, zipf_weights


def test_mix_parses_weights_and_accepts_the_path_spelling() -> None:
    assert Mix.parse("valuation=8, property-types=1,areas=0.5").weights == {
        "valuation": 8.0,
        "property_types": 1.0,
        "areas": 0.5,
    }


@pytest.mark.parametrize("text", ["", "areas=0", "nope=1", "areas", "areas=x", "areas=-1"])
def test_mix_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError):
        Mix.parse(text)


def test_zipf_weights_fall_as_one_over_rank() -> None:
    assert zipf_weights(4, 1.0) == [1.0, 1 / 2, 1 / 3, 1 / 4]


def test_the_same_seed_gives_the_same_requests(catalog: Catalog) -> None:
    def first(seed: int) -> list[tuple[object, ...]]:
        return [r.key for r in itertools.islice(Traffic(catalog, seed=seed), 50)]

    assert first(1) == first(1)
    assert first(1) != first(2)


def test_realistic_requests_follow_popularity_and_stay_valid(catalog: Catalog) -> None:
    requests = list(itertools.islice(Traffic(catalog, Mix.parse("valuation=1"), seed=5), 4000))
    areas = Counter(r.params["area"] for r in requests if r.params)
    # Zipf: rank 1 is the most requested, and far more than the last rank.
    assert areas.most_common(1)[0][0] == "area0"
    assert areas["area0"] > 5 * areas["area19"]
    listing_types = Counter(r.key[-1] for r in requests)
    assert listing_types["buy"] > listing_types["rent"] > 0
    for r in requests:
        assert r.params is not None
        bedrooms, size = r.params["bedrooms"], r.params["size_sqm"]
        assert isinstance(bedrooms, int) and isinstance(size, int)
        assert (bedrooms == 0) == (r.params["property_type"] == "studio")
        assert 0 <= bedrooms <= 6 and 20 <= size <= 400 and size % 5 == 0
        assert r.path == "/api/property/valuation"


def test_valuations_come_from_a_pool_of_popular_queries(catalog: Catalog) -> None:
    traffic = Traffic(catalog, Mix.parse("valuation=1"), seed=2, queries=50)
    keys = Counter(r.key for r in itertools.islice(traffic, 3000))
    assert len(keys) <= 50
    # Zipf over the pool's ranks: the hottest query is asked far more than a typical one.
    counts = sorted(keys.values(), reverse=True)
    assert counts[0] > 5 * counts[len(counts) // 2]
    fresh = Traffic(catalog, Mix.parse("valuation=1"), seed=2, queries=0)
    assert len({r.key for r in itertools.islice(fresh, 3000)}) > 200


def test_the_mix_sets_the_endpoint_proportions(catalog: Catalog) -> None:
    traffic = Traffic(catalog, Mix.parse("valuation=2,areas=1,property_types=1"), seed=3)
    counts = Counter(r.endpoint for r in itertools.islice(traffic, 4000))
    assert counts["valuation"] == pytest.approx(2000, rel=0.1)
    assert counts["areas"] == pytest.approx(1000, rel=0.15)
    paths = {r.path for r in itertools.islice(traffic, 200) if r.endpoint != "valuation"}
    assert paths <= {
        f"/api/{e}/{lt}" for e in ("areas", "property-types") for lt in ("buy", "rent")
    }


def test_key_mode_cycles_through_exactly_n_distinct_keys(catalog: Catalog) -> None:
    traffic = Traffic(catalog, seed=9, keys=25)
    keys = [r.key for r in itertools.islice(traffic, 100)]
    assert len(set(keys)) == 25
    assert keys[:25] == keys[25:50] == keys[75:100]


def test_key_mode_refuses_more_keys_than_the_mix_can_give(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="fewer than 5"):
        Traffic(catalog, Mix.parse("areas=1"), seed=1, keys=5)
