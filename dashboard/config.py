"""The dashboard's configuration: every setting, read from the environment in one place.

    >>> config = DashboardConfig.from_env({"PROMETHEUS_URL": "http://prom:9090/"})
    >>> config.prometheus_url, config.port, config.prometheus_timeout
    ('http://prom:9090', 8050, 5.0)
    >>> DashboardConfig.from_env({"ROLLOUT_START": "2025-11-20T09:00:00Z"}).rollout_start
    datetime.datetime(2025, 11, 20, 9, 0, tzinfo=datetime.timezone.utc)

| variable | default | meaning |
|---|---|---|
| `PROMETHEUS_URL` | `http://localhost:9090` | the Prometheus that scrapes the service |
| `PROMETHEUS_TIMEOUT` | `5` | seconds one Prometheus query may take |
| `DASHBOARD_HOST` | `127.0.0.1` | the address to listen on (`0.0.0.0` in a container) |
| `DASHBOARD_PORT` | `8050` | the port to listen on |
| `ROLLOUT_START` | unset | ISO time the cache was rolled out; unset: the first sample |
| `DASHBOARD_REFRESH_SECONDS` | `30` | how often the pages reload their data |
| `TTL_REVIEW_DIR` | `$CACHEWATCH_STATE_DIR/ttl-review` | the TTL review's folder (as ttl-review) |
| `REDIS_URL` | `redis://127.0.0.1:6379/0` | the Redis whose events stream "Run review now" reads |

    >>> str(DashboardConfig.from_env({"CACHEWATCH_STATE_DIR": "/srv/state"}).ttl_review_dir)
    '/srv/state/ttl-review'
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from ttlreview.cli import DEFAULT_REDIS_URL, default_out_dir, default_redis_url


class ConfigError(ValueError):
    """A setting in the environment has a value the dashboard cannot use."""


def parse_time(raw: str, name: str = "ROLLOUT_START") -> datetime:
    """An ISO 8601 time; without a zone it is taken as UTC.

    >>> parse_time("2025-11-20 09:30")
    datetime.datetime(2025, 11, 20, 9, 30, tzinfo=datetime.timezone.utc)
    """
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ConfigError(
            f"{name} must be an ISO time like 2025-11-20T09:00:00Z, not {raw!r}"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, not {raw!r}")
    return value


@dataclasses.dataclass(frozen=True)
class DashboardConfig:
    """Where the data comes from and where the app listens."""

    prometheus_url: str = "http://localhost:9090"
    prometheus_timeout: float = 5.0
    host: str = "127.0.0.1"
    port: int = 8050
    rollout_start: datetime | None = None
    refresh_seconds: float = 30.0
    ttl_review_dir: Path = dataclasses.field(default_factory=lambda: default_out_dir({}))
    redis_url: str = DEFAULT_REDIS_URL

    def __post_init__(self) -> None:
        object.__setattr__(self, "prometheus_url", self.prometheus_url.rstrip("/"))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DashboardConfig:
        """Read every setting from `env` (default: os.environ)."""
        env = os.environ if env is None else env
        port = _positive(env, "DASHBOARD_PORT", cls.port)
        if port != int(port) or port > 65535:
            raise ConfigError(f"DASHBOARD_PORT must be a port number, not {port!r}")
        rollout = env.get("ROLLOUT_START", "").strip()
        review_dir = env.get("TTL_REVIEW_DIR", "").strip()
        return cls(
            prometheus_url=env.get("PROMETHEUS_URL", "").strip() or cls.prometheus_url,
            prometheus_timeout=_positive(env, "PROMETHEUS_TIMEOUT", cls.prometheus_timeout),
            host=env.get("DASHBOARD_HOST", "").strip() or cls.host,
            port=int(port),
            rollout_start=parse_time(rollout) if rollout else None,
            refresh_seconds=_positive(env, "DASHBOARD_REFRESH_SECONDS", cls.refresh_seconds),
            ttl_review_dir=Path(review_dir) if review_dir else default_out_dir(env),
            redis_url=default_redis_url(env),
        )
