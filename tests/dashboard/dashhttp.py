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


def find_callback(base_url: str, output: str) -> dict[str, Any]:
    """The callback writing `output` (`id.property`), from /_dash-dependencies."""
    deps = requests.get(f"{base_url}/_dash-dependencies", timeout=10).json()
    for dep in deps:
        if output in dep["output"]:
            return dict(dep)
    raise LookupError(f"no callback writes {output}")


def page_callback(base_url: str, prefix: str) -> dict[str, Any]:
    """The callback that fills page `prefix` (the one writing `{prefix}-banner`)."""
    return find_callback(base_url, f"{prefix}-banner.children")


def call(
    base_url: str,
    dep: dict[str, Any],
    search: str = "",
    n_intervals: int = 0,
    session: requests.Session | None = None,
    values: dict[str, Any] | None = None,
    changed: str = "url.search",
) -> requests.Response:
    """POST the callback with `search` as the URL's query string; other inputs from `values`
    (`{"id.property": value}`, else null); `changed` is the input that fired it."""
    given = {"url.search": search, "refresh.n_intervals": n_intervals, **(values or {})}
    inputs = [{**i, "value": given.get(f"{i['id']}.{i['property']}")} for i in dep["inputs"]]
    body = {
        "output": dep["output"],
        "outputs": _parse_output(dep["output"]),
        "inputs": inputs,
        "changedPropIds": [changed],
        "state": [{**s, "value": None} for s in dep.get("state", [])],
    }
    return (session or requests).post(f"{base_url}/_dash-update-component", json=body, timeout=60)


def outputs(response: requests.Response) -> dict[str, Any]:
    """The callback's answer as {"id.property": value}."""
    answer = response.json()["response"]
    return {
        f"{ident}.{prop}": value for ident, props in answer.items() for prop, value in props.items()
    }
