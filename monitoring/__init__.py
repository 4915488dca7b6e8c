"""Prometheus rules and configuration, and Alertmanager routing, for cachewatch.

The Python here only renders the rule files (`python monitoring/render.py`); docs/monitoring.md
describes the rest.
"""
