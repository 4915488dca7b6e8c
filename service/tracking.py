"""Redis server-assisted client-side caching: one RESP3 connection that hears every invalidation.

    listener = TrackingListener(address, prefixes=["cachewatch:v1:areas:"],
                                on_invalidate=near.invalidate, on_flush=near.flush)
    listener.start()                 # a thread: connects, `CLIENT TRACKING ON BCAST`, listens
    listener.connected               # True once Redis acknowledged the tracking
    listener.pending()               # True while an invalidation may be waiting unapplied

Broadcasting mode (`BCAST PREFIX ...`) makes Redis announce every write to a
key under the prefixes, whoever made it and whichever connection read it, so
one connection per process covers the whole connection pool. Redis sends a
`null` invalidation on FLUSHALL/FLUSHDB, which flushes everything.

While the connection is down nothing tells us about writes, so `on_flush` runs
whenever it drops (and before it is marked connected again). A PING every
`ping_interval` seconds that gets no answer within another interval counts as
a drop, so a silent or paused Redis is noticed too.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

_CRLF = b"\r\n"
_POLL_MASK = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


class ProtocolError(Exception):
    """Redis answered something this listener does not understand, or an error."""


class _Incomplete(Exception):
    """The buffer ends in the middle of a frame."""


@dataclass(frozen=True)
class Address:
    """Where Redis listens and how to log in (a TCP host/port or a unix socket path)."""

    host: str = "127.0.0.1"
    port: int = 6379
    path: str | None = None
    username: str | None = None
    password: str | None = None
    connect_timeout: float = 1.0

    @classmethod
    def from_kwargs(cls, kwargs: dict[str, Any], connect_timeout: float) -> Address:
        """From a redis-py pool's `connection_kwargs`."""
        return cls(
            host=str(kwargs.get("host", "127.0.0.1")),
            port=int(kwargs.get("port", 6379)),
            path=kwargs.get("path"),
            username=kwargs.get("username"),
            password=kwargs.get("password"),
            connect_timeout=max(connect_timeout, 0.1),
        )

    def connect(self) -> socket.socket:
        if self.path:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.connect_timeout)
            sock.connect(self.path)
        else:
            sock = socket.create_connection((self.host, self.port), self.connect_timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def encode(*args: str) -> bytes:
    """A command as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(out)


def parse(buf: bytes, pos: int = 0) -> tuple[Any, int]:
    """One RESP2/RESP3 frame from `buf` at `pos`: (value, position after it).

    Push frames (`>`) come back as `Push(items)`, errors as `ProtocolError`
    instances (not raised, so a reply can be told from a failure). Raises
    `_Incomplete` when the frame is not all there yet.
    """
    end = buf.find(_CRLF, pos)
    if end < 0:
        raise _Incomplete
    kind, line, nxt = buf[pos : pos + 1], buf[pos + 1 : end], end + 2
    if kind in (b"+", b"(", b","):
        return line, nxt
    if kind == b"-":
        return ProtocolError(line.decode(errors="replace")), nxt
    if kind == b":":
        return int(line), nxt
    if kind == b"_":
        return None, nxt
    if kind == b"#":
        return line == b"t", nxt
    if kind in (b"$", b"=", b"!"):
        size = int(line)
        if size < 0:
            return None, nxt
        if len(buf) < nxt + size + 2:
            raise _Incomplete
        blob = buf[nxt : nxt + size]
        if kind == b"!":
            return ProtocolError(blob.decode(errors="replace")), nxt + size + 2
        return blob, nxt + size + 2
    if kind in (b"*", b"~", b">", b"%", b"|"):
        count = int(line)
        if count < 0:
            return None, nxt
        if kind in (b"%", b"|"):
            count *= 2
        items = []
        for _ in range(count):
            item, nxt = parse(buf, nxt)
            items.append(item)
        if kind == b"|":  # an attribute precedes the real reply: skip it
            return parse(buf, nxt)
        return (Push(items) if kind == b">" else items), nxt
    raise ProtocolError(f"unknown RESP type {kind!r}")


class Push(list):
    """An out-of-band RESP3 push message, such as `["invalidate", [keys]]`."""


class TrackingListener:
    """A daemon thread holding the tracking connection; calls back on every invalidation."""

    def __init__(
        self,
        address: Address,
        prefixes: Iterable[str],
        on_invalidate: Callable[[list[bytes]], None],
        on_flush: Callable[[], None],
        ping_interval: float = 1.0,
        retry_seconds: float = 0.5,
    ) -> None:
        self.address = address
        self.prefixes = list(prefixes)
        self.on_invalidate = on_invalidate
        self.on_flush = on_flush
        self.ping_interval = ping_interval
        self.retry_seconds = retry_seconds
        self.connected = False
        self.drops = 0
        self._sock: socket.socket | None = None
        self._fd = -1
        self._generation = 0  # one more for every connection made
        self._local = threading.local()  # poll objects may not be shared between threads
        self._draining = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- read by the request path -------------------------------------------------------
    def pending(self) -> bool:
        """Whether an invalidation may have reached this process without being applied yet.

        True while bytes wait in the socket or while the listener is parsing
        what it read. Checked in that order, so an invalidation that arrived
        before the call is either still in the socket or already being applied.
        """
        mine = getattr(self._local, "poller", None)
        if mine is None or mine[0] != self._generation:
            if self._fd < 0:
                return True
            poller = select.poll()
            poller.register(self._fd, _POLL_MASK)
            mine = self._local.poller = (self._generation, poller)
        try:
            if mine[1].poll(0):
                return True
        except (OSError, ValueError, RuntimeError):
            return True
        return self._draining

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cache-tracking", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.kick()
        if self._thread is not None:
            self._thread.join(5)

    def kick(self) -> None:
        """Close the connection as if it had dropped (tests use this)."""
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    # -- the thread ----------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._session()
            except (OSError, ProtocolError, ValueError) as exc:
                if self.connected and not self._stop.is_set():
                    log.warning("near cache off: tracking connection lost (%s)", exc)
            finally:
                self._disconnect()
            self._stop.wait(self.retry_seconds)

    def _disconnect(self) -> None:
        was = self.connected
        self.connected = False
        self.on_flush()
        self._fd = -1
        self._draining = False
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if was:
            self.drops += 1

    def _session(self) -> None:
        sock = self.address.connect()
        self._sock = sock
        sock.settimeout(max(self.ping_interval * 2, 1.0))
        buf = bytearray()
        hello = ["HELLO", "3"]
        if self.address.password:
            hello += ["AUTH", self.address.username or "default", self.address.password]
        tracking = ["CLIENT", "TRACKING", "ON", "BCAST"]
        for prefix in self.prefixes:
            tracking += ["PREFIX", prefix]
        sock.sendall(encode(*hello) + encode(*tracking))
        replies: list[Any] = []
        while len(replies) < 2:
            # Pushes met here are dropped: nothing is cached while disconnected.
            replies += [f for f in self._read(sock, buf) if not isinstance(f, Push)]
        for reply in replies:
            if isinstance(reply, ProtocolError):
                raise reply
        self.on_flush()  # nothing read before this point can be trusted
        self._fd = sock.fileno()
        self._generation += 1
        self.connected = True
        if self.drops:
            log.warning("near cache on again: tracking connection restored")
        self._listen(sock, buf)

    @staticmethod
    def _read(sock: socket.socket, buf: bytearray) -> list[Any]:
        """Receive once; return the frames completed by it, keeping any partial one in `buf`."""
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("Redis closed the connection")
        buf += chunk
        frames, rest = _split(bytes(buf))
        buf[:] = rest
        return frames

    def _listen(self, sock: socket.socket, buf: bytearray) -> None:
        ping_sent = 0.0
        while not self._stop.is_set():
            ready, _, _ = select.select([sock], [], [], self.ping_interval)
            now = time.monotonic()
            if not ready:
                if ping_sent:
                    raise TimeoutError("no answer to PING")
                sock.sendall(encode("PING"))
                ping_sent = now
                continue
            self._draining = True
            for frame in self._read(sock, buf):
                if isinstance(frame, Push):
                    self._apply(frame)
                elif isinstance(frame, ProtocolError):
                    raise frame
                else:
                    ping_sent = 0.0
            self._draining = bool(buf)
            if ping_sent and now - ping_sent > self.ping_interval:
                raise TimeoutError("no answer to PING")

    def _apply(self, push: Push) -> None:
        if len(push) < 2 or push[0] != b"invalidate":
            return
        keys = push[1]
        if keys is None:
            self.on_flush()
        else:
            self.on_invalidate(list(keys))


def _split(data: bytes) -> tuple[list[Any], bytes]:
    """Every complete frame in `data`, and what is left of an incomplete one."""
    frames, pos = [], 0
    while pos < len(data):
        try:
            frame, pos = parse(data, pos)
        except _Incomplete:
            break
        frames.append(frame)
    return frames, data[pos:]
