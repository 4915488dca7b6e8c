"""Access: the admin API is closed without a token, answers 401/403 as specified, never logs a
token, and `/metrics` with the admin API can live on a port of their own (under gunicorn).

The docker-compose checks (Redis not published, Grafana without a default
password, Dash without debug) belong to tests/monitoring/test_compose.py.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import orjson
import pytest
import redis

from tests.faults.conftest import running
from tests.faults.figures import Figures
from tests.support.procs import RedisServer, ServiceProcess, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

TOKEN = "s3cret-admin-token-for-the-fault-suite-9f2c"
WRONG = "not-the-token-but-close-9f2d"
ADMIN = [
    ("GET", "/api/admin/cache/stats"),
    ("DELETE", "/api/admin/cache/areas"),
    ("POST", "/api/admin/cache/warm"),
]
#: Spellings of the private paths that a router or a client might normalize.
PRIVATE_SPELLINGS = [
    "/metrics",
    "//metrics",
    "/metrics/",
    "/%6detrics",
    "/./metrics",
    "/metrics?format=text",
    "/api/admin/cache/stats",
    "/api//admin/cache/stats",
    "/api/admin/cache/stats/",
    "/api/%61dmin/cache/stats",
    "/api/admin/../admin/cache/stats",
    "/API/ADMIN/cache/stats",
]


def raw(
    port: int, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request exactly as written (no client-side normalization), to 127.0.0.1."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _error_status(body: bytes) -> int | None:
    try:
        return int(orjson.loads(body)["error"]["status"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None


@pytest.fixture
def closed(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    with running(ServiceProcess(redis_server.url, workers=1)) as svc:
        yield svc


@pytest.fixture
def split(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    env = {"CACHEWATCH_ADMIN_TOKEN": TOKEN, "CACHEWATCH_METRICS_PORT": str(free_port())}
    with running(ServiceProcess(redis_server.url, workers=2, env=env)) as svc:
        yield svc


def test_admin_api_does_not_exist_without_a_token(closed: ServiceProcess) -> None:
    for method, path in [*ADMIN, ("POST", "/api/listings")]:
        status, headers, body = raw(closed.port, method, path, bearer(TOKEN))
        assert status == 404, (method, path, status)
        assert headers["Content-Type"].startswith("application/json")
        assert "CACHEWATCH_ADMIN_TOKEN" in orjson.loads(body)["error"]["message"]


def test_metrics_port_split_tokens_and_logs(
    split: ServiceProcess, redis_server: RedisServer, figures: Figures
) -> None:
    public = split.port
    private = int(split.extra_env["CACHEWATCH_METRICS_PORT"])
    # the public port: the API, and nothing private however it is spelled or whatever Host says
    assert raw(public, "GET", "/api/areas/buy")[0] == 200
    leaks: list[tuple[object, ...]] = []
    for path in PRIVATE_SPELLINGS:
        for headers in ({}, {"Host": f"127.0.0.1:{private}"}, {"X-Forwarded-Port": str(private)}):
            status, _, body = raw(public, "GET", path, {**headers, **bearer(TOKEN)})
            if status == 200 or b"cachewatch_cache_hits_total" in body or b'"endpoints"' in body:
                leaks.append((path, headers, status))
    for method, path in ADMIN:
        status, _, body = raw(public, method, path, bearer(TOKEN))
        if status != 404:
            leaks.append((path, method, status))
    # the private port: /metrics, and the admin API behind its token
    metrics_status, _, metrics_body = raw(private, "GET", "/metrics")
    answers = {
        "no header": raw(private, "GET", "/api/admin/cache/stats")[0],
        "no Bearer": raw(private, "GET", "/api/admin/cache/stats", {"Authorization": TOKEN})[0],
        "Basic": raw(private, "GET", "/api/admin/cache/stats", {"Authorization": "Basic eDp5"})[0],
        "empty Bearer": raw(private, "GET", "/api/admin/cache/stats", {"Authorization": "Bearer "})[
            0
        ],
        "wrong token": raw(private, "GET", "/api/admin/cache/stats", bearer(WRONG))[0],
        "token + 1 char": raw(private, "GET", "/api/admin/cache/stats", bearer(TOKEN + "x"))[0],
        "right token": raw(private, "GET", "/api/admin/cache/stats", bearer(TOKEN))[0],
        "right token, warm": raw(private, "POST", "/api/admin/cache/warm", bearer(TOKEN))[0],
    }
    wrong_body = raw(private, "GET", "/api/admin/cache/stats", bearer(WRONG))[2]
    # the token is nowhere: not in the log, not in Redis, not in what the service shows
    r = redis.Redis.from_url(redis_server.url)
    in_redis = [
        k
        for k in r.scan_iter("*")
        if TOKEN.encode() in k or (r.type(k) == b"string" and TOKEN.encode() in (r.get(k) or b""))
    ]
    shown = raw(private, "GET", "/readyz")[2] + metrics_body + wrong_body
    log = split.log()
    in_log = [t for t in (TOKEN, WRONG) if t in log]
    figures.record(
        "08-access",
        scenario="Admin API and /metrics on their own port (CACHEWATCH_METRICS_PORT), tokens",
        load=f"{len(PRIVATE_SPELLINGS)} spellings × 3 header sets on the public port; "
        "8 token variants on the metrics port",
        checked=(
            "public port: no 200 and no private data for any spelling, Host or X-Forwarded-Port;"
            " metrics port: /metrics 200, 401 without or with a malformed header, 403 with a "
            "wrong token, 200 with the right one; no token in the log, Redis, /readyz or /metrics"
        ),
        result=(
            f"{len(leaks)} leaks on the public port; metrics port: /metrics {metrics_status}, "
            + ", ".join(f"{k} {v}" for k, v in answers.items())
            + f"; token found in the log: {len(in_log)}, in Redis: {len(in_redis)}, "
            f"in responses: {int(TOKEN.encode() in shown)}"
        ),
        answers=answers,
    )
    assert not leaks, leaks
    assert metrics_status == 200 and b"cachewatch_cache_hits_total" in metrics_body
    assert answers == {
        "no header": 401,
        "no Bearer": 401,
        "Basic": 401,
        "empty Bearer": 401,
        "wrong token": 403,
        "token + 1 char": 403,
        "right token": 200,
        "right token, warm": 200,
    }
    assert _error_status(wrong_body) == 403
    assert not in_log and not in_redis
    assert TOKEN.encode() not in shown and WRONG.encode() not in shown
