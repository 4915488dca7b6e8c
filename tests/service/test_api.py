"""The three endpoints: answers, the cache headers, and bad input that never reaches the cache."""

from __future__ import annotations

import redis
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from tests.service.conftest import sample
from tests.support.procs import RedisServer

VALUATION = "/api/property/valuation?area=northfield&property_type=flat&bedrooms=2&size_sqm=75"


def test_miss_then_hit_with_the_same_body(client: FlaskClient) -> None:
    first = client.get("/api/areas/buy")
    second = client.get("/api/areas/buy")
    assert (first.status_code, first.headers["X-Cache"]) == (200, "MISS")
    assert (second.status_code, second.headers["X-Cache"]) == (200, "HIT")
    assert first.data == second.data
    body = first.get_json()
    assert body["listing_type"] == "buy"
    assert body["count"] == len(body["areas"]) >= 100
    assert {"area", "listings", "price_mean", "price_min", "price_max"} <= set(body["areas"][0])


def test_property_types_per_listing_type(client: FlaskClient) -> None:
    buy = client.get("/api/property-types/buy").get_json()
    rent = client.get("/api/property-types/rent").get_json()
    assert len(buy["property_types"]) >= 8
    buy_flat = next(t for t in buy["property_types"] if t["property_type"] == "flat")
    rent_flat = next(t for t in rent["property_types"] if t["property_type"] == "flat")
    assert buy_flat["price_mean"] > 20 * rent_flat["price_mean"]


def test_valuation_estimate_with_range_and_comparables(client: FlaskClient) -> None:
    body = client.get(VALUATION).get_json()
    assert body["comparables"] >= 5
    assert body["range"]["low"] <= body["estimate"] <= body["range"]["high"]


def test_argument_order_and_spelling_share_one_entry(client: FlaskClient) -> None:
    client.get(VALUATION)
    again = client.get(
        "/api/property/valuation?size_sqm=75.2&bedrooms=2&property_type=FLAT&area=Northfield"
    )
    assert again.headers["X-Cache"] == "HIT"


def test_bad_input_is_a_json_4xx_naming_the_field(client: FlaskClient) -> None:
    cases = {
        "/api/areas/sell": (404, "listing_type"),
        "/api/property-types/x": (404, "listing_type"),
        "/api/property/valuation?property_type=flat&bedrooms=2&size_sqm=75": (400, "area"),
        "/api/property/valuation?area=nowhere&property_type=flat&bedrooms=2&size_sqm=75": (
            404,
            "area",
        ),
        "/api/property/valuation?area=northfield&property_type=castle&bedrooms=2&size_sqm=75": (
            404,
            "property_type",
        ),
        "/api/property/valuation?area=northfield&property_type=flat&bedrooms=two&size_sqm=75": (
            400,
            "bedrooms",
        ),
        "/api/property/valuation?area=northfield&property_type=flat&bedrooms=-1&size_sqm=75": (
            400,
            "bedrooms",
        ),
        "/api/property/valuation?area=northfield&property_type=flat&bedrooms=2&size_sqm=1e9": (
            400,
            "size_sqm",
        ),
        "/api/property/valuation?area=northfield&property_type=flat&bedrooms=2&size_sqm=inf": (
            400,
            "size_sqm",
        ),
        VALUATION + "&area=eastgate": (
            400,
            "area",
        ),
    }
    for url, (status, field) in cases.items():
        response = client.get(url)
        assert response.status_code == status, url
        assert response.get_json()["error"]["field"] == field, url
        assert "X-Cache" not in response.headers


def test_bad_input_touches_no_key_and_no_counter(
    client: FlaskClient, redis_server: RedisServer, registry: CollectorRegistry
) -> None:
    client.get("/api/areas/nope")
    client.get("/api/property/valuation?area=x&property_type=flat&bedrooms=2&size_sqm=75")
    assert redis.Redis.from_url(redis_server.url).dbsize() == 0
    for name in (
        "cachewatch_cache_hits_total",
        "cachewatch_cache_misses_total",
        "cachewatch_cache_bypass_total",
    ):
        assert sample(registry, name) == 0


def test_unknown_routes_and_methods_are_json(client: FlaskClient) -> None:
    assert client.get("/nope").get_json()["error"]["status"] == 404
    assert client.post("/api/areas/buy").get_json()["error"]["status"] == 405


_text = st.text(max_size=80)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    area=_text,
    property_type=_text,
    bedrooms=st.one_of(_text, st.integers(-5, 50).map(str), st.floats(allow_nan=True).map(str)),
    size=st.one_of(_text, st.floats(allow_nan=True, allow_infinity=True).map(str)),
    listing_type=st.one_of(st.none(), _text, st.sampled_from(["buy", "rent"])),
)
def test_any_valuation_query_is_2xx_or_a_json_4xx(
    client: FlaskClient,
    registry: CollectorRegistry,
    area: str,
    property_type: str,
    bedrooms: str,
    size: str,
    listing_type: str | None,
) -> None:
    query = {"area": area, "property_type": property_type, "bedrooms": bedrooms, "size_sqm": size}
    if listing_type is not None:
        query["listing_type"] = listing_type
    response = client.get("/api/property/valuation", query_string=query)
    assert response.status_code in (200, 400, 404)
    assert response.is_json
    if response.status_code != 200:
        assert "field" in response.get_json()["error"]
    endpoints = {
        s.labels["endpoint"]
        for f in registry.collect()
        for s in f.samples
        if s.name.startswith("cachewatch_http_request_duration_seconds")
    }
    assert endpoints <= {
        "areas",
        "property_types",
        "valuation",
        "other",
        "healthz",
        "readyz",
        "admin",
    }


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(min_size=1, max_size=100).filter(lambda s: "/" not in s and s not in (".", "..")))
def test_any_listing_type_path_is_200_or_404(client: FlaskClient, segment: str) -> None:
    response = client.get(f"/api/areas/{segment}")
    assert response.status_code in (200, 404)
    assert response.is_json
