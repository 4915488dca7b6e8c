"""The application factory.

    app = create_app()                                     # settings from the environment
    app = create_app(Settings.from_env().replace(redis_enabled=False))

Wires the database, the Redis store behind its circuit breaker, the metrics,
the cache and the blueprints. Under gunicorn each worker calls it once.
"""

from __future__ import annotations

import contextlib

from flask import Flask, Response, request
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from service import admin, api, db, errors, health, redis_client
from service.breaker import CircuitBreaker
from service.cache import Cache
from service.config import ENDPOINTS, Settings
from service.keys import PREFIX
from service.metrics import CacheMetrics
from service.near_cache import NearCache
from service.queries import Catalog
from service.redis_info import RedisInfoCollector
from service.sampling import Sampler
from service.store import RedisStore
from service.timing import RequestTimer
from service.tracking import Address

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
    # The near cache follows one server's invalidations; on Cluster and Sentinel, whose
    # nodes change, it is off.
    near = (
        NearCache(
            settings.near_cache_size,
            Address.from_kwargs(
                client.connection_pool.connection_kwargs, settings.redis_connect_timeout
            ),
            [f"{PREFIX}:{name}:" for name in ENDPOINTS],
        )
        if settings.near_cache_size > 0
        and settings.redis_enabled
        and topology.kind == redis_client.SINGLE
        else None
    )
    Cache(settings, store, metrics, sampler, near).init_app(app)
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
    app.wsgi_app = RequestTimer(app, metrics.request_seconds)  # type: ignore[method-assign]
    if settings.metrics_port is None:
        return
    private_port = str(settings.metrics_port)

    @app.before_request
    def _private() -> Response | None:
        if (
            request.path.startswith(_PRIVATE_PREFIXES)
            and request.environ.get("SERVER_PORT") != private_port
        ):
            return errors.error_response(404, "not found")
        return None
