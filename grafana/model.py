"""Small builders for Grafana dashboard JSON: panels, targets, variables and their layout.

    grid = Grid()
    grid.row("Is the cache working?")
    grid.add(stat("Hit ratio", "How to read it...", "percentunit", [Target("up")]), w=6, h=4)
    dashboard("cachewatch-rollout", "cachewatch: cache rollout", grid, variables=[DATASOURCE_VAR])

Every panel gets the dashboard's datasource variable, a unit and a description; the
grid places panels left to right and wraps, so positions never overlap.
"""

from __future__ import annotations

import dataclasses
from typing import Any

#: The provisioned Prometheus datasource (grafana/provisioning/datasources/prometheus.yml).
DATASOURCE_UID = "cachewatch-prometheus"
DATASOURCE_NAME = "Prometheus"
#: What panels and variables point at: the datasource variable, defaulting to the above.
DS = {"type": "prometheus", "uid": "${datasource}"}
GRID_COLUMNS = 24

Json = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Target:
    """One PromQL query of a panel. `instant` queries give one value per series."""

    expr: str
    legend: str = ""
    instant: bool = False
    format: str = "time_series"

    def to_json(self, ref_id: str) -> Json:
        return {
            "datasource": DS,
            "refId": ref_id,
            "expr": self.expr,
            "legendFormat": self.legend or "__auto",
            "range": not self.instant,
            "instant": self.instant,
            "format": self.format,
            "editorMode": "code",
        }


def _thresholds(steps: list[tuple[float | None, str]]) -> Json:
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for v, c in steps]}


def target_line(value: float, below: str = "red", above: str = "green") -> Json:
    """Threshold steps that draw a dashed line at `value` (colour below, colour above)."""
    return _thresholds([(None, below), (value, above)])


def _panel(
    kind: str,
    title: str,
    description: str,
    unit: str,
    targets: list[Target],
    *,
    thresholds: Json | None = None,
    custom: Json | None = None,
    options: Json | None = None,
    min_: float | None = None,
    max_: float | None = None,
    mappings: list[Json] | None = None,
    extra: Json | None = None,
) -> Json:
    defaults: Json = {"unit": unit}
    if min_ is not None:
        defaults["min"] = min_
    if max_ is not None:
        defaults["max"] = max_
    defaults["thresholds"] = thresholds or _thresholds([(None, "green")])
    defaults["color"] = {
        "mode": "thresholds" if kind in ("stat", "bargauge") else "palette-classic"
    }
    if mappings:
        defaults["mappings"] = mappings
    if custom:
        defaults["custom"] = custom
    panel: Json = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options or {},
        "targets": [t.to_json(chr(ord("A") + i)) for i, t in enumerate(targets)],
    }
    panel.update(extra or {})
    return panel


_REDUCE_LAST = {"calcs": ["lastNotNull"], "fields": "", "values": False}


def timeseries(
    title: str,
    description: str,
    unit: str,
    targets: list[Target],
    *,
    line_at: float | None = None,
    line_below: str = "red",
    line_above: str = "green",
    stacked: bool = False,
    min_: float | None = None,
    max_: float | None = None,
    draw: str = "line",
) -> Json:
    """A graph over time; `line_at` draws a threshold line (a target or a limit)."""
    custom: Json = {
        "drawStyle": draw,
        "lineInterpolation": "stepAfter" if draw == "line" and stacked else "linear",
        "lineWidth": 1,
        "fillOpacity": 30 if stacked else 10,
        "showPoints": "never",
        "spanNulls": False,
        "stacking": {"mode": "normal" if stacked else "none", "group": "A"},
        "thresholdsStyle": {"mode": "dashed" if line_at is not None else "off"},
    }
    return _panel(
        "timeseries",
        title,
        description,
        unit,
        targets,
        thresholds=target_line(line_at, line_below, line_above) if line_at is not None else None,
        custom=custom,
        options={
            "legend": {
                "displayMode": "table",
                "placement": "bottom",
                "calcs": ["mean", "max", "lastNotNull"],
                "showLegend": True,
            },
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        min_=min_,
        max_=max_,
    )


def stat(
    title: str,
    description: str,
    unit: str,
    targets: list[Target],
    *,
    thresholds: Json | None = None,
    mappings: list[Json] | None = None,
    min_: float | None = None,
    max_: float | None = None,
) -> Json:
    """Big numbers, coloured by `thresholds`: one per series, last value."""
    return _panel(
        "stat",
        title,
        description,
        unit,
        targets,
        thresholds=thresholds,
        mappings=mappings,
        min_=min_,
        max_=max_,
        options={
            "reduceOptions": _REDUCE_LAST,
            "colorMode": "background",
            "graphMode": "none",
            "textMode": "value_and_name",
            "justifyMode": "auto",
            "orientation": "auto",
        },
    )


def bargauge(
    title: str,
    description: str,
    unit: str,
    targets: list[Target],
    *,
    thresholds: Json | None = None,
    min_: float | None = None,
    max_: float | None = None,
) -> Json:
    """Horizontal bars, one per series, last value."""
    return _panel(
        "bargauge",
        title,
        description,
        unit,
        targets,
        thresholds=thresholds,
        min_=min_,
        max_=max_,
        options={
            "reduceOptions": _REDUCE_LAST,
            "orientation": "horizontal",
            "displayMode": "gradient",
            "showUnfilled": True,
        },
    )


def state_timeline(
    title: str, description: str, targets: list[Target], mappings: list[Json]
) -> Json:
    """On/off states over time (a breaker, a switch), coloured by value mappings."""
    return _panel(
        "state-timeline",
        title,
        description,
        "bool_on_off",
        targets,
        mappings=mappings,
        custom={"fillOpacity": 70, "lineWidth": 0},
        options={
            "showValue": "never",
            "mergeValues": True,
            "rowHeight": 0.8,
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
        },
    )


def heatmap(title: str, description: str, y_unit: str, targets: list[Target], **extra: Any) -> Json:
    """Buckets of a histogram over time; targets must use format="heatmap" and le legends."""
    return _panel(
        "heatmap",
        title,
        description,
        "short",
        targets,
        options={
            "calculate": False,
            "cellGap": 1,
            "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64, "exponent": 0.5},
            "yAxis": {"unit": y_unit, "axisPlacement": "left"},
            "rowsFrame": {"layout": "auto"},
            "tooltip": {"show": True, "yHistogram": True},
            "legend": {"show": True},
        },
        extra=extra,
    )


def table(title: str, description: str, unit: str, targets: list[Target]) -> Json:
    """Rows of an instant query's series, one column per label."""
    return _panel(
        "table",
        title,
        description,
        unit,
        targets,
        options={"showHeader": True, "footer": {"show": False}},
        extra={
            "transformations": [
                {
                    "id": "organize",
                    "options": {"excludeByName": {"Time": True, "__name__": True}},
                }
            ]
        },
    )


def value_map(values: dict[str, tuple[str, str]]) -> list[Json]:
    """Value mappings: {"1": ("UP", "green")} shows 1 as a green UP."""
    return [
        {
            "type": "value",
            "options": {
                v: {"text": text, "color": color, "index": i}
                for i, (v, (text, color)) in enumerate(values.items())
            },
        }
    ]


# -- variables ------------------------------------------------------------------------


DATASOURCE_VAR: Json = {
    "name": "datasource",
    "label": "Data source",
    "type": "datasource",
    "query": "prometheus",
    "current": {"selected": False, "text": DATASOURCE_NAME, "value": DATASOURCE_UID},
    "hide": 0,
    "refresh": 1,
    "regex": "",
    "options": [],
}


def query_var(name: str, label: str, query: str, *, multi: bool = True) -> Json:
    """A variable filled by a label_values(...) query; "All" matches everything (`.*`)."""
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DS,
        "definition": query,
        "query": query,
        "refresh": 2,
        "multi": multi,
        "includeAll": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
        "regex": "",
        "hide": 0,
        "options": [],
    }


# -- layout ---------------------------------------------------------------------------


class Grid:
    """Lays panels out left to right on Grafana's 24-column grid, wrapping as needed."""

    def __init__(self) -> None:
        self.panels: list[Json] = []
        self._x = 0
        self._y = 0
        self._row_h = 0

    def _newline(self) -> None:
        self._y += self._row_h
        self._x = 0
        self._row_h = 0

    def row(self, title: str) -> None:
        """A full-width row header; the panels after it belong to it."""
        if self._x:
            self._newline()
        self.panels.append(
            {
                "type": "row",
                "title": title,
                "collapsed": False,
                "panels": [],
                "id": len(self.panels) + 1,
                "gridPos": {"x": 0, "y": self._y, "w": GRID_COLUMNS, "h": 1},
            }
        )
        self._y += 1

    def add(self, panel: Json, w: int, h: int) -> Json:
        """Place `panel` (w columns, h rows) after the previous one; return it with its id."""
        if not 0 < w <= GRID_COLUMNS:
            raise ValueError(f"panel width {w} is not within 1..{GRID_COLUMNS}")
        if self._x + w > GRID_COLUMNS:
            self._newline()
        panel = {"id": len(self.panels) + 1, **panel}
        panel["gridPos"] = {"x": self._x, "y": self._y, "w": w, "h": h}
        self._x += w
        self._row_h = max(self._row_h, h)
        self.panels.append(panel)
        return panel


def dashboard(
    uid: str,
    title: str,
    description: str,
    grid: Grid,
    variables: list[Json],
    *,
    time_from: str,
    links: list[Json] | None = None,
) -> Json:
    """The dashboard document Grafana's file provider loads."""
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["cachewatch"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "1m",
        "time": {"from": time_from, "to": "now"},
        "timepicker": {},
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "annotations": {"list": []},
        "links": links or [],
        "templating": {"list": variables},
        "panels": grid.panels,
    }


def dashboard_link(title: str, uid: str) -> Json:
    """A link in the dashboard's header to another dashboard, keeping time and variables."""
    return {
        "title": title,
        "type": "link",
        "url": f"/d/{uid}",
        "keepTime": True,
        "includeVars": True,
        "icon": "dashboard",
        "targetBlank": False,
        "asDropdown": False,
        "tags": [],
        "tooltip": "",
    }
