"""Bad input against every endpoint of the running service (gunicorn, real Redis).

Hypothesis writes the requests: paths, query strings and headers with unicode,
very long values, injection strings and duplicates. Whatever it sends:

- the answer is a 2xx or a 4xx, with a JSON body (except /metrics' own text);
- no metric label takes a value it did not have before (raw input never becomes a label);
- no Redis key appears for a request that was refused, and every key is a hashed cachewatch key;
- the workers' memory stays bounded.

Requests beyond gunicorn's own limits (a request line over 4094 bytes, a header
over 8190 bytes, more than 100 headers) are refused by gunicorn before the
application, with a 4xx and a plain-text body; that is checked separately.
"""

from __future__ import annotations

import http.client
import re
import socket
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import orjson
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.faults.conftest import rss_bytes, running, scrape, worker_pids
from tests.faults.figures import Figures
from tests.support.procs import RedisServer, ServiceProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

TOKEN = "bad-input-suite-admin-token-5ab1"
EXAMPLES = 400
RSS_BOUND = 32 * 1024 * 1024
KEY = re.compile(r"^cachewatch:v1:(areas|property_types|valuation):\{[0-9a-f]{32}\}(:lock)?$")

INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE listings; --",
    "../../../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "%00",
    "\x00",
    "<script>alert(1)</script>",
    "${jndi:ldap://127.0.0.1/x}",
    "{{7*7}}",
    "\r\nX-Injected: 1",
    "*",
    "cachewatch:v1:*",
    "FLUSHALL",
    "nan",
    "inf",
    "-inf",
    "1e309",
    "-0",
    "0x10",
    "１２",
    " 2 ",
    "2.0",
    "٣",
    "northfield",
    "NORTHFIELD",
    "buy",
    "RENT",
    "flat",
    "é" * 70,
]
FIELDS = ["area", "property_type", "bedrooms", "size_sqm", "listing_type"]

_long_ascii = st.text(
    st.characters(min_codepoint=32, max_codepoint=126), min_size=500, max_size=3000
)
#: short unicode, long unicode (fits gunicorn's 4094-byte request line once encoded), very long
#: ASCII, or a known troublemaker
text = (
    st.text(max_size=40)
    | st.text(min_size=100, max_size=300)
    | _long_ascii
    | st.sampled_from(INJECTIONS)
)
segment = text.map(lambda t: quote(t, safe=""))
VALID = {
    "area": "northfield",
    "property_type": "flat",
    "bedrooms": "2",
    "size_sqm": "75",
    "listing_type": "buy",
}


ALTERNATIVES = {
    "area": st.sampled_from(["northgate", "SOUTHFIELD", " eastgate ", "Kingsbury"]),
    "property_type": st.sampled_from(["detached", "FLAT", "studio", "cottage"]),
    "bedrooms": st.integers(0, 20).map(str) | st.sampled_from(["3.0", "１", " 4"]),
    "size_sqm": st.floats(5, 5000).map(lambda f: f"{f:.2f}") | st.sampled_from(["5e1", "٣٠"]),
    "listing_type": st.sampled_from(["rent", "Buy", "RENT"]),
}


@st.composite
def near_valid(draw: st.DrawFn) -> list[tuple[str, str]]:
    """A valid valuation query with some values replaced, dropped, repeated or added to."""
    pairs = []
    for name, value in VALID.items():
        choice = draw(st.integers(0, 12))  # mostly kept: some queries stay valid
        if choice == 0:
            continue  # dropped
        if choice == 1:
            value = draw(text)
        elif choice in (3, 4, 5):
            value = draw(ALTERNATIVES[name])  # still valid, another cache key
        pairs.append((name, value))
        if choice == 2:
            pairs.append((name, draw(text | st.just(value))))  # given twice
    return pairs + draw(st.lists(st.tuples(st.text(max_size=20), text), max_size=2))


query = (
    st.lists(st.tuples(st.sampled_from(FIELDS) | st.text(max_size=20), text), max_size=8)
    | near_valid()
).map(lambda pairs: urlencode(pairs, quote_via=quote))
_header_name = st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,30}\Z")
_printable = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=60)
header_value = (_printable | _printable | st.text(max_size=60) | st.sampled_from(INJECTIONS)).map(
    lambda t: t.replace("\r", " ").replace("\n", " ").strip().encode()
)
headers = st.lists(
    st.tuples(
        _header_name
        | st.sampled_from(["Authorization", "X-Forwarded-For", "Accept", "Cookie", "Range"]),
        header_value
        | st.sampled_from([b"Bearer " + b"x" * 40, b"Bearer", b"Basic Og==", b"bearer  "]),
    ),
    max_size=6,
)


@st.composite
def requests_(draw: st.DrawFn) -> tuple[str, str, list[tuple[str, bytes]], bytes | None]:
    """(method, path, headers, body) for one of the service's endpoints, or none at all."""
    kind = draw(st.sampled_from(list(range(10))))
    q = draw(query)
    qs = f"?{q}" if q else ""
    body = None
    if kind == 0:
        method, path = "GET", f"/api/areas/{draw(segment)}{qs}"
    elif kind == 1:
        method, path = "GET", f"/api/property-types/{draw(segment)}{qs}"
    elif kind == 2:
        method, path = "GET", f"/api/property/valuation{qs}"
    elif kind == 3:
        pairs = urlencode(draw(near_valid()), quote_via=quote)
        method, path = "GET", f"/api/property/valuation?{pairs}"
    elif kind == 4:
        method, path = "GET", draw(st.sampled_from(["/healthz", "/readyz"])) + qs
    elif kind == 5:
        method, path = "GET", f"/metrics{qs}"
    elif kind == 6:
        method = draw(st.sampled_from(["GET", "DELETE", "POST"]))
        path = draw(
            st.sampled_from(["/api/admin/cache/stats", "/api/admin/cache/warm"])
            | segment.map(lambda s: f"/api/admin/cache/{s}")
        )
    elif kind == 7:
        method, path = "POST", "/api/listings"
        body = draw(st.binary(max_size=200) | text.map(str.encode))
    elif kind == 8:
        method = draw(st.sampled_from(["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "TRACE"]))
        path = draw(st.sampled_from(["/api/areas/buy", "/api/property/valuation", "/readyz"]))
    else:
        method, path = "GET", "/" + "/".join(draw(st.lists(segment, max_size=4))) + qs
    return method, path, draw(headers), body


def send(port: int, method: str, path: str, hdrs: list[tuple[str, bytes]], body: bytes | None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in hdrs:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _refused_by_gunicorn(status: int, headers: dict[str, str], body: bytes) -> bool:
    """Gunicorn's own 4xx page for a request it would not pass on (e.g. an empty Host)."""
    html = headers.get("Content-Type", "").startswith("text/html")
    return 400 <= status < 500 and html and b"<h1><p>" in body


def _json_expected(method: str, path: str, status: int, content: bytes) -> bool:
    """Every answer is JSON except /metrics' text and the bodiless HEAD and OPTIONS answers."""
    if path.startswith("/metrics") and status == 200:
        return False
    return bool(content) or method not in ("HEAD", "OPTIONS")


def label_values(url: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for _, labels, _ in scrape(url):
        for name, value in labels.items():
            out.setdefault(name, set()).add(value)
    return out


@pytest.fixture
def service(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    env = {"CACHEWATCH_ADMIN_TOKEN": TOKEN}
    with running(ServiceProcess(redis_server.url, workers=2, env=env)) as svc:
        yield svc


def _prime(port: int) -> None:
    """One good and one bad request per endpoint, so every legitimate label value exists."""
    good = [
        "/api/areas/buy",
        "/api/property-types/rent",
        "/api/property/valuation?area=northfield&property_type=flat&bedrooms=2&size_sqm=75",
        "/healthz",
        "/readyz",
    ]
    bad = ["/api/areas/x", "/api/property-types/x", "/api/property/valuation", "/nope"]
    for _ in range(3):  # both workers
        for path in good + bad:
            send(port, "GET", path, [], None)
        send(port, "GET", "/api/admin/cache/stats", [], None)
        send(
            port,
            "GET",
            "/api/admin/cache/stats",
            [("Authorization", f"Bearer {TOKEN}".encode())],
            None,
        )


def test_hypothesis_generated_requests(
    service: ServiceProcess, redis_server: RedisServer, figures: Figures
) -> None:
    _prime(service.port)
    r = redis.Redis.from_url(redis_server.url)
    labels_before = label_values(service.url)
    keys_before = {k.decode() for k in r.scan_iter("*")}
    workers = worker_pids(service)
    rss_before = {pid: rss_bytes(pid) for pid in workers}
    seen: dict[str, int] = {}
    refused: list[tuple[str, str, int]] = []
    misses: set[str] = set()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(requests_())
    def probe(req: tuple[str, str, list[tuple[str, bytes]], bytes | None]) -> None:
        method, path, hdrs, body = req
        status, rheaders, content = send(service.port, method, path, hdrs, body)
        seen[f"{status // 100}xx"] = seen.get(f"{status // 100}xx", 0) + 1
        assert status < 500 and status // 100 in (2, 4), (method, path, hdrs, status, content[:300])
        if _refused_by_gunicorn(status, rheaders, content):
            seen["refused by gunicorn"] = seen.get("refused by gunicorn", 0) + 1
        elif _json_expected(method, path, status, content):
            content_type = rheaders.get("Content-Type", "")
            assert content_type.startswith("application/json"), (method, path, rheaders)
            orjson.loads(content)
        if status >= 400:
            refused.append((method, path, status))
        if rheaders.get("X-Cache") == "MISS":
            misses.add(path)

    probe()
    labels_after = label_values(service.url)
    keys_after = {k.decode() for k in r.scan_iter("*")}
    rss_after = {pid: rss_bytes(pid) for pid in workers if pid in worker_pids(service)}
    new_labels = {
        name: sorted(values - labels_before.get(name, set()))
        for name, values in labels_after.items()
        if values - labels_before.get(name, set())
    }
    new_keys = keys_after - keys_before
    bad_keys = [k for k in keys_after if not KEY.match(k)]
    growth = max(rss_after[p] - rss_before[p] for p in rss_after)
    figures.record(
        "07-bad-input",
        scenario="Hypothesis-generated paths, query strings, headers and bodies on every endpoint",
        load=f"{EXAMPLES} generated requests (plus shrinking), one at a time; 2 workers",
        checked=(
            "only 2xx/4xx, JSON bodies (not /metrics; gunicorn's own 4xx page for HTTP it refuses"
            " before the app); no new metric label value; new Redis keys"
            " only for accepted cache misses, all hashed cachewatch keys; worker RSS growth "
            f"≤ {RSS_BOUND // 2**20} MiB"
        ),
        result=(
            f"statuses {dict(sorted(seen.items()))}; {len(new_labels)} new label values; "
            f"{len(new_keys)} new keys for {len(misses)} accepted misses, {len(bad_keys)} "
            f"unexpected keys; RSS growth {growth / 2**20:.1f} MiB"
        ),
        statuses=seen,
        new_labels=new_labels,
        new_keys=len(new_keys),
        misses=len(misses),
        rss_growth=growth,
    )
    assert not new_labels, new_labels
    assert len(new_keys) <= len(misses), (sorted(new_keys)[:5], sorted(misses)[:5])
    assert not bad_keys, bad_keys[:5]
    assert set(rss_after) == workers, "a worker died"
    assert growth <= RSS_BOUND, growth


def _raw_exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_requests_beyond_gunicorns_limits_are_refused_with_a_4xx(
    service: ServiceProcess, figures: Figures
) -> None:
    host = b"Host: 127.0.0.1\r\nConnection: close\r\n"
    cases = {
        "request line of 6000 bytes": b"GET /api/areas/" + b"a" * 6000 + b" HTTP/1.1\r\n"
        + host + b"\r\n",
        "header of 10000 bytes": b"GET /healthz HTTP/1.1\r\n" + host + b"X-Big: " + b"b" * 10000
        + b"\r\n\r\n",
        "150 headers": b"GET /healthz HTTP/1.1\r\n" + host
        + b"".join(b"X-H%d: v\r\n" % i for i in range(150)) + b"\r\n",
        "bad request line": b"GET /healthz HTTP/9\r\n" + host + b"\r\n",
        "NUL in the path": b"GET /he\x00althz HTTP/1.1\r\n" + host + b"\r\n",
        "bad header name": b"GET /healthz HTTP/1.1\r\n" + host + b"Bad Header: 1\r\n\r\n",
        "invalid UTF-8 in the path": b"GET /api/areas/\xff\xfe HTTP/1.1\r\n" + host + b"\r\n",
    }  # fmt: skip
    statuses = {}
    for name, data in cases.items():
        reply = _raw_exchange(service.port, data)
        statuses[name] = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else 0
    figures.record(
        "07b-beyond-gunicorn-limits",
        scenario="Malformed or oversized HTTP (refused by gunicorn before the app)",
        load=f"{len(cases)} raw requests",
        checked="a 4xx for each (gunicorn's text body, not JSON); the workers stay up",
        result=", ".join(f"{k}: {v}" for k, v in statuses.items()),
        statuses=statuses,
    )
    assert all(400 <= s < 500 for s in statuses.values()), statuses
    assert send(service.port, "GET", "/healthz", [], None)[0] == 200
