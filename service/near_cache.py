"""The near cache: the hottest entries kept in the worker's memory, dropped when Redis says so.

    near = NearCache(size=1024, address=Address(port=6379), prefixes=["cachewatch:v1:areas:"])
    entry = near.get(key)                # an Entry, or None: ask Redis
    token = near.begin(key)              # before the Redis GET ...
    near.put(key, token, entry)          # ... and after it, with what Redis returned

Redis' server-assisted client-side caching keeps it correct: a tracking
connection (service.tracking) hears of every write, delete or expiry of a key
under the cached prefixes, from any worker or any tool, and drops the key here.

- `get` answers only while the tracking connection is up and no invalidation
  is waiting unapplied; the caller still checks the entry's logical TTL.
- `begin`/`put` close the race between a GET and an invalidation of the same
  key: an entry is stored only if no invalidation of its key (and no flush)
  happened since `begin`, so a value Redis has already replaced never lands here.
- When the tracking connection drops (Redis down, restarted, paused past a
  PING), the near cache is flushed and stays off until tracking is back: an
  invalidation might have been missed. A FLUSHALL/FLUSHDB flushes it too.

One per process: the listener thread starts on first use, in the process that
uses it (never in a gunicorn master before the fork).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterable

from service.envelope import Entry
from service.tracking import Address, TrackingListener

_forks = 0


def _after_fork() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_after_fork)


class NearCache:
    def __init__(
        self,
        size: int,
        address: Address,
        prefixes: Iterable[str],
        ping_interval: float = 1.0,
    ) -> None:
        self.size = size
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._pending: dict[str, object] = {}
        self._lock = threading.Lock()
        self._address = address
        self._prefixes = list(prefixes)
        self._ping_interval = ping_interval
        self.listener = self._listener()
        self._started = -1  # the fork generation it was started in (-1: not yet)
        self.invalidations = 0
        self.flushes = 0

    # -- the request path ------------------------------------------------------------
    def get(self, key: str) -> Entry | None:
        """The entry under `key` if it is held here and nothing says it changed."""
        if self._started != _forks:
            self.start()
            return None
        listener = self.listener
        if not listener.connected or listener.pending():
            return None
        # No lock: each OrderedDict call is atomic under the GIL, and an entry popped
        # by an invalidation right now is one Redis told us of after this lookup began.
        entries = self._entries
        entry = entries.get(key)
        if entry is not None:
            try:  # noqa: SIM105 - try costs nothing here, contextlib.suppress does
                entries.move_to_end(key)
            except KeyError:
                pass
        return entry

    def begin(self, key: str) -> object | None:
        """A token for a later `put` of `key`; None when nothing may be stored now."""
        if self._started != _forks or not self.listener.connected:
            return None
        token = object()
        with self._lock:
            pending = self._pending
            pending.pop(key, None)
            pending[key] = token
            if len(pending) > self.size:
                del pending[next(iter(pending))]
        return token

    def put(self, key: str, token: object | None, entry: Entry) -> bool:
        """Keep `entry` (read from Redis after `begin`) unless `key` changed since."""
        if token is None:
            return False
        with self._lock:
            if self._pending.get(key) is not token:
                return False
            del self._pending[key]
            entries = self._entries
            entries[key] = entry
            entries.move_to_end(key)
            if len(entries) > self.size:
                entries.popitem(last=False)
        return True

    # -- called by the tracking listener ------------------------------------------------
    def invalidate(self, keys: Iterable[bytes | str]) -> None:
        with self._lock:
            for raw in keys:
                key = raw.decode() if isinstance(raw, bytes) else raw
                self._entries.pop(key, None)
                self._pending.pop(key, None)
                self.invalidations += 1

    def flush(self) -> None:
        with self._lock:
            self._entries.clear()
            self._pending.clear()
            self.flushes += 1

    # -- lifecycle ----------------------------------------------------------------------
    def _listener(self) -> TrackingListener:
        return TrackingListener(
            self._address,
            self._prefixes,
            on_invalidate=self.invalidate,
            on_flush=self.flush,
            ping_interval=self._ping_interval,
        )

    def start(self) -> None:
        """Start listening in this process, if not yet (a forked child gets its own connection)."""
        with self._lock:
            if self._started == _forks:
                return
            self._entries.clear()
            self._pending.clear()
            self.listener = self._listener()
            self.listener.start()
            self._started = _forks

    def close(self) -> None:
        if self._started == _forks:
            self.listener.stop()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries
