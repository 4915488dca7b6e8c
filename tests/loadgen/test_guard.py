from __future__ import annotations

import pytest

from loadgen.guard import BadTarget, RemoteTarget, check_target


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000", "http://localhost:8000/", "http://[::1]:80", "http://127.9.9.9"],
)
def test_loopback_targets_are_accepted(url: str) -> None:
    assert check_target(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url", ["http://10.0.0.1:8000", "https://192.0.2.7", "http://[2001:db8::1]"]
)
def test_other_addresses_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(RemoteTarget, match="--allow-remote"):
        check_target(url)
    assert check_target(url, allow_remote=True) == url


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "127.0.0.1:8000", "http://"])
def test_non_http_urls_are_refused(url: str) -> None:
    with pytest.raises(BadTarget):
        check_target(url, allow_remote=True)
