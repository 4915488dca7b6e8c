"""The service's configuration: every setting, read from the environment in one place.

    >>> settings = Settings.from_env({"REDIS_URL": "redis://127.0.0.1:6380/0"})
    >>> settings.redis_url
    'redis://127.0.0.1:6380/0'
    >>> settings.ttl["valuation"]
    300

`.env.example` documents each variable; `Settings.from_env` is the only reader.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The cached endpoints, by cache name: the `endpoint` label of every metric.
ENDPOINTS = ("areas", "property_types", "valuation")

#: The rollout's TTLs in seconds, each overridable by CACHE_TTL_<NAME>.
DEFAULT_TTL = {"areas": 3600, "property_types": 3600, "valuation": 300}

#: Endpoints with only a handful of keys (one per listing type): sampled whole by default.
FEW_KEYS = ("areas", "property_types")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A setting in the environment has a value the service cannot use."""


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _number(env: Mapping[str, str], name: str, default: float, kind: type = float) -> Any:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, not {raw!r}")
    return value


def _few_keys(endpoint: str, base: float) -> float:
    """The default sampling rate of an endpoint: all of the list endpoints' few keys."""
    return 1.0 if base > 0 and endpoint in FEW_KEYS else base


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    state_dir: Path = Path(".state")
    database_url: str = ""
    seed_listings: int = 1_000_000
    seed: int = 42
    database_connect_timeout: float = 3.0
    database_statement_timeout: float = 10.0

    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_cluster_nodes: tuple[str, ...] = ()
    redis_sentinels: tuple[str, ...] = ()
    redis_sentinel_master: str = "mymaster"
    redis_password: str | None = None
    redis_enabled: bool = True
    redis_socket_timeout: float = 0.05
    redis_connect_timeout: float = 0.1
    redis_info_cache_seconds: float = 2.0

    ttl: Mapping[str, int] = dataclasses.field(default_factory=lambda: dict(DEFAULT_TTL))
    grace_seconds: int = 3600
    xfetch_beta: float = 1.0
    lock_seconds: float = 10.0
    lock_wait_seconds: float = 2.0
    near_cache_size: int = 1024
    breaker_failures: int = 3
    breaker_reset_seconds: float = 5.0
    warm_on_start: bool = False
    sample_rates: Mapping[str, float] = dataclasses.field(default_factory=dict)
    stream_maxlen: int = 1_000_000

    admin_token: str | None = None
    bind_host: str = "127.0.0.1"
    port: int = 8000
    metrics_port: int | None = None
    workers: int = 2
    threads: int = 8

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from `env` (default: `os.environ`)."""
        env = os.environ if env is None else env
        state_dir = Path(env.get("CACHEWATCH_STATE_DIR", ".state"))
        ttl = {
            name: _number(env, f"CACHE_TTL_{name.upper()}", DEFAULT_TTL[name], int)
            for name in ENDPOINTS
        }
        base = _number(env, "CACHE_SAMPLE_RATE", 0.1)
        sample_rates = {
            name: _number(env, f"CACHE_SAMPLE_RATE_{name.upper()}", _few_keys(name, base))
            for name in ENDPOINTS
        }
        for name, rate in {"": base, **sample_rates}.items():
            if rate > 1:
                var = f"CACHE_SAMPLE_RATE_{name.upper()}" if name else "CACHE_SAMPLE_RATE"
                raise ConfigError(f"{var} must be between 0 and 1, not {rate}")
        metrics_port = env.get("CACHEWATCH_METRICS_PORT", "").strip()
        return cls(
            state_dir=state_dir,
            database_url=env.get("DATABASE_URL", "").strip()
            or f"sqlite:///{state_dir / 'cachewatch.sqlite3'}",
            seed_listings=_number(env, "CACHEWATCH_SEED_LISTINGS", 1_000_000, int),
            seed=_number(env, "CACHEWATCH_SEED", 42, int),
            database_connect_timeout=_number(env, "DATABASE_CONNECT_TIMEOUT", 3.0),
            database_statement_timeout=_number(env, "DATABASE_STATEMENT_TIMEOUT", 10.0),
            redis_url=env.get("REDIS_URL", "").strip() or "redis://127.0.0.1:6379/0",
            redis_cluster_nodes=_list(env, "REDIS_CLUSTER_NODES"),
            redis_sentinels=_list(env, "REDIS_SENTINELS"),
            redis_sentinel_master=env.get("REDIS_SENTINEL_MASTER", "mymaster"),
            redis_password=env.get("REDIS_PASSWORD") or None,
            redis_enabled=_bool(env, "REDIS_ENABLED", True),
            redis_socket_timeout=_number(env, "REDIS_SOCKET_TIMEOUT", 0.05),
            redis_connect_timeout=_number(env, "REDIS_CONNECT_TIMEOUT", 0.1),
            redis_info_cache_seconds=_number(env, "REDIS_INFO_CACHE_SECONDS", 2.0),
            ttl=ttl,
            grace_seconds=_number(env, "CACHE_GRACE_SECONDS", 3600, int),
            xfetch_beta=_number(env, "CACHE_XFETCH_BETA", 1.0),
            lock_seconds=_number(env, "CACHE_LOCK_SECONDS", 10.0),
            lock_wait_seconds=_number(env, "CACHE_LOCK_WAIT_SECONDS", 2.0),
            near_cache_size=_number(env, "CACHE_NEAR_SIZE", 1024, int),
            breaker_failures=max(1, _number(env, "CACHE_BREAKER_FAILURES", 3, int)),
            breaker_reset_seconds=_number(env, "CACHE_BREAKER_RESET_SECONDS", 5.0),
            warm_on_start=_bool(env, "CACHE_WARM_ON_START", False),
            sample_rates=sample_rates,
            stream_maxlen=_number(env, "CACHE_STREAM_MAXLEN", 1_000_000, int),
            admin_token=env.get("CACHEWATCH_ADMIN_TOKEN") or None,
            bind_host=env.get("CACHEWATCH_BIND_HOST", "").strip() or "127.0.0.1",
            port=_number(env, "CACHEWATCH_PORT", 8000, int),
            metrics_port=int(metrics_port) if metrics_port else None,
            workers=max(1, _number(env, "WEB_CONCURRENCY", 2, int)),
            threads=max(1, _number(env, "GUNICORN_THREADS", 8, int)),
        )

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed (tests and the CLI use this)."""
        return dataclasses.replace(self, **changes)
