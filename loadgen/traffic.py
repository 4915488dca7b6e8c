"""The requests to send: realistic draws, or a fixed set of keys in turn.

    requests = Traffic(catalog, Mix.parse("valuation=8,areas=1,property_types=1"), seed=7)
    for req in itertools.islice(requests, 3):
        print(req.path, req.params)

Realistic mode draws, for every request, an endpoint from the mix and a listing
type by Zipf's law. A valuation asks one of `queries` popular questions, picked
by Zipf's law over their rank (the classic cache workload: a few keys are very
hot, most are cold). The questions themselves are drawn once, realistically: an
area and a property type by Zipf's law over their popularity rank (rank 1 has
the most listings), bedrooms from a bell around 2.6 (studios have none) and a
size that follows bedrooms, rounded to 5 m² as people type it. `queries=0`
draws every valuation afresh instead (a far larger key space, few hits).

Key mode (`keys=N`) draws N distinct keys that way once, then requests them in
turn, round robin: on a cold cache, one client at a time, exactly one miss per
distinct key, so the hit ratio is 1 − distinct keys / requests.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from loadgen.catalog import Catalog

ENDPOINTS = ("areas", "property_types", "valuation")
LISTING_TYPES = ("buy", "rent")
DEFAULT_MIX = "valuation=8,areas=1,property_types=1"

Key = tuple[Any, ...]


@dataclasses.dataclass(frozen=True)
class Request:
    """One request: its cache name, path, query and canonical cache key."""

    endpoint: str
    path: str
    params: dict[str, str | int] | None
    key: Key


@dataclasses.dataclass(frozen=True)
class Mix:
    """Relative weights of the endpoints."""

    weights: dict[str, float]

    @classmethod
    def parse(cls, text: str) -> Mix:
        """`valuation=8,areas=1` (names as in the `endpoint` label; `property-types` works too)."""
        weights: dict[str, float] = {}
        for part in text.split(","):
            if not part.strip():
                continue
            name, sep, raw = part.partition("=")
            name = name.strip().replace("-", "_")
            if name not in ENDPOINTS or not sep:
                raise ValueError(f"mix entries are endpoint=weight, endpoint one of {ENDPOINTS}")
            try:
                weight = float(raw)
            except ValueError:
                raise ValueError(f"the weight of {name} must be a number, not {raw!r}") from None
            if not weight >= 0:
                raise ValueError(f"the weight of {name} must not be negative")
            weights[name] = weight
        if sum(weights.values()) <= 0:
            raise ValueError("the mix needs at least one endpoint with a positive weight")
        return cls(weights)


def zipf_weights(n: int, exponent: float) -> list[float]:
    """Zipf's law over ranks 1..n: weight 1 / rank^exponent."""
    return [1.0 / (rank**exponent) for rank in range(1, n + 1)]


class Traffic:
    """An endless, seeded stream of `Request`s (see the module's docstring)."""

    def __init__(
        self,
        catalog: Catalog,
        mix: Mix | None = None,
        seed: int | None = None,
        zipf: float = 1.2,
        keys: int | None = None,
        queries: int = 1000,
    ) -> None:
        self.catalog = catalog
        self.mix = mix or Mix.parse(DEFAULT_MIX)
        self.rng = random.Random(seed)
        self.zipf = zipf
        self._endpoints = [e for e in ENDPOINTS if self.mix.weights.get(e, 0) > 0]
        self._endpoint_weights = [self.mix.weights[e] for e in self._endpoints]
        self._lt_weights = zipf_weights(len(LISTING_TYPES), zipf)
        self._area_weights = zipf_weights(len(catalog.areas), zipf)
        self._type_weights = zipf_weights(len(catalog.property_types), zipf)
        self._pool: list[Request] = []
        if queries and "valuation" in self._endpoints:
            self._pool = self._distinct(queries, self._fresh_valuation, allow_fewer=True)
        self._pool_weights = zipf_weights(len(self._pool), zipf)
        self._fixed: Sequence[Request] | None = self._distinct(keys, self.draw) if keys else None

    def __iter__(self) -> Iterator[Request]:
        if self._fixed is not None:
            return itertools.cycle(self._fixed)
        return iter(self.draw, None)

    def draw(self) -> Request:
        """One realistic request."""
        rng = self.rng
        endpoint = rng.choices(self._endpoints, self._endpoint_weights)[0]
        lt = rng.choices(LISTING_TYPES, self._lt_weights)[0]
        if endpoint == "areas":
            return Request(endpoint, f"/api/areas/{lt}", None, (endpoint, lt))
        if endpoint == "property_types":
            return Request(endpoint, f"/api/property-types/{lt}", None, (endpoint, lt))
        if self._pool:
            return rng.choices(self._pool, self._pool_weights)[0]
        return self._fresh_valuation(lt)

    def _fresh_valuation(self, lt: str | None = None) -> Request:
        rng = self.rng
        if lt is None:
            lt = rng.choices(LISTING_TYPES, self._lt_weights)[0]
        endpoint = "valuation"
        area = rng.choices(self.catalog.areas, self._area_weights)[0]
        ptype = rng.choices(self.catalog.property_types, self._type_weights)[0]
        bedrooms = 0 if ptype == "studio" else min(6, max(1, round(rng.gauss(2.6, 1.1))))
        size = min(400, max(20, 5 * round(rng.gauss(28 + 24 * bedrooms, 9) / 5)))
        params: dict[str, str | int] = {
            "area": area,
            "property_type": ptype,
            "bedrooms": bedrooms,
            "size_sqm": size,
            "listing_type": lt,
        }
        return Request(
            endpoint, "/api/property/valuation", params, (endpoint, area, ptype, bedrooms, size, lt)
        )

    def _distinct(
        self, count: int, draw: Callable[[], Request], allow_fewer: bool = False
    ) -> list[Request]:
        """`count` requests with distinct keys, in the order first drawn (the popular first)."""
        found: dict[Key, Request] = {}
        for _ in range(count * 100):
            request = draw()
            found.setdefault(request.key, request)
            if len(found) == count:
                return list(found.values())
        if allow_fewer:
            return list(found.values())
        raise ValueError(f"the mix and catalog give fewer than {count} distinct keys")
