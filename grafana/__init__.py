"""Grafana provisioning for cachewatch: dashboards and alert rules generated from Python.

    .venv/bin/python -m grafana.build     # rewrite grafana/dashboards/*.json and alert rules

Nothing here is imported by the service; it reads only the metric names of docs/metrics.md.
"""
