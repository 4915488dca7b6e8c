"""PromQL for each page, as plain functions of a `PromClient` and a `TimeWindow`.

Each function answers with a pandas frame ready for `dashboard.figures`:
time series in long form (`time`, `series`, `value`), tables one row per endpoint.
They read the raw metrics of docs/metrics.md, so any Prometheus scraping the
service will do; the recording rules are used where they fit and have data
(`common.rule_fits`).
"""
