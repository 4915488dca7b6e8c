"""The page registry: each page is a `Page` (path, nav name, layout, callbacks).

    app = create_app(pages=[*default_pages(), mine.PAGE])    # a page of one's own

A page module defines `PAGE = Page(path="/x", name="X", layout=..., register=...)`;
`register(app, ctx)` adds its callbacks (usually with `base.register_view`, which
turns Prometheus errors and missing data into the page's banner).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from dash import Dash
from dash.development.base_component import Component

if TYPE_CHECKING:
    from dashboard.context import AppContext


@dataclasses.dataclass(frozen=True)
class Page:
    """One page of the app: `layout()` builds its body, `register` its callbacks."""

    path: str
    name: str
    layout: Callable[[], Component]
    register: Callable[[Dash, AppContext], None]
    description: str = ""


def default_pages() -> list[Page]:
    """Rollout (home), Endpoints, Redis and TTL review, in navigation order."""
    from dashboard.pages import endpoints, redis, rollout, ttl

    return [rollout.PAGE, endpoints.PAGE, redis.PAGE, ttl.PAGE]
