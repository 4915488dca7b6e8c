"""The stack's settings, from the environment, and the checks made before anything starts.

    config = StackConfig.from_env()
    config.service_ports          # [8000] (SERVICE_REPLICAS consecutive ports)
    problems = config.busy_ports()  # ["port 9090 (PROMETHEUS_PORT, prometheus) is in use"]

docs/stack.md lists every variable.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import shutil
import socket
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: Programs the stack runs, from Debian's packages (scripts/bootstrap installs them).
PROGRAMS = ("redis-server", "prometheus", "prometheus-alertmanager", "prometheus-redis-exporter")


class StackError(RuntimeError):
    """The stack cannot start as configured; the message says why and what to do."""


def _int(env: Mapping[str, str], names: tuple[str, ...], default: int, low: int = 1) -> int:
    for name in names:
        raw = env.get(name, "").strip()
        if raw:
            try:
                value = int(raw)
            except ValueError:
                raise StackError(f"{name} must be a whole number, not {raw!r}") from None
            if not low <= value <= 65535:
                raise StackError(f"{name} must be between {low} and 65535, not {value}")
            return value
    return default


def _duration(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if raw and not re.fullmatch(r"\d+(ms|s|m|h)", raw):
        raise StackError(f"{name} must be a Prometheus duration like 5s or 1m, not {raw!r}")
    return raw or None


def dashboard_available() -> bool:
    """Whether this checkout has the dashboard's command (dashboard.cli)."""
    try:
        return importlib.util.find_spec("dashboard.cli") is not None
    except ImportError:
        return False


@dataclasses.dataclass(frozen=True)
class StackConfig:
    state_dir: Path
    service_port: int = 8000
    replicas: int = 1
    dashboard_port: int = 8050
    prometheus_port: int = 9090
    alertmanager_port: int = 9093
    redis_port: int = 6379
    redis_exporter_port: int = 9121
    redis_maxmemory: str = "256mb"
    redis_password: str | None = None
    load_rate: float = 5.0
    scrape_interval: str | None = None
    dashboard: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StackConfig:
        env = os.environ if env is None else env
        rate_raw = env.get("LOAD_RATE", "").strip() or "5"
        try:
            load_rate = float(rate_raw)
        except ValueError:
            raise StackError(f"LOAD_RATE must be a number, not {rate_raw!r}") from None
        if not 0 <= load_rate <= 1000:
            raise StackError(f"LOAD_RATE must be between 0 and 1000, not {rate_raw!r}")
        maxmemory = env.get("REDIS_MAXMEMORY", "").strip() or "256mb"
        if not re.fullmatch(r"\d+(b|kb|mb|gb)?", maxmemory, re.IGNORECASE):
            raise StackError(f"REDIS_MAXMEMORY must be like 256mb, not {maxmemory!r}")
        return cls(
            state_dir=Path(env.get("CACHEWATCH_STATE_DIR", "").strip() or ".state").absolute(),
            service_port=_int(env, ("SERVICE_PORT", "CACHEWATCH_PORT"), 8000),
            replicas=_int(env, ("SERVICE_REPLICAS",), 1),
            dashboard_port=_int(env, ("DASHBOARD_PORT",), 8050),
            prometheus_port=_int(env, ("PROMETHEUS_PORT",), 9090),
            alertmanager_port=_int(env, ("ALERTMANAGER_PORT",), 9093),
            redis_port=_int(env, ("REDIS_PORT",), 6379),
            redis_exporter_port=_int(env, ("REDIS_EXPORTER_PORT",), 9121),
            redis_maxmemory=maxmemory,
            redis_password=env.get("REDIS_PASSWORD") or None,
            load_rate=load_rate,
            scrape_interval=_duration(env, "PROMETHEUS_SCRAPE_INTERVAL"),
            dashboard=dashboard_available(),
        )

    # -- derived --------------------------------------------------------------------------
    @property
    def service_ports(self) -> list[int]:
        return [self.service_port + i for i in range(self.replicas)]

    @property
    def redis_url(self) -> str:
        """What the service uses: the stack's own Redis."""
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def ports(self) -> list[tuple[int, str, str]]:
        """(port, variable, part) of everything that will listen."""
        found = [
            (port, "SERVICE_PORT" if i == 0 else f"SERVICE_PORT+{i}", f"service-{i + 1}")
            for i, port in enumerate(self.service_ports)
        ]
        found += [
            (self.redis_port, "REDIS_PORT", "redis"),
            (self.redis_exporter_port, "REDIS_EXPORTER_PORT", "redis_exporter"),
            (self.prometheus_port, "PROMETHEUS_PORT", "prometheus"),
            (self.alertmanager_port, "ALERTMANAGER_PORT", "alertmanager"),
        ]
        if self.dashboard:
            found.append((self.dashboard_port, "DASHBOARD_PORT", "dashboard"))
        return found

    # -- checks -----------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Everything that stops the stack from starting: missing programs, port clashes."""
        found = [
            f"{program} is not installed: run scripts/bootstrap (Debian packages)"
            for program in PROGRAMS
            if shutil.which(program) is None
        ]
        seen: dict[int, str] = {}
        for port, variable, part in self.ports():
            if port in seen:
                found.append(f"port {port} is given to both {seen[port]} and {part} ({variable})")
                continue
            seen[port] = part
            if not port_free(port):
                found.append(
                    f"port {port} ({variable}, for {part}) is already in use: stop what "
                    f"listens there, or set {variable.split('+')[0]} to another port"
                )
        return found


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether nothing listens on `host:port` (a socket in TIME_WAIT does not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
