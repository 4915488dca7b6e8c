"""Deterministic property data: the same seed gives the same database, on SQLite or PostgreSQL.

    fill(engine, listings=1_000_000, seed=42)   # about 120 areas, 8 property types

Areas are popular by a Zipf-like law, prices follow area and type levels, and
sizes follow bedrooms, so that statistics and valuations look like a real market.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from service.db import areas, listings, property_types

_PREFIXES = [
    "North",
    "South",
    "East",
    "West",
    "Old",
    "New",
    "Upper",
    "Lower",
    "Kings",
    "Queens",
    "Mill",
    "Church",
]
_SUFFIXES = ["field", "gate", "bury", "wood", "ham", "ford", "ton", "bridge", "hill", "dale"]

#: slug, name, price factor
PROPERTY_TYPES = [
    ("flat", "Flat", 1.00),
    ("studio", "Studio", 0.90),
    ("maisonette", "Maisonette", 0.95),
    ("terraced", "Terraced house", 1.05),
    ("semi-detached", "Semi-detached house", 1.15),
    ("detached", "Detached house", 1.35),
    ("bungalow", "Bungalow", 1.10),
    ("cottage", "Cottage", 1.25),
]

_CHUNK = 50_000
_START = dt.date(2024, 1, 1)


def area_names() -> list[tuple[str, str]]:
    """The (slug, name) of every area: 120 of them, in a fixed order."""
    names = [f"{p}{s}" for p in _PREFIXES for s in _SUFFIXES]
    return [(name.lower(), name) for name in names]


def _rows(count: int, rng: random.Random, n_areas: int) -> Iterator[dict[str, object]]:
    area_weights = [1.0 / (rank + 1) ** 0.8 for rank in range(n_areas)]
    area_level = [rng.uniform(2_500.0, 9_000.0) for _ in range(n_areas)]
    type_weights = [30, 6, 5, 20, 16, 10, 8, 5]
    area_ids = rng.choices(range(n_areas), weights=area_weights, k=count)
    type_ids = rng.choices(range(len(PROPERTY_TYPES)), weights=type_weights, k=count)
    for i in range(count):
        area, ptype = area_ids[i], type_ids[i]
        bedrooms = 0 if ptype == 1 else min(6, max(1, round(rng.gauss(2.6, 1.1))))
        size = max(18.0, round(rng.gauss(28 + 24 * bedrooms, 9), 1))
        per_sqm = area_level[area] * PROPERTY_TYPES[ptype][2] * rng.lognormvariate(0, 0.18)
        buy = rng.random() < 0.6
        price = per_sqm * size if buy else per_sqm * size * 0.0042
        yield {
            "id": i + 1,
            "area_id": area + 1,
            "property_type_id": ptype + 1,
            "listing_type": "buy" if buy else "rent",
            "price": round(price, -2) if buy else round(price),
            "size_sqm": size,
            "bedrooms": bedrooms,
            "listed_date": _START + dt.timedelta(days=rng.randrange(700)),
        }


def fill(engine: Engine, count: int, seed: int) -> None:
    """Insert the areas, property types and `count` listings, in chunks, in one transaction."""
    rng = random.Random(seed)
    names = area_names()
    with engine.begin() as conn:
        conn.execute(
            areas.insert(), [{"id": i + 1, "slug": s, "name": n} for i, (s, n) in enumerate(names)]
        )
        conn.execute(
            property_types.insert(),
            [{"id": i + 1, "slug": s, "name": n} for i, (s, n, _) in enumerate(PROPERTY_TYPES)],
        )
        chunk: list[dict[str, object]] = []
        for row in _rows(count, rng, len(names)):
            chunk.append(row)
            if len(chunk) == _CHUNK:
                conn.execute(listings.insert(), chunk)
                chunk = []
        if chunk:
            conn.execute(listings.insert(), chunk)
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("ANALYZE listings"))
