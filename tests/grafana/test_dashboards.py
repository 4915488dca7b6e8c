"""The provisioned dashboards' structure: ids, layout, datasources, units, queries."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from grafana import build
from grafana.expressions import (
    all_panels,
    counters_without_rate,
    label_values_query,
    metric_names,
    range_windows,
    variable_queries,
    variables_used,
)
from grafana.model import DATASOURCE_UID, GRID_COLUMNS
from tests.grafana.conftest import load_dashboards

Board = dict[str, Any]
EXPECTED_UIDS = {
    "cache-rollout.json": "cachewatch-rollout",
    "ttl-review.json": "cachewatch-ttl-review",
}
BUILTIN_VARIABLES = {"__rate_interval", "__interval", "__range"}
DATASOURCES = {DATASOURCE_UID, "${datasource}"}
#: Grafana's unit ids used here; custom units are "suffix:<text>".
UNITS = {"percentunit", "s", "bytes", "reqps", "ops", "short", "bool", "bool_on_off"}
BOARDS = load_dashboards()


def query_panels(board: Board) -> list[Board]:
    return [p for p in all_panels(board) if p["type"] != "row"]


def targets(board: Board) -> list[tuple[Board, Board]]:
    return [(p, t) for p in query_panels(board) for t in p["targets"]]


def thresholds(panel: Board) -> list[float]:
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    return [s["value"] for s in steps if s["value"] is not None]


def panel(board: Board, title: str) -> Board:
    found = [p for p in all_panels(board) if p["title"] == title]
    assert len(found) == 1, f"{board['uid']} has {len(found)} panels titled {title!r}"
    return found[0]


def test_both_dashboards_exist_with_their_stable_uids(dashboards: dict[str, Board]) -> None:
    assert {name: d["uid"] for name, d in dashboards.items()} == EXPECTED_UIDS


def test_uids_are_unique_and_short(dashboards: dict[str, Board]) -> None:
    uids = [d["uid"] for d in dashboards.values()]
    assert len(set(uids)) == len(uids)
    assert all(len(uid) <= 40 for uid in uids), "Grafana uids are at most 40 characters"


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_panel_ids_are_unique(name: str) -> None:
    ids = [p["id"] for p in all_panels(BOARDS[name])]
    assert len(ids) == len(set(ids)), sorted(ids)


def _overlap(a: Board, b: Board) -> bool:
    ga, gb = a["gridPos"], b["gridPos"]
    return (
        ga["x"] < gb["x"] + gb["w"]
        and gb["x"] < ga["x"] + ga["w"]
        and ga["y"] < gb["y"] + gb["h"]
        and gb["y"] < ga["y"] + ga["h"]
    )


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_grid_positions_fit_24_columns_without_overlap(name: str) -> None:
    panels = list(all_panels(BOARDS[name]))
    for p in panels:
        g = p["gridPos"]
        assert g["x"] >= 0 and g["y"] >= 0 and g["w"] > 0 and g["h"] > 0, p["title"]
        assert g["x"] + g["w"] <= GRID_COLUMNS, f"{p['title']} ends past column 24"
    clashes = [
        (a["title"], b["title"]) for a, b in itertools.combinations(panels, 2) if _overlap(a, b)
    ]
    assert clashes == []


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_repeated_panels_have_their_rows_to_themselves(name: str) -> None:
    """Grafana lays a panel's repeats out to its right: nothing else may share its rows."""
    panels = list(all_panels(BOARDS[name]))
    for p in panels:
        if not p.get("repeat"):
            continue
        assert p["repeat"] in {v["name"] for v in BOARDS[name]["templating"]["list"]}
        y, h = p["gridPos"]["y"], p["gridPos"]["h"]
        beside = [
            q["title"]
            for q in panels
            if q is not p
            and q["gridPos"]["y"] < y + h
            and y < q["gridPos"]["y"] + q["gridPos"]["h"]
        ]
        assert beside == [], f"{p['title']} repeats into {beside}"


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_panel_has_datasource_unit_description_and_a_query(name: str) -> None:
    for p in query_panels(BOARDS[name]):
        assert p["datasource"]["uid"] in DATASOURCES, p["title"]
        assert p["datasource"]["type"] == "prometheus", p["title"]
        unit = p["fieldConfig"]["defaults"].get("unit", "")
        assert unit in UNITS or unit.startswith("suffix:"), f"{p['title']}: unit {unit!r}"
        assert len(p.get("description", "")) >= 40, f"{p['title']} needs a description"
        assert p["targets"], f"{p['title']} has no query"
        for t in p["targets"]:
            assert t["expr"].strip(), p["title"]
            assert t["datasource"]["uid"] in DATASOURCES, p["title"]
        ref_ids = [t["refId"] for t in p["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), p["title"]


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_the_datasource_variable_defaults_to_the_provisioned_prometheus(name: str) -> None:
    variables = {v["name"]: v for v in BOARDS[name]["templating"]["list"]}
    ds = variables["datasource"]
    assert ds["type"] == "datasource" and ds["query"] == "prometheus"
    assert ds["current"]["value"] == DATASOURCE_UID


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_no_counter_is_read_without_a_rate(name: str) -> None:
    for p, t in targets(BOARDS[name]):
        assert counters_without_rate(t["expr"]) == [], f"{p['title']}: {t['expr']}"


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_rates_use_rate_interval_or_the_whole_range_in_instant_queries(name: str) -> None:
    for p, t in targets(BOARDS[name]):
        allowed = {"$__rate_interval", "$__range"} if t["instant"] else {"$__rate_interval"}
        assert set(range_windows(t["expr"])) <= allowed, f"{p['title']}: {t['expr']}"


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_variable_used_is_defined(name: str) -> None:
    defined = {v["name"] for v in BOARDS[name]["templating"]["list"]} | BUILTIN_VARIABLES
    for p, t in targets(BOARDS[name]):
        assert variables_used(t["expr"]) <= defined, f"{p['title']}: {t['expr']}"
    for p in query_panels(BOARDS[name]):
        assert variables_used(p["title"]) <= defined, p["title"]


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_variable_queries_are_label_values_of_contract_metrics(name: str) -> None:
    queries = dict(variable_queries(BOARDS[name]))
    assert queries, "no query variable"
    for where, query in queries.items():
        promql = label_values_query(query)
        assert promql.startswith("group by ("), where
    for var in BOARDS[name]["templating"]["list"]:
        if var["type"] == "query":
            assert var["multi"] and var["includeAll"] and var["allValue"] == ".*", var["name"]
            assert var["datasource"]["uid"] in DATASOURCES


def test_rollout_variables() -> None:
    variables = {v["name"]: v for v in BOARDS["ttl-review.json"]["templating"]["list"]}
    assert set(variables) == {"datasource", "endpoint"}
    variables = {v["name"]: v for v in BOARDS["cache-rollout.json"]["templating"]["list"]}
    assert set(variables) == {"datasource", "endpoint", "instance"}
    assert variables["endpoint"]["query"] == "label_values(cachewatch_cache_hits_total, endpoint)"
    assert variables["instance"]["query"] == 'label_values(up{job="cachewatch"}, instance)'


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_instance_breakdowns_read_raw_metrics_filtered_by_instance(name: str) -> None:
    """Recording rules sum over instances: a per-instance panel must read raw series."""
    for p, t in targets(BOARDS[name]):
        recorded = {m for m in metric_names(t["expr"]) if ":" in m}
        if "$instance" in t["expr"]:
            assert not recorded, f"{p['title']} filters recording rules {recorded} by instance"
        if "instance" in t["legendFormat"] or "by (instance" in t["expr"]:
            assert "$instance" in t["expr"] and not recorded, f"{p['title']}: {t['expr']}"


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_recording_rules_are_preferred_for_ratios_and_quantiles(name: str) -> None:
    """Hit ratios and request latency quantiles come from the recording rules."""
    for p, t in targets(BOARDS[name]):
        names = metric_names(t["expr"])
        assert "cachewatch_http_request_duration_seconds_bucket" not in names, p["title"]
        if t["instant"] and "$__range" in t["expr"]:
            continue  # a ratio over the whole selected range has no recording rule
        if "hit ratio" in p["title"].lower():
            assert all(":" in n for n in names), f"{p['title']} should read a recording rule"


def test_rollout_has_every_panel_the_issue_asks_for() -> None:
    board = BOARDS["cache-rollout.json"]
    t = build.load_thresholds()
    target, limit = t["hit_ratio"]["warning"], t["cached_latency"]["max_seconds"]
    stat = panel(board, "Hit ratio, last 24 h")
    assert stat["type"] == "stat" and thresholds(stat) == [target]
    assert stat["fieldConfig"]["defaults"]["unit"] == "percentunit"
    over_time = panel(board, "Hit ratio per endpoint")
    assert thresholds(over_time) == [target]
    assert over_time["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] != "off"
    for q in ("p50", "p95", "p99"):
        latency = panel(board, f"Latency {q}: hits vs misses")
        assert thresholds(latency) == [limit] and latency["fieldConfig"]["defaults"]["unit"] == "s"
        assert 'cache=~"hit|miss"' in latency["targets"][0]["expr"]
    exprs = "\n".join(t["expr"] for _, t in targets(board))
    for needed in (
        "endpoint:cachewatch_served_from_cache:ratio_rate",
        "endpoint:cachewatch_db_load_reduction:ratio_rate",
        "cachewatch_cache_hits_total",
        "cachewatch_cache_misses_total",
        "cachewatch_cache_bypass_total",
        "cachewatch_cache_errors_total",
        "cachewatch_cache_circuit_open",
        "cachewatch_redis_memory_used_bytes",
        "cachewatch_redis_memory_max_bytes",
        "cachewatch_redis_evicted_keys_total",
        "cachewatch_redis_expired_keys_total",
        "cachewatch_redis_keys",
        "cachewatch_redis_up",
        'ALERTS{alertstate="firing"}',
    ):
        assert needed in exprs, f"the rollout dashboard shows nothing of {needed}"


def test_ttl_review_has_every_panel_the_issue_asks_for() -> None:
    board = BOARDS["ttl-review.json"]
    assert board["time"]["from"] == "now-7d"
    hit_age = [p for p in query_panels(board) if p["type"] == "heatmap"]
    assert hit_age and "cachewatch_cache_hit_age_seconds_bucket" in hit_age[0]["targets"][0]["expr"]
    assert hit_age[0]["targets"][0]["format"] == "heatmap" and hit_age[0]["repeat"] == "endpoint"
    against_ttl = panel(board, "Hit age quantiles against the TTL")
    exprs = [t["expr"] for t in against_ttl["targets"]]
    assert any("histogram_quantile" in e and "hit_age" in e for e in exprs)
    assert any("cachewatch_cache_ttl_seconds" in e for e in exprs)
    misses = panel(board, "Misses by reason")
    assert "by (endpoint, reason)" in misses["targets"][0]["expr"]
    all_exprs = "\n".join(t["expr"] for _, t in targets(board))
    for needed in (
        "cachewatch_cache_entry_size_bytes",
        "cachewatch_redis_memory_used_bytes",
        "[$__range]",
    ):
        assert needed in all_exprs
