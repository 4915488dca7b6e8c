"""Real servers for tests: each on a free loopback port, stopped when the test is done.

    with RedisServer() as redis_server:
        client = redis.Redis(port=redis_server.port)

    with PrometheusServer(config_text) as prom:
        requests.get(f"{prom.url}/api/v1/query", params={"query": "up"})

Every server writes its output to a log file in its own temporary folder, which
`ManagedProcess.log()` returns for a failing assertion's message.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

import requests

REPO = Path(__file__).resolve().parents[2]
#: The bin folder of the Python running the tests (the project's virtualenv).
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, interval: float = 0.05
) -> None:
    """Poll `check` until it returns true; raise TimeoutError naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - a server that is still starting may refuse anything
            pass
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def http_ok(url: str) -> Callable[[], bool]:
    """A readiness check: `url` answers 2xx."""
    return lambda: requests.get(url, timeout=1).ok


class ManagedProcess:
    """A server process with its own temporary folder, started and stopped as a context manager."""

    name = "process"
    ready_timeout = 30.0

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix=f"cachewatch-{self.name}-"))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    # -- to override ------------------------------------------------------------
    def command(self) -> Sequence[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def is_ready(self) -> bool:
        raise NotImplementedError

    # -- lifecycle --------------------------------------------------------------
    def start(self) -> ManagedProcess:
        logfile = open(self.dir / "output.log", "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(
            list(self.command()),
            stdout=logfile,
            stderr=subprocess.STDOUT,
            env=self.env(),
            cwd=self.dir,
            start_new_session=True,
        )
        logfile.close()
        try:
            wait_until(self._ready_or_dead, self.ready_timeout, f"{self.name} to start")
        except TimeoutError:
            self.stop()
            raise TimeoutError(f"{self.name} did not start:\n{self.log()}") from None
        return self

    def _ready_or_dead(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log()}")
        return self.is_ready()

    def signal(self, sig: int) -> None:
        """Send `sig` to the whole process group (gunicorn's workers too)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.proc.wait(timeout)
        self.proc = None

    def kill(self) -> None:
        """Die at once, as a crash would."""
        if self.proc is not None:
            self.signal(signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        path = self.dir / "output.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> ManagedProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()


class RedisServer(ManagedProcess):
    """A real `redis-server` on loopback, without persistence unless asked."""

    name = "redis"
    ready_timeout = 10.0

    def __init__(self, *extra_args: str, password: str | None = None) -> None:
        super().__init__()
        self.extra_args = extra_args
        self.password = password

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def command(self) -> Sequence[str]:
        args = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.dir),
        ]
        if self.password:
            args += ["--requirepass", self.password]
        return [*args, *self.extra_args]

    def cli(self, *args: str) -> str:
        """Run `redis-cli` against this server and return its output."""
        auth = ["-a", self.password, "--no-auth-warning"] if self.password else []
        out = subprocess.run(
            ["redis-cli", "-p", str(self.port), *auth, *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return out.stdout.strip()

    def is_ready(self) -> bool:
        return self.cli("PING") == "PONG"


class PrometheusServer(ManagedProcess):
    """A real Prometheus from Debian's package, with the given configuration file text.

    Relative paths in the configuration (rule files) resolve against `config_dir`,
    which defaults to the repository's `monitoring/` folder.
    """

    name = "prometheus"

    def __init__(self, config_text: str, config_dir: Path | None = None) -> None:
        super().__init__()
        self.config_dir = config_dir or REPO / "monitoring"
        self.config_path = self.config_dir / f".test-prometheus-{os.getpid()}-{self.port}.yml"
        self.config_text = config_text

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ManagedProcess:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.config_text)
        return super().start()

    def command(self) -> Sequence[str]:
        return [
            "prometheus",
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--web.enable-lifecycle",
            "--web.enable-admin-api",
        ]

    def is_ready(self) -> bool:
        return http_ok(f"{self.url}/-/ready")()

    def query(self, expr: str, time_: float | None = None) -> list[dict]:
        """Run an instant query; return its result vector (raises on an error status)."""
        params: dict[str, str | float] = {"query": expr}
        if time_ is not None:
            params["time"] = time_
        body = requests.get(f"{self.url}/api/v1/query", params=params, timeout=10).json()
        if body.get("status") != "success":
            raise AssertionError(f"query {expr!r} failed: {body}")
        return list(body["data"]["result"])

    def cleanup(self) -> None:
        super().cleanup()
        self.config_path.unlink(missing_ok=True)


class ServiceProcess(ManagedProcess):
    """The real service under gunicorn (`cachewatch serve`), multiprocess metrics and all.

    `database_url` defaults to a small SQLite database generated in the service's folder.
    `env` adds or overrides environment variables (REDIS_ENABLED, CACHE_TTL_*, ...).
    """

    name = "service"
    ready_timeout = 60.0

    def __init__(
        self,
        redis_url: str,
        *,
        database_url: str | None = None,
        workers: int = 2,
        listings: int = 20_000,
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.redis_url = redis_url
        self.database_url = database_url
        self.workers = workers
        self.listings = listings
        self.extra_env = env or {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> Sequence[str]:
        return [str(VENV_BIN / "python"), "-m", "cachewatch", "serve", "--port", str(self.port)]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_MULTIPROC")}
        env.update(
            PYTHONPATH=str(REPO),
            CACHEWATCH_STATE_DIR=str(self.dir / "state"),
            CACHEWATCH_SEED_LISTINGS=str(self.listings),
            REDIS_URL=self.redis_url,
            WEB_CONCURRENCY=str(self.workers),
        )
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        env.update(self.extra_env)
        return env

    def is_ready(self) -> bool:
        return http_ok(f"{self.url}/healthz")()

    def metric(self, name: str, **labels: str) -> float:
        """The sum of the samples of `name` at /metrics whose labels include `labels`."""
        from prometheus_client.parser import text_string_to_metric_families

        text = requests.get(f"{self.url}/metrics", timeout=10).text
        total = 0.0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    total += sample.value
        return total


class PostgresServer(ManagedProcess):
    """A real PostgreSQL 15 from Debian's packages, in a throw-away data folder (trust auth).

    As root, the server runs as the `postgres` user, since PostgreSQL refuses root.
    """

    name = "postgres"
    bindir = Path("/usr/lib/postgresql/15/bin")

    def _as_postgres(self, args: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> ManagedProcess:
        data = self.dir / "data"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        if not data.exists():
            subprocess.run(
                self._as_postgres([str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres",
                                   "--auth=trust", "--no-sync"]),
                check=True, capture_output=True, timeout=120,
            )  # fmt: skip
        return super().start()

    def command(self) -> Sequence[str]:
        return self._as_postgres([
            str(self.bindir / "postgres"), "-D", str(self.dir / "data"), "-p", str(self.port),
            "-h", "127.0.0.1", "-k", str(self.dir), "-c", "fsync=off",
        ])  # fmt: skip

    def is_ready(self) -> bool:
        out = subprocess.run(
            [str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
            capture_output=True, timeout=5,
        )  # fmt: skip
        return out.returncode == 0


class RedisExporter(ManagedProcess):
    """Debian's `prometheus-redis-exporter`, configured by environment as docker-compose does.

    with RedisServer(password="pw") as redis, RedisExporter(redis, "pw") as exporter:
        requests.get(exporter.url + "/metrics")
    """

    name = "redis_exporter"
    ready_timeout = 15.0

    def __init__(self, redis: RedisServer, password: str | None = None) -> None:
        super().__init__()
        self.redis = redis
        self.password = password

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return ["prometheus-redis-exporter"]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["REDIS_ADDR"] = f"redis://127.0.0.1:{self.redis.port}"
        env["REDIS_EXPORTER_WEB_LISTEN_ADDRESS"] = f"127.0.0.1:{self.port}"
        env.pop("REDIS_PASSWORD", None)
        if self.password is not None:
            env["REDIS_PASSWORD"] = self.password
        return env

    def is_ready(self) -> bool:
        return http_ok(f"{self.url}/metrics")()
