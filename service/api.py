"""The property API: the rollout's three cached endpoints, and the write path that changes data.

GET  /api/areas/<listing_type>                 per-area statistics        (TTL 1 h)
GET  /api/property-types/<listing_type>        per-type statistics        (TTL 1 h)
GET  /api/property/valuation?area=&property_type=&bedrooms=&size_sqm=&listing_type=
                                               estimate from comparables  (TTL 5 min)
POST /api/listings                             add a listing (admin token)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.engine import Engine

from service import queries, validation
from service.admin import require_admin
from service.cache import EXTENSION, cached
from service.db import areas as areas_table
from service.db import listings, property_types
from service.errors import ApiError, BackendUnavailable
from service.keys import digest
from service.queries import Catalog, ValuationParams

bp = Blueprint("api", __name__)


def engine() -> Engine:
    engine: Engine = current_app.extensions["cachewatch.engine"]
    return engine


def catalog() -> Catalog:
    """The known slugs, read from the database once per process."""
    found: Catalog | None = current_app.extensions.get("cachewatch.catalog")
    if found is None:
        try:
            found = Catalog.load(engine())
        except sa.exc.SQLAlchemyError as exc:
            raise BackendUnavailable() from exc
        current_app.extensions["cachewatch.catalog"] = found
    return found


def _listing_type(listing_type: str) -> dict[str, Any]:
    return {"listing_type": validation.listing_type(listing_type)}


def _valuation(**_: Any) -> dict[str, Any]:
    p = validation.valuation_params(request.args, catalog())
    return {"p": {f: getattr(p, f) for f in ValuationParams.__dataclass_fields__}}


def compute_area_stats(listing_type: str) -> dict[str, Any]:
    return queries.area_stats(engine(), listing_type)


def compute_property_type_stats(listing_type: str) -> dict[str, Any]:
    return queries.property_type_stats(engine(), listing_type)


area_stats = bp.get("/api/areas/<listing_type>")(
    cached("areas", params=_listing_type)(compute_area_stats)
)
property_type_stats = bp.get("/api/property-types/<listing_type>")(
    cached("property_types", params=_listing_type)(compute_property_type_stats)
)


@bp.get("/api/property/valuation")
@cached("valuation", params=_valuation)
def valuation(p: dict[str, Any]) -> dict[str, Any]:
    return queries.valuation(engine(), ValuationParams(**p))


def _body_field(body: dict[str, Any], name: str, kind: type, low: float, high: float) -> Any:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiError(400, f"{name} must be a number", field=name)
    if not low <= value <= high or (kind is int and value != int(value)):
        raise ApiError(400, f"{name} must be a {kind.__name__} between {low:g} and {high:g}", name)
    return kind(value)


@bp.post("/api/listings")
@require_admin
def add_listing() -> tuple[Response, int]:
    """Insert one listing; record a data-change event for every cache entry it affects."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    known = catalog()
    area = validation.known_slug(str(body.get("area", "")), known.areas, "area")
    ptype = validation.known_slug(
        str(body.get("property_type", "")), known.property_types, "property_type"
    )
    lt = validation.listing_type(str(body.get("listing_type", "")))
    row = {
        "listing_type": lt,
        "price": _body_field(body, "price", int, 1, 1e9),
        "size_sqm": _body_field(body, "size_sqm", float, *validation.SIZE_RANGE),
        "bedrooms": _body_field(body, "bedrooms", int, 0, validation.MAX_BEDROOMS),
        "listed_date": dt.date.today(),
    }
    with engine().begin() as conn:
        area_id = conn.execute(
            sa.select(areas_table.c.id).where(areas_table.c.slug == area)
        ).scalar_one()
        type_id = conn.execute(
            sa.select(property_types.c.id).where(property_types.c.slug == ptype)
        ).scalar_one()
        new_id = conn.execute(
            listings.insert().values(area_id=area_id, property_type_id=type_id, **row)
        ).inserted_primary_key
    sampler = current_app.extensions[EXTENSION].sampler
    if sampler is not None:
        sampler.event("areas", digest({"listing_type": lt}), "change")
        sampler.event("property_types", digest({"listing_type": lt}), "change")
        sampler.event("valuation", "*", "change")
    return jsonify(id=new_id[0] if new_id else None, area=area, property_type=ptype, **row), 201
