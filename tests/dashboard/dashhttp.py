"""Call a running Dash app's callbacks over HTTP, as the browser does.

    dep = page_callback(url, "rollout")            # from /_dash-dependencies
    response = call(url, dep, search="?range=7d")  # POST /_dash-update-component
    outputs(response)                              # {"rollout-banner.children": ..., ...}

Used by the page tests and by bench/dashboard_callbacks.py.
"""

from __future__ import annotations

import json
from typing import Any

import requests


def _parse_output(spec: str) -> list[dict[str, Any]]:
    """`..a.children...{"chart":"x","type":"chart"}.figure..` -> [{"id", "property"}, ...]."""
    parts = spec.strip(".").split("...") if spec.startswith("..") else [spec]
    out = []
    for part in parts:
        ident, _, prop = part.rpartition(".")
        out.append({"id": json.loads(ident) if ident.startswith("{") else ident, "property": prop})
    return out


def page_callback(base_url: str, prefix: str) -> dict[str, Any]:
    """The callback that fills page `prefix` (the one writing `{prefix}-banner`)."""
    deps = requests.get(f"{base_url}/_dash-dependencies", timeout=10).json()
    for dep in deps:
        if f"{prefix}-banner.children" in dep["output"]:
            return dict(dep)
    raise LookupError(f"no callback writes {prefix}-banner")


def call(
    base_url: str,
    dep: dict[str, Any],
    search: str = "",
    n_intervals: int = 0,
    session: requests.Session | None = None,
) -> requests.Response:
    """POST the page callback with `search` as the URL's query string."""
    values = {"url.search": search, "refresh.n_intervals": n_intervals}
    inputs = [
        {**i, "value": values[f"{i['id']}.{i['property']}"]} for i in dep["inputs"]
    ]  # fmt: skip
    body = {
        "output": dep["output"],
        "outputs": _parse_output(dep["output"]),
        "inputs": inputs,
        "changedPropIds": ["url.search"],
        "state": [{**s, "value": None} for s in dep.get("state", [])],
    }
    return (session or requests).post(f"{base_url}/_dash-update-component", json=body, timeout=60)


def outputs(response: requests.Response) -> dict[str, Any]:
    """The callback's answer as {"id.property": value}."""
    answer = response.json()["response"]
    return {
        f"{ident}.{prop}": value for ident, props in answer.items() for prop, value in props.items()
    }
