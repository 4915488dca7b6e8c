"""The TTL page's "Run review now": `cachewatch ttl-review` on the events stream, one at a time.

    runner = ReviewRunner(Path(".state/ttl-review"), "redis://127.0.0.1:6379/0")
    outcome = runner.run()          # Outcome(kind="ok", text="Reviewed 12,345 sampled ...")

The review is `ttlreview.review.run(out_dir, redis_url=..., days=7)`, the call
the command makes with its defaults. It runs in a thread; the caller waits at
most `wait_seconds` (the review of a week of sampled events takes seconds, and
the stream is capped), then is told it still runs: the page shows the review
when its files are written. A second click while one runs is refused. Redis
being unreachable, an empty stream or bad events become an Outcome's text,
never an exception.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import redis

from ttlreview.events import STREAM_KEY, EventError
from ttlreview.review import run as run_review
from ttlreview.stream import connect, stream_entries

log = logging.getLogger(__name__)

#: The window the review reads, as `cachewatch ttl-review`'s default.
DAYS = 7.0
#: How long a click waits for the review before it is told the review still runs.
WAIT_SECONDS = 30.0


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a click on "Run review now" did: ok, warning (nothing done), error, or running."""

    kind: Literal["ok", "warning", "error", "running"]
    text: str


def safe_url(url: str) -> str:
    """The URL without its password, to show.

    >>> safe_url("redis://:secret@cache:6379/0"), safe_url("redis://127.0.0.1:6379/0")
    ('redis://:***@cache:6379/0', 'redis://127.0.0.1:6379/0')
    """
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = parts.username or ""
    netloc = f"{user}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@dataclasses.dataclass
class ReviewRunner:
    """Runs the review into `out_dir` from the stream at `redis_url`, one run at a time."""

    out_dir: Path
    redis_url: str
    stream_key: str = STREAM_KEY
    days: float = DAYS
    wait_seconds: float = WAIT_SECONDS
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, init=False)

    @property
    def running(self) -> bool:
        return self._lock.locked()

    def run(self) -> Outcome:
        """Start a review and wait for it (at most `wait_seconds`)."""
        if not self._lock.acquire(blocking=False):
            return Outcome("running", "A review is already running: the page shows it when done.")
        done = threading.Event()
        result: list[Outcome] = []

        def work() -> None:
            try:
                result.append(self._review())
            finally:
                self._lock.release()
                done.set()

        threading.Thread(target=work, name="ttl-review", daemon=True).start()
        if done.wait(self.wait_seconds):
            return result[0]
        return Outcome(
            "running",
            f"The review is still running after {self.wait_seconds:g} s; "
            "the page shows it when its files are written.",
        )

    def _review(self) -> Outcome:
        where = safe_url(self.redis_url)
        since = time.time() - self.days * 86400
        try:
            if not self._has_events(since):
                return Outcome(
                    "warning",
                    f"No sampled events in the last {self.days:g} days in {self.stream_key} "
                    f"at {where}: the service writes them while it serves cached requests "
                    "(CACHE_SAMPLE_RATE > 0). Send some traffic (cachewatch load) and try again.",
                )
            review = run_review(
                self.out_dir, redis_url=self.redis_url, stream_key=self.stream_key, days=self.days
            )
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            return Outcome(
                "error",
                f"Redis is unreachable at {where} ({exc}). Check REDIS_URL and that Redis is up.",
            )
        except (EventError, ValueError, OSError, redis.RedisError) as exc:
            return Outcome("error", f"The review failed: {exc}")
        except Exception:  # the page must show a message, never a traceback
            log.exception("TTL review from %s failed", where)
            return Outcome("error", "The review failed; the dashboard's log has the details.")
        m = review.meta
        return Outcome(
            "ok",
            f"Reviewed {m['requests']:,} sampled requests on {m['keys']:,} keys "
            f"(week {m['week']}); written to {self.out_dir}.",
        )

    def _has_events(self, since: float) -> bool:
        client: Any = connect(self.redis_url)
        try:
            return (
                next(stream_entries(client, self.stream_key, since=since, batch=1), None)
                is not None
            )
        finally:
            client.close()
