"""The property database: schema and engine, SQLite by default, PostgreSQL by `DATABASE_URL`.

    engine = connect("sqlite:///.state/cachewatch.sqlite3")
    ensure_seeded(engine, listings=1_000, seed=42)

One set of SQLAlchemy Core tables and queries serves both databases.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

metadata = sa.MetaData()

areas = sa.Table(
    "areas",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(128), nullable=False),
)

property_types = sa.Table(
    "property_types",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(128), nullable=False),
)

listings = sa.Table(
    "listings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("area_id", sa.Integer, sa.ForeignKey("areas.id"), nullable=False),
    sa.Column("property_type_id", sa.Integer, sa.ForeignKey("property_types.id"), nullable=False),
    sa.Column("listing_type", sa.String(8), nullable=False),
    sa.Column("price", sa.Integer, nullable=False),
    sa.Column("size_sqm", sa.Float, nullable=False),
    sa.Column("bedrooms", sa.Integer, nullable=False),
    sa.Column("listed_date", sa.Date, nullable=False),
)

LISTING_TYPES = ("buy", "rent")


def connect(
    url: str, connect_timeout: float | None = None, statement_timeout: float | None = None
) -> Engine:
    """An engine for `url`; an SQLite file's folder is created if missing.

    The timeouts bound how long a request can wait on a sick database (the
    serving engine sets them; seeding does not, its statements are long):

    - `connect_timeout`: PostgreSQL's libpq `connect_timeout` (whole seconds, at least 2);
    - `statement_timeout`: PostgreSQL's `statement_timeout` (which covers waiting for a
      lock) and the wait for a free pooled connection; SQLite's busy timeout, how long
      a reader waits for a writer's lock before "database is locked".

    None or 0 leaves a timeout unset (SQLite then waits up to 30 s).

        engine = connect(url, connect_timeout=3, statement_timeout=10)
    """
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        busy = statement_timeout or 30.0
        return sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": busy})
    connect_args: dict[str, Any] = {}
    options: dict[str, Any] = {"pool_pre_ping": True, "pool_size": 4, "max_overflow": 4}
    if url.startswith("postgresql"):
        if connect_timeout:
            connect_args["connect_timeout"] = max(2, math.ceil(connect_timeout))
        if statement_timeout:
            milliseconds = max(1, round(statement_timeout * 1000))
            connect_args["options"] = f"-c statement_timeout={milliseconds}"
    if statement_timeout:
        options["pool_timeout"] = statement_timeout
    return sa.create_engine(url, connect_args=connect_args, **options)


def listing_count(engine: Engine) -> int:
    """How many listings the database holds (0 when the schema does not exist yet)."""
    if not sa.inspect(engine).has_table("listings"):
        return 0
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(listings)).scalar_one())


def ensure_seeded(engine: Engine, listings_wanted: int, seed: int) -> bool:
    """Create and fill the database if it is empty; return whether it was filled now."""
    from service.seed import fill

    if listing_count(engine) > 0:
        return False
    metadata.create_all(engine)
    fill(engine, listings_wanted, seed)
    return True
