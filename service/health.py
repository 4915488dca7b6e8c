"""Liveness, readiness and the metrics endpoint.

- `/healthz`: the process answers.
- `/readyz`: the database and Redis, each with what is wrong; 503 only when the
  database is down (without Redis the service still serves, uncached).
- `/metrics`: every worker's metrics (multiprocess mode) plus Redis `INFO`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service.cache import EXTENSION, Cache
from service.metrics import all_workers
from service.redis_info import RedisInfoCollector

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


def _database() -> dict[str, Any]:
    try:
        with current_app.extensions["cachewatch.engine"].connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001 - readiness reports any failure
        return {"ok": False, "error": type(exc).__name__ + ": " + str(exc).splitlines()[0][:200]}


def _redis(cache: Cache) -> dict[str, Any]:
    if not cache.enabled:
        return {"ok": False, "enabled": False, "error": "caching disabled (REDIS_ENABLED=false)"}
    try:
        cache.store.client.ping()
        return {"ok": True, "enabled": True, "circuit": cache.store.breaker.state}
    except Exception as exc:  # noqa: BLE001
        message = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return {
            "ok": False,
            "enabled": True,
            "circuit": cache.store.breaker.state,
            "error": f"{type(exc).__name__}: {message}",
        }


@bp.get("/readyz")
def readyz() -> Response:
    cache: Cache = current_app.extensions[EXTENSION]
    database, redis = _database(), _redis(cache)
    status = "ready" if database["ok"] and redis["ok"] else "degraded" if database["ok"] else "down"
    response = jsonify(status=status, database=database, redis=redis)
    response.status_code = 200 if database["ok"] else 503
    return response


@bp.get("/metrics")
def metrics() -> Response:
    registry = all_workers(current_app.extensions[EXTENSION].metrics.registry)
    collector: RedisInfoCollector = current_app.extensions["cachewatch.redis_info"]
    registry.register(collector)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
