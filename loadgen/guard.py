"""Where traffic may go: loopback only, unless the caller says otherwise.

check_target("http://127.0.0.1:8000")                 # fine
check_target("http://example.com")                     # raises RemoteTarget
check_target("http://example.com", allow_remote=True)  # fine
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class RemoteTarget(ValueError):
    """The target is not on this machine and remote traffic was not allowed."""


class BadTarget(ValueError):
    """The target is not an http(s) URL with a host."""


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def check_target(url: str, allow_remote: bool = False) -> str:
    """Return `url` without a trailing slash; raise if it is not a loopback http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadTarget(f"not an http(s) URL: {url!r}")
    if not allow_remote and not _is_loopback(parts.hostname):
        raise RemoteTarget(
            f"{parts.hostname} is not a loopback address: cachewatch load sends traffic to this "
            "machine only, unless --allow-remote is given"
        )
    return url.rstrip("/")
