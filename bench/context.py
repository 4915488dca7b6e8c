"""What every section shares: the mode, the seeded database, one Redis, the payload.

    with Context.open(quick=False, state=Path(".state/bench")) as ctx:
        ctx.rounds(full=5, quick=1); ctx.seconds(full=8, quick=1)
        ctx.redis.url; ctx.database_url; ctx.payload_file()

The database is seeded once into the state folder and reused by later runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import time
from collections.abc import Iterator
from pathlib import Path

from bench.servers import ADMIN_TOKEN, Cachewatch, RedisServer
from service import db

#: The endpoint whose response is the shared payload of the comparisons.
PAYLOAD_PATH = "/api/property-types/buy"


@dataclasses.dataclass
class Context:
    quick: bool
    state: Path
    listings: int
    redis: RedisServer
    log: list[str] = dataclasses.field(default_factory=list)

    @classmethod
    @contextlib.contextmanager
    def open(cls, quick: bool, state: Path, listings: int) -> Iterator[Context]:
        state.mkdir(parents=True, exist_ok=True)
        redis_server = RedisServer()
        redis_server.start()
        try:
            ctx = cls(quick=quick, state=state, listings=listings, redis=redis_server)
            ctx.seed()
            yield ctx
        finally:
            redis_server.cleanup()

    # -- sizes of the run -----------------------------------------------------------
    def rounds(self, full: int, quick: int = 1) -> int:
        return quick if self.quick else full

    def seconds(self, full: float, quick: float = 1.0) -> float:
        return quick if self.quick else full

    # -- the database ---------------------------------------------------------------
    @property
    def database_path(self) -> Path:
        return (self.state / f"cachewatch-{self.listings}.sqlite3").resolve()

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database_path}"

    def seed(self) -> None:
        engine = db.connect(self.database_url)
        start = time.perf_counter()
        if db.ensure_seeded(engine, self.listings, 42):
            self.note(f"seeded {self.listings:,} listings in {time.perf_counter() - start:.0f} s")
        engine.dispose()

    # -- servers ------------------------------------------------------------------------
    def cachewatch(self, redis_url: str | None = None, **kwargs: object) -> Cachewatch:
        """A started cachewatch on this run's database (stop it with `.cleanup()`)."""
        server = Cachewatch(redis_url or self.redis.url, self.database_url, **kwargs)  # type: ignore[arg-type]
        server.start()
        return server

    def payload_file(self) -> Path:
        """The body of PAYLOAD_PATH as cachewatch computes it, written once per run."""
        path = self.state / f"payload-{self.listings}.json"
        if not path.exists():
            server = self.cachewatch()
            try:
                path.write_bytes(get(server.port, PAYLOAD_PATH)[2])
            finally:
                server.cleanup()
        return path

    def note(self, text: str) -> None:
        print(text, flush=True)
        self.log.append(text)


def get(
    port: int, path: str, timeout: float = 60.0, method: str = "GET"
) -> tuple[float, int, bytes, dict[str, str]]:
    """One request on a new loopback connection: (seconds, status, body, headers)."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"} if "/admin/" in path else {}
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
        return elapsed, response.status, body, dict(response.getheaders())
    finally:
        conn.close()
