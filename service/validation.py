"""Request parameters checked and made canonical before anything touches the cache.

    params = valuation_params(request.args, catalog)   # raises ApiError(400/404) on bad input

Canonical values (ints, lower-case slugs) make the same request give the same
cache key whatever its spelling or argument order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from werkzeug.datastructures import MultiDict

from service.db import LISTING_TYPES
from service.errors import ApiError
from service.queries import Catalog, ValuationParams

MAX_BEDROOMS = 20
SIZE_RANGE = (5.0, 5_000.0)
_MAX_LEN = 64


def _single(args: MultiDict[str, str], name: str, required: bool = True) -> str | None:
    values = args.getlist(name)
    if len(values) > 1:
        raise ApiError(400, f"{name} was given more than once", field=name)
    if not values or values[0].strip() == "":
        if required:
            raise ApiError(400, f"{name} is required", field=name)
        return None
    value = values[0].strip()
    if len(value) > _MAX_LEN:
        raise ApiError(400, f"{name} is too long", field=name)
    return value


def listing_type(value: str | None, field: str = "listing_type") -> str:
    """`buy` or `rent`; anything else is not found."""
    lowered = (value or "").strip().lower()
    if lowered not in LISTING_TYPES:
        raise ApiError(404, f"unknown {field}: expected one of {', '.join(LISTING_TYPES)}", field)
    return lowered


def known_slug(value: str, known: frozenset[str], field: str) -> str:
    lowered = value.lower()
    if lowered not in known:
        raise ApiError(404, f"unknown {field}", field=field)
    return lowered


def _number(raw: str, field: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, f"{field} must be a number", field=field) from None
    if not math.isfinite(value):
        raise ApiError(400, f"{field} must be a finite number", field=field)
    return value


def valuation_params(
    args: Mapping[str, str] | MultiDict[str, str], catalog: Catalog
) -> ValuationParams:
    """Check the valuation query string; return its canonical parameters."""
    multi = args if isinstance(args, MultiDict) else MultiDict(args)
    area = _single(multi, "area")
    ptype = _single(multi, "property_type")
    bedrooms_raw = _single(multi, "bedrooms")
    size_raw = _single(multi, "size_sqm")
    lt_raw = _single(multi, "listing_type", required=False)
    assert area is not None and ptype is not None
    assert bedrooms_raw is not None and size_raw is not None

    bedrooms = _number(bedrooms_raw, "bedrooms")
    if bedrooms != int(bedrooms):
        raise ApiError(400, "bedrooms must be a whole number", field="bedrooms")
    if not 0 <= bedrooms <= MAX_BEDROOMS:
        raise ApiError(400, f"bedrooms must be between 0 and {MAX_BEDROOMS}", field="bedrooms")
    size = _number(size_raw, "size_sqm")
    low, high = SIZE_RANGE
    if not low <= size <= high:
        raise ApiError(400, f"size_sqm must be between {low:g} and {high:g}", field="size_sqm")

    return ValuationParams(
        area=known_slug(area, catalog.areas, "area"),
        property_type=known_slug(ptype, catalog.property_types, "property_type"),
        bedrooms=int(bedrooms),
        size_sqm=round(size),
        listing_type=listing_type(lt_raw or "buy"),
    )
