"""The provisioning files have the fields Grafana's file provisioning requires.

Schemas: Grafana's "Provision Grafana Alerting resources / file provisioning" docs and
its provisioning readers (rule groups need a name, folder and interval; rules a uid,
title, condition and data; each query a refId, datasourceUid, relativeTimeRange, model).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from grafana import build
from grafana.expressions import all_panels
from grafana.model import DATASOURCE_UID
from tests.grafana.conftest import PROVISIONING, load_dashboards, load_yaml

DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")
NO_DATA_STATES = {"NoData", "Alerting", "OK", "KeepLast"}
EXEC_ERR_STATES = {"Error", "Alerting", "OK", "KeepLast"}
Doc = dict[str, Any]


def rules(doc: Doc) -> list[Doc]:
    return [rule for group in doc["groups"] for rule in group["rules"]]


def by_title(doc: Doc) -> dict[str, Doc]:
    return {rule["title"]: rule for rule in rules(doc)}


def test_every_provisioning_file_is_version_1() -> None:
    files = sorted(PROVISIONING.rglob("*.yml"))
    assert len(files) == 5, files
    for path in files:
        assert load_yaml(str(path.relative_to(PROVISIONING)))["apiVersion"] == 1, path


def test_the_datasource_is_the_compose_prometheus_with_a_fixed_uid() -> None:
    (ds,) = load_yaml("datasources/prometheus.yml")["datasources"]
    assert ds["uid"] == DATASOURCE_UID and ds["type"] == "prometheus"
    assert ds["url"] == "http://prometheus:9090" and ds["access"] == "proxy"
    assert ds["isDefault"] is True


def test_the_dashboard_provider_loads_the_mounted_folder() -> None:
    (provider,) = load_yaml("dashboards/cachewatch.yml")["providers"]
    assert provider["type"] == "file" and provider["orgId"] == 1
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    assert provider["folder"]


def test_rule_groups_have_the_required_fields(alert_rules: Doc) -> None:
    assert alert_rules["apiVersion"] == 1 and alert_rules["groups"]
    for group in alert_rules["groups"]:
        assert group["orgId"] == 1
        assert group["name"].strip() and group["folder"].strip()
        assert DURATION.match(group["interval"]), group["interval"]
        assert group["rules"]


def test_rule_uids_are_unique_and_fit_grafanas_limit(alert_rules: Doc) -> None:
    uids = [rule["uid"] for rule in rules(alert_rules)]
    assert len(uids) == len(set(uids))
    assert all(re.fullmatch(r"[a-zA-Z0-9_-]{1,40}", uid) for uid in uids), uids


def test_every_rule_has_the_required_fields(alert_rules: Doc) -> None:
    for rule in rules(alert_rules):
        name = rule["title"]
        assert rule["title"].strip() and rule["uid"].strip()
        assert rule["noDataState"] in NO_DATA_STATES, name
        assert rule["execErrState"] in EXEC_ERR_STATES, name
        assert DURATION.match(rule["for"]), name
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        for key in ("summary", "description", "runbook_url"):
            assert rule["annotations"][key].strip(), f"{name} has no {key}"
            # Grafana expands ${VAR} from its environment in provisioned annotations.
            assert "${" not in rule["annotations"][key], name
        ref_ids = [q["refId"] for q in rule["data"]]
        assert len(ref_ids) == len(set(ref_ids)), name
        assert rule["condition"] in ref_ids, name
        for query in rule["data"]:
            assert query["datasourceUid"], name
            span = query["relativeTimeRange"]
            assert isinstance(span["from"], int) and isinstance(span["to"], int), name
            assert span["from"] >= span["to"] >= 0, name
            assert query["model"]["refId"] == query["refId"], name


def test_each_rule_is_a_query_then_a_nan_safe_reduce_then_a_threshold(alert_rules: Doc) -> None:
    for rule in rules(alert_rules):
        query, reduce, threshold = rule["data"]
        assert query["datasourceUid"] == DATASOURCE_UID
        assert query["model"]["expr"].strip()
        assert query["relativeTimeRange"]["from"] > 0
        assert reduce["datasourceUid"] == "__expr__" and reduce["model"]["type"] == "reduce"
        assert reduce["model"]["expression"] == query["refId"]
        settings = reduce["model"]["settings"]
        assert settings["mode"] in {"dropNN", "replaceNN"}
        if settings["mode"] == "replaceNN":
            assert isinstance(settings["replaceWithValue"], int | float)
        assert threshold["datasourceUid"] == "__expr__"
        assert threshold["model"]["type"] == "threshold"
        assert threshold["model"]["expression"] == reduce["refId"]
        (condition,) = threshold["model"]["conditions"]
        assert condition["evaluator"]["type"] in {"gt", "lt", "within_range", "outside_range"}
        assert rule["condition"] == threshold["refId"]


def test_the_four_alerts_use_the_thresholds_file(alert_rules: Doc) -> None:
    t = build.load_thresholds()
    expected = {
        "CacheHitRatioLow": ("lt", t["hit_ratio"]["warning"]),
        "RedisDown": ("lt", 1),
        "CacheErrors": ("gt", 0),
        "CachedLatencyHigh": ("gt", t["cached_latency"]["max_seconds"]),
    }
    found = by_title(alert_rules)
    assert set(found) == set(expected)
    for title, (op, value) in expected.items():
        evaluator = found[title]["data"][2]["model"]["conditions"][0]["evaluator"]
        assert (evaluator["type"], evaluator["params"]) == (op, [value]), title
    hit_ratio = found["CacheHitRatioLow"]
    assert f">= {t['hit_ratio']['min_lookups_per_second']}" in hit_ratio["data"][0]["model"]["expr"]
    assert hit_ratio["for"] == t["hit_ratio"]["for"]
    latency = found["CachedLatencyHigh"]["data"][0]["model"]["expr"]
    assert f"{t['cached_latency']['quantile']}_rate5m" in latency and 'cache="hit"' in latency


@pytest.mark.parametrize("title", ["CacheHitRatioLow", "CacheErrors", "CachedLatencyHigh"])
def test_quiet_or_idle_endpoints_do_not_alert(alert_rules: Doc, title: str) -> None:
    """No data (no traffic, no errors) is fine for these; RedisDown treats it as an alert."""
    assert by_title(alert_rules)[title]["noDataState"] == "OK"
    assert by_title(alert_rules)["RedisDown"]["noDataState"] == "Alerting"


def test_rules_link_to_existing_rollout_panels(alert_rules: Doc) -> None:
    boards = {d["uid"]: d for d in load_dashboards().values()}
    for rule in rules(alert_rules):
        board = boards[rule["dashboardUid"]]
        ids = {p["id"] for p in all_panels(board)}
        assert rule["panelId"] in ids, rule["title"]


def test_contact_point_and_policy_route_everything_to_alertmanager() -> None:
    (contact,) = load_yaml("alerting/contact-points.yml")["contactPoints"]
    (receiver,) = contact["receivers"]
    assert receiver["uid"] and receiver["type"] == "prometheus-alertmanager"
    assert receiver["settings"]["url"] == "http://alertmanager:9093"
    (policy,) = load_yaml("alerting/notification-policies.yml")["policies"]
    assert policy["orgId"] == 1 and policy["receiver"] == contact["name"]
    assert "alertname" in policy["group_by"]
    for key in ("group_wait", "group_interval", "repeat_interval"):
        assert DURATION.match(policy[key]), key
