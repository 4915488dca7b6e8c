"""Grafana-managed alert rules, in Grafana's file-provisioning format (apiVersion 1).

    groups = alerts.rule_groups(thresholds, panel_ids)
    yaml.safe_dump({"apiVersion": 1, "groups": groups})

Each rule is query A (PromQL on the provisioned datasource) → B, a reduce to the last
number that drops NaN and Inf (`dropNN`) → C, a threshold on B; C is the condition.
The numbers and names match the Prometheus alerts of monitoring/ (same thresholds file
keys, same alert names, so the runbook anchors are shared).
"""

from __future__ import annotations

from typing import Any

from grafana.model import DATASOURCE_UID, Json
from grafana.rollout import UID as ROLLOUT_UID

FOLDER = "cachewatch"
INTERVAL = "1m"
#: How far back query A looks; the reduce keeps its last point.
LOOKBACK_SECONDS = 600
EXPR = {"type": "__expr__", "uid": "__expr__"}
LATENCY = "endpoint_cache:cachewatch_http_request_duration_seconds"


def _data(expr: str, op: str, threshold: float) -> list[Json]:
    return [
        {
            "refId": "A",
            "relativeTimeRange": {"from": LOOKBACK_SECONDS, "to": 0},
            "datasourceUid": DATASOURCE_UID,
            "model": {
                "refId": "A",
                "datasource": {"type": "prometheus", "uid": DATASOURCE_UID},
                "editorMode": "code",
                "expr": expr,
                "instant": False,
                "range": True,
                "intervalMs": 60000,
                "maxDataPoints": 43200,
                "legendFormat": "__auto",
            },
        },
        {
            "refId": "B",
            "relativeTimeRange": {"from": 0, "to": 0},
            "datasourceUid": "__expr__",
            "model": {
                "refId": "B",
                "datasource": EXPR,
                "type": "reduce",
                "expression": "A",
                "reducer": "last",
                "settings": {"mode": "dropNN"},
            },
        },
        {
            "refId": "C",
            "relativeTimeRange": {"from": 0, "to": 0},
            "datasourceUid": "__expr__",
            "model": {
                "refId": "C",
                "datasource": EXPR,
                "type": "threshold",
                "expression": "B",
                "conditions": [{"evaluator": {"type": op, "params": [threshold]}}],
            },
        },
    ]


def _rule(
    title: str,
    expr: str,
    op: str,
    threshold: float,
    cfg: dict[str, Any],
    *,
    severity: str,
    summary: str,
    description: str,
    runbook: str,
    no_data: str,
    panel_id: int,
) -> Json:
    rule: Json = {
        "uid": f"cachewatch-{title.lower()}",
        "title": title,
        "condition": "C",
        "data": _data(expr, op, threshold),
        "dashboardUid": ROLLOUT_UID,
        "panelId": panel_id,
        "noDataState": no_data,
        "execErrState": "Error",
        "for": str(cfg.get("for", "0m")),
    }
    if cfg.get("keep_firing_for"):
        rule["keepFiringFor"] = str(cfg["keep_firing_for"])
    rule["labels"] = {"severity": severity, "source": "grafana"}
    rule["annotations"] = {
        "summary": summary,
        "description": description,
        "runbook_url": f"{runbook}#{title.lower()}",
    }
    rule["isPaused"] = False
    return rule


def rule_groups(t: dict[str, Any], panel_ids: dict[str, int]) -> list[Json]:
    """The rule groups, every number from the thresholds mapping `t`."""
    rb = t["runbook"]
    hr = t["hit_ratio"]
    lat = t["cached_latency"]
    err = t["cache_errors"]
    errors = 'cachewatch_cache_errors_total{job="cachewatch"}'
    cache = [
        _rule(
            "CacheHitRatioLow",
            f"endpoint:cachewatch_cache_hit_ratio:ratio_rate{hr['window']}\n"
            f"and on (endpoint)\n"
            f"endpoint:cachewatch_cache_lookups:rate{hr['window']}"
            f" >= {hr['min_lookups_per_second']}",
            "lt",
            float(hr["warning"]),
            hr,
            severity="warning",
            summary=f"Cache hit ratio of {{{{ $labels.endpoint }}}} below {hr['warning']:.0%} "
            f"over {hr['window']}",
            description="Only {{ humanizePercentage $values.B.Value }} of the lookups of "
            f"{{{{ $labels.endpoint }}}} were hits over the last {hr['window']} "
            f"(target: {hr['warning']:.0%}). Endpoints under "
            f"{hr['min_lookups_per_second']} lookups/s are not judged.",
            runbook=rb,
            no_data="OK",
            panel_id=panel_ids["hit_ratio"],
        ),
        _rule(
            "CacheErrors",
            f"sum by (endpoint, operation) (increase({errors}[{err['window']}]))\n"
            "# a counter child created by its first error has no earlier sample to increase from\n"
            f"or\nsum by (endpoint, operation) ({errors} unless {errors} offset {err['window']})",
            "gt",
            0.0,
            err,
            severity="warning",
            summary="Cache {{ $labels.operation }} errors on {{ $labels.endpoint }}",
            description="{{ humanize $values.B.Value }} failed cache {{ $labels.operation }} "
            f"operations on {{{{ $labels.endpoint }}}} in the last {err['window']}. Requests "
            "were still answered (from the database), but the rollout expects none.",
            runbook=rb,
            no_data="OK",
            panel_id=panel_ids["cache_errors"],
        ),
        _rule(
            "CachedLatencyHigh",
            f'{LATENCY}:{lat["quantile"]}_rate5m{{cache="hit"}}\n'
            f"and on (endpoint)\n"
            f"endpoint:cachewatch_cache_hits:rate5m >= {lat['min_hits_per_second']}",
            "gt",
            float(lat["max_seconds"]),
            lat,
            severity="warning",
            summary="Slow cache hits on {{ $labels.endpoint }}",
            description=f"The {lat['quantile']} latency of cache hits on "
            "{{ $labels.endpoint }} is {{ humanizeDuration $values.B.Value }} "
            f"(limit {float(lat['max_seconds']) * 1000:.0f} ms).",
            runbook=rb,
            no_data="OK",
            panel_id=panel_ids["cached_latency"],
        ),
    ]
    redis = [
        _rule(
            "RedisDown",
            'min by (node) (cachewatch_redis_up{job="cachewatch"})',
            "lt",
            1.0,
            t["redis_down"],
            severity="critical",
            summary="Redis node {{ $labels.node }} is down or unreachable",
            description="The service cannot reach Redis node {{ $labels.node }}: requests "
            "bypass the cache and all reach the database. No data at all (nothing reports "
            "on Redis) alerts too.",
            runbook=rb,
            no_data="Alerting",
            panel_id=panel_ids["redis_up"],
        ),
    ]
    return [
        {
            "orgId": 1,
            "name": "cachewatch-cache",
            "folder": FOLDER,
            "interval": INTERVAL,
            "rules": cache,
        },
        {
            "orgId": 1,
            "name": "cachewatch-redis",
            "folder": FOLDER,
            "interval": INTERVAL,
            "rules": redis,
        },
    ]
