"""The application factory.

    app = create_app()                                     # settings from the environment
    app = create_app(Settings.from_env().replace(redis_enabled=False))

Wires the database, the Redis store behind its circuit breaker, the metrics,
the cache and the blueprints. Under gunicorn each worker calls it once.
"""

from __future__ import annotations

import contextlib
import time

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from service import admin, api, db, errors, health, redis_client
from service.breaker import CircuitBreaker
from service.cache import Cache
from service.config import Settings
from service.metrics import CacheMetrics
from service.queries import Catalog
from service.redis_info import RedisInfoCollector
from service.sampling import Sampler
from service.store import RedisStore

_ROUTE_LABELS = {"health.healthz": "healthz", "health.readyz": "readyz"}
_PRIVATE_PREFIXES = ("/metrics", "/api/admin")


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    registry: CollectorRegistry | None = None,
) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["CACHEWATCH_SETTINGS"] = settings
    app.json.sort_keys = False  # type: ignore[attr-defined]

    engine = engine or db.connect(
        settings.database_url,
        settings.database_connect_timeout,
        settings.database_statement_timeout,
    )
    if engine.dialect.name == "sqlite":
        db.ensure_seeded(engine, settings.seed_listings, settings.seed)
    app.extensions["cachewatch.engine"] = engine
    # Read the valid slugs now, so that a database failing later does not turn a
    # valuation that has a stale cached answer into a 503 (its check needs them).
    with contextlib.suppress(SQLAlchemyError):
        app.extensions["cachewatch.catalog"] = Catalog.load(engine)

    metrics = CacheMetrics(registry)
    topology = redis_client.connect(settings)
    client = topology.client
    breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_reset_seconds)
    store = RedisStore(client, breaker, metrics)
    sampler = (
        Sampler(store, settings.sample_rates, settings.ttl, settings.stream_maxlen, metrics)
        if any(settings.sample_rates.values())
        else None
    )
    Cache(settings, store, metrics, sampler).init_app(app)
    app.extensions["cachewatch.redis_info"] = RedisInfoCollector(
        topology.nodes,
        topology.db,
        settings.redis_info_cache_seconds,
        primaries_only=topology.primaries_only,
    )

    errors.register(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(admin.bp)
    _instrument(app, metrics, settings)
    return app


def _instrument(app: Flask, metrics: CacheMetrics, settings: Settings) -> None:
    """Time every request; keep /metrics and the admin API on their own port when asked."""

    @app.before_request
    def _start() -> Response | None:
        g.request_start = time.perf_counter()
        if (
            settings.metrics_port is not None
            and request.path.startswith(_PRIVATE_PREFIXES)
            and request.environ.get("SERVER_PORT") != str(settings.metrics_port)
        ):
            return errors.error_response(404, "not found")
        return None

    @app.after_request
    def _observe(response: Response) -> Response:
        start = g.get("request_start")
        if start is not None:
            endpoint = g.get("cache_endpoint")
            if endpoint is None:
                rule = request.endpoint or ""
                endpoint = _ROUTE_LABELS.get(
                    rule, "admin" if rule.startswith("admin.") else "other"
                )
            cache = g.get("cache_result", "none")
            status = f"{response.status_code // 100}xx"
            metrics.request_seconds.labels(endpoint, cache, status).observe(
                time.perf_counter() - start
            )
        return response
