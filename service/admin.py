"""The operators' API, closed unless CACHEWATCH_ADMIN_TOKEN is set.

    curl -H "Authorization: Bearer $CACHEWATCH_ADMIN_TOKEN" localhost:8000/api/admin/cache/stats
    DELETE /api/admin/cache/<endpoint>   invalidate one endpoint (SCAN + UNLINK, never KEYS)
    POST   /api/admin/cache/warm         precompute the area and property-type lists

No token configured: 404 (the API does not exist). No or malformed header: 401.
Wrong token: 403. Tokens are compared in constant time and never logged.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from redis.exceptions import RedisClusterException, RedisError

from service.cache import EXTENSION, Cache
from service.config import ENDPOINTS
from service.db import LISTING_TYPES
from service.errors import ApiError
from service.keys import endpoint_pattern
from service.metrics import all_workers
from service.store import ReplyError, Unavailable

bp = Blueprint("admin", __name__, url_prefix="/api/admin")

_MEMORY_SAMPLE = 200


def require_admin(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token: str | None = current_app.config["CACHEWATCH_SETTINGS"].admin_token
        if not token:
            raise ApiError(404, "the admin API is off: set CACHEWATCH_ADMIN_TOKEN to enable it")
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given:
            raise ApiError(401, "an Authorization: Bearer <token> header is required")
        if not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise ApiError(403, "the token is not valid")
        return view(*args, **kwargs)

    return wrapper


def _counts(cache: Cache) -> dict[str, dict[str, float]]:
    """Hits and misses per endpoint since start, over every worker."""
    families = all_workers(cache.metrics.registry).collect()
    counts = {name: {"hits": 0.0, "misses": 0.0, "bypasses": 0.0} for name in ENDPOINTS}
    kinds = {
        "cachewatch_cache_hits_total": "hits",
        "cachewatch_cache_misses_total": "misses",
        "cachewatch_cache_bypass_total": "bypasses",
    }
    for family in families:
        for sample in family.samples:
            kind = kinds.get(sample.name)
            if kind and sample.labels.get("endpoint") in counts:
                counts[sample.labels["endpoint"]][kind] += sample.value
    return counts


def _keys_and_memory(cache: Cache, endpoint: str) -> dict[str, Any]:
    try:
        keys = [k for k in cache.store.scan(endpoint_pattern(endpoint)) if not k.endswith(":lock")]
        sample = keys[:_MEMORY_SAMPLE]
        sizes = [cache.store.client.memory_usage(k) or 0 for k in sample]
    except (Unavailable, ReplyError, OSError, RedisError, RedisClusterException) as exc:
        return {"keys": None, "memory_bytes": None, "error": str(exc)}
    estimate = int(sum(sizes) / len(sizes) * len(keys)) if sizes else 0
    return {
        "keys": len(keys),
        "memory_bytes": estimate,
        "memory_estimated": len(keys) > len(sample),
    }


@bp.get("/cache/stats")
@require_admin
def stats() -> Response:
    cache: Cache = current_app.extensions[EXTENSION]
    out = {}
    for name, c in _counts(cache).items():
        lookups = c["hits"] + c["misses"]
        out[name] = {
            **{k: int(v) for k, v in c.items()},
            "hit_ratio": round(c["hits"] / lookups, 4) if lookups else None,
            "ttl_seconds": cache.settings.ttl[name],
            **_keys_and_memory(cache, name),
        }
    return jsonify(enabled=cache.enabled, circuit=cache.store.breaker.state, endpoints=out)


@bp.delete("/cache/<endpoint>")
@require_admin
def invalidate(endpoint: str) -> Response:
    if endpoint not in ENDPOINTS:
        raise ApiError(404, f"unknown endpoint: expected one of {', '.join(ENDPOINTS)}", "endpoint")
    cache: Cache = current_app.extensions[EXTENSION]
    deleted, batch = 0, []
    try:
        for key in cache.store.scan(endpoint_pattern(endpoint)):
            batch.append(key)
            if len(batch) >= 500:
                deleted += cache.store.unlink(batch)
                batch = []
        deleted += cache.store.unlink(batch)
    except (Unavailable, ReplyError) as exc:
        raise ApiError(503, f"Redis is unavailable: {exc}") from exc
    if cache.sampler is not None:
        cache.sampler.event(endpoint, "*", "invalidate")
    return jsonify(endpoint=endpoint, deleted=deleted)


def warm_all(cache: Cache) -> dict[str, int]:
    """Compute and store the area and property-type lists for every listing type."""
    from service import api

    sizes = {}
    for lt in LISTING_TYPES:
        sizes[f"areas/{lt}"] = cache.warm("areas", {"listing_type": lt}, api.compute_area_stats)
        sizes[f"property_types/{lt}"] = cache.warm(
            "property_types", {"listing_type": lt}, api.compute_property_type_stats
        )
    return sizes


@bp.post("/cache/warm")
@require_admin
def warm() -> Response:
    cache: Cache = current_app.extensions[EXTENSION]
    return jsonify(warmed=warm_all(cache))
