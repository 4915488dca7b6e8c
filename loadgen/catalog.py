"""What the service knows: its areas and property types, ranked by how many listings each has.

    catalog = Catalog.fetch(session, "http://127.0.0.1:8000")
    catalog.areas[0]          # the area with the most listings (the Zipf rank 1)

The catalog is learnt from the service itself (GET /api/areas/buy and
/api/property-types/buy), so the traffic only names slugs that exist. Those two
requests are real requests to cached endpoints: `fetch` hands back their
results so the summary counts them with the rest.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import requests

from loadgen.summary import Result

#: The listing type whose statistics give the ranking (both types share the slugs).
_RANKING_TYPE = "buy"


class ServiceUnavailable(RuntimeError):
    """The service did not answer, or answered something that is not its catalog."""


@dataclasses.dataclass(frozen=True)
class Catalog:
    """Slugs ranked by popularity (most listings first)."""

    areas: tuple[str, ...]
    property_types: tuple[str, ...]

    @classmethod
    def fetch(
        cls,
        session: requests.Session,
        base_url: str,
        timeout: float = 10.0,
        record: Callable[[Result], None] | None = None,
    ) -> Catalog:
        """Ask the service; `record` receives each request's result."""
        areas = _ranked(session, base_url, "areas", "area", timeout, record)
        types = _ranked(session, base_url, "property-types", "property_type", timeout, record)
        return cls(areas, types)


def _ranked(
    session: requests.Session,
    base_url: str,
    route: str,
    field: str,
    timeout: float,
    record: Callable[[Result], None] | None,
) -> tuple[str, ...]:
    endpoint = route.replace("-", "_")
    start = time.perf_counter()
    try:
        response = session.get(f"{base_url}/api/{route}/{_RANKING_TYPE}", timeout=timeout)
    except requests.RequestException as exc:
        raise ServiceUnavailable(f"{base_url} did not answer: {exc}") from exc
    if record is not None:
        record(
            Result(
                endpoint,
                response.status_code,
                response.headers.get("X-Cache"),
                time.perf_counter() - start,
                (endpoint, _RANKING_TYPE),
            )
        )
    if not response.ok:
        raise ServiceUnavailable(f"GET /api/{route}/{_RANKING_TYPE} gave {response.status_code}")
    rows = response.json()[route.replace("-", "_")]
    rows = sorted(rows, key=lambda row: (-int(row["listings"]), row[field]))
    if not rows:
        raise ServiceUnavailable(f"the service lists no {route}")
    return tuple(str(row[field]) for row in rows)


def wait_ready(session: requests.Session, base_url: str, timeout: float) -> None:
    """Wait up to `timeout` seconds for the service's /readyz to answer 200."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if session.get(f"{base_url}/readyz", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        if time.monotonic() >= deadline:
            raise ServiceUnavailable(f"{base_url} was not ready within {timeout:g} s")
        time.sleep(0.5)
