"""The three slow queries behind the cached endpoints, in SQLAlchemy Core.

    stats = area_stats(engine, "buy")          # one row per area
    quote = valuation(engine, ValuationParams(...))

Each returns plain JSON-ready data; the cache layer serializes it.
"""

from __future__ import annotations

import dataclasses
import statistics
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from service.db import areas, listings, property_types

_MIN_COMPARABLES = 5


@dataclasses.dataclass(frozen=True)
class Catalog:
    """The valid area and property-type slugs, read once from the database."""

    areas: frozenset[str]
    property_types: frozenset[str]

    @classmethod
    def load(cls, engine: Engine) -> Catalog:
        with engine.connect() as conn:
            area_slugs = conn.execute(sa.select(areas.c.slug)).scalars().all()
            type_slugs = conn.execute(sa.select(property_types.c.slug)).scalars().all()
        return cls(frozenset(area_slugs), frozenset(type_slugs))


@dataclasses.dataclass(frozen=True)
class ValuationParams:
    area: str
    property_type: str
    bedrooms: int
    size_sqm: int
    listing_type: str


def _price_stats(
    group: sa.ColumnElement[Any],
    name: sa.ColumnElement[Any],
    listing_type: str,
    join: sa.FromClause,
) -> sa.Select[Any]:
    return (
        sa.select(
            group,
            name,
            sa.func.count().label("listings"),
            sa.func.avg(listings.c.price).label("price_mean"),
            sa.func.min(listings.c.price).label("price_min"),
            sa.func.max(listings.c.price).label("price_max"),
            sa.func.avg(listings.c.price / listings.c.size_sqm).label("price_per_sqm_mean"),
            sa.func.avg(listings.c.size_sqm).label("size_sqm_mean"),
        )
        .select_from(join)
        .where(listings.c.listing_type == listing_type)
        .group_by(group, name)
        .order_by(group)
    )


def _rows(engine: Engine, query: sa.Select[Any], key: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        result = conn.execute(query).mappings().all()
    return [
        {
            key: row["slug"],
            "name": row["name"],
            "listings": int(row["listings"]),
            "price_mean": round(float(row["price_mean"]), 2),
            "price_min": int(row["price_min"]),
            "price_max": int(row["price_max"]),
            "price_per_sqm_mean": round(float(row["price_per_sqm_mean"]), 2),
            "size_sqm_mean": round(float(row["size_sqm_mean"]), 1),
        }
        for row in result
    ]


def area_stats(engine: Engine, listing_type: str) -> dict[str, Any]:
    """Listing counts and price statistics per area."""
    join = listings.join(areas, listings.c.area_id == areas.c.id)
    query = _price_stats(areas.c.slug, areas.c.name, listing_type, join)
    rows = _rows(engine, query, "area")
    return {"listing_type": listing_type, "count": len(rows), "areas": rows}


def property_type_stats(engine: Engine, listing_type: str) -> dict[str, Any]:
    """Listing counts and price statistics per property type."""
    join = listings.join(property_types, listings.c.property_type_id == property_types.c.id)
    query = _price_stats(property_types.c.slug, property_types.c.name, listing_type, join)
    rows = _rows(engine, query, "property_type")
    return {"listing_type": listing_type, "count": len(rows), "property_types": rows}


def _comparable_prices(
    engine: Engine, p: ValuationParams, size_band: float, same_bedrooms: bool
) -> list[float]:
    query = (
        sa.select(listings.c.price / listings.c.size_sqm)
        .select_from(
            listings.join(areas, listings.c.area_id == areas.c.id).join(
                property_types, listings.c.property_type_id == property_types.c.id
            )
        )
        .where(
            areas.c.slug == p.area,
            property_types.c.slug == p.property_type,
            listings.c.listing_type == p.listing_type,
            listings.c.size_sqm.between(p.size_sqm * (1 - size_band), p.size_sqm * (1 + size_band)),
        )
    )
    if same_bedrooms:
        query = query.where(listings.c.bedrooms == p.bedrooms)
    with engine.connect() as conn:
        return [float(v) for v in conn.execute(query).scalars()]


def valuation(engine: Engine, p: ValuationParams) -> dict[str, Any]:
    """An estimate from comparable listings, widening the search until enough are found."""
    basis = "same bedrooms, size within 20 %"
    per_sqm = _comparable_prices(engine, p, 0.2, same_bedrooms=True)
    if len(per_sqm) < _MIN_COMPARABLES:
        basis = "any bedrooms, size within 40 %"
        per_sqm = _comparable_prices(engine, p, 0.4, same_bedrooms=False)
    answer: dict[str, Any] = {
        "area": p.area,
        "property_type": p.property_type,
        "bedrooms": p.bedrooms,
        "size_sqm": p.size_sqm,
        "listing_type": p.listing_type,
        "comparables": len(per_sqm),
        "basis": basis,
    }
    if not per_sqm:
        return {**answer, "estimate": None, "range": None, "price_per_sqm": None}
    quartiles = statistics.quantiles(per_sqm, n=4) if len(per_sqm) > 1 else [per_sqm[0]] * 3
    median = statistics.median(per_sqm)
    return {
        **answer,
        "estimate": round(median * p.size_sqm),
        "range": {
            "low": round(quartiles[0] * p.size_sqm),
            "high": round(quartiles[2] * p.size_sqm),
        },
        "price_per_sqm": round(median, 2),
    }
