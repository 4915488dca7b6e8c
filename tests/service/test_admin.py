"""The admin API: closed without a token, 401 and 403 as specified, and what it does."""

from __future__ import annotations

import redis
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry

from service.app import create_app
from service.config import Settings
from service.keys import cache_key
from tests.service.conftest import TOKEN
from tests.support.procs import RedisServer

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_closed_when_no_token_is_configured(settings: Settings) -> None:
    client = create_app(
        settings.replace(admin_token=None), registry=CollectorRegistry()
    ).test_client()
    for method, url in [("get", "/api/admin/cache/stats"), ("delete", "/api/admin/cache/areas"),
                        ("post", "/api/admin/cache/warm")]:  # fmt: skip
        response = getattr(client, method)(url, headers=AUTH)
        assert response.status_code == 404
        assert "CACHEWATCH_ADMIN_TOKEN" in response.get_json()["error"]["message"]


def test_401_without_credentials_403_with_wrong_ones(client: FlaskClient) -> None:
    assert client.get("/api/admin/cache/stats").status_code == 401
    assert client.get("/api/admin/cache/stats", headers={"Authorization": TOKEN}).status_code == 401
    assert (
        client.get("/api/admin/cache/stats", headers={"Authorization": "Basic x"}).status_code
        == 401
    )
    wrong = client.get("/api/admin/cache/stats", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    assert TOKEN not in wrong.get_data(as_text=True)


def test_stats_per_endpoint(client: FlaskClient) -> None:
    client.get("/api/areas/buy")
    client.get("/api/areas/buy")
    client.get("/api/areas/buy")
    stats = client.get("/api/admin/cache/stats", headers=AUTH).get_json()
    areas = stats["endpoints"]["areas"]
    assert (areas["hits"], areas["misses"], areas["hit_ratio"]) == (2, 1, 0.6667)
    assert areas["keys"] == 1 and areas["memory_bytes"] > 1000
    assert areas["ttl_seconds"] == 3600
    assert stats["endpoints"]["valuation"]["hit_ratio"] is None


def test_invalidate_deletes_only_that_endpoint(
    client: FlaskClient, redis_server: RedisServer
) -> None:
    client.get("/api/areas/buy")
    client.get("/api/areas/rent")
    client.get("/api/property-types/buy")
    r = redis.Redis.from_url(redis_server.url)
    response = client.delete("/api/admin/cache/areas", headers=AUTH)
    assert response.get_json() == {"endpoint": "areas", "deleted": 2}
    assert r.exists(cache_key("property_types", {"listing_type": "buy"}).key) == 1
    assert client.get("/api/areas/buy").headers["X-Cache"] == "MISS"
    assert client.delete("/api/admin/cache/nope", headers=AUTH).status_code == 404


def test_warm_precomputes_the_lists(client: FlaskClient) -> None:
    warmed = client.post("/api/admin/cache/warm", headers=AUTH).get_json()["warmed"]
    assert set(warmed) == {"areas/buy", "areas/rent", "property_types/buy", "property_types/rent"}
    assert client.get("/api/areas/rent").headers["X-Cache"] == "HIT"
    assert client.get("/api/property-types/buy").headers["X-Cache"] == "HIT"


def test_add_listing_changes_the_data(client: FlaskClient, app: Flask) -> None:
    before = client.get("/api/property-types/rent").get_json()
    body = {"area": "northfield", "property_type": "flat", "listing_type": "rent", "price": 1500,
            "size_sqm": 60, "bedrooms": 2}  # fmt: skip
    assert client.post("/api/listings", json=body).status_code == 401
    created = client.post("/api/listings", json=body, headers=AUTH)
    assert created.status_code == 201
    bad = client.post("/api/listings", json={**body, "price": "lots"}, headers=AUTH)
    assert (bad.status_code, bad.get_json()["error"]["field"]) == (400, "price")
    client.delete("/api/admin/cache/property_types", headers=AUTH)
    after = client.get("/api/property-types/rent").get_json()
    count = {t["property_type"]: t["listings"] for t in after["property_types"]}
    old = {t["property_type"]: t["listings"] for t in before["property_types"]}
    assert count["flat"] == old["flat"] + 1
