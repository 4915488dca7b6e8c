"""docs/grafana.md names every panel and alert, so the reader's guide keeps up with them."""

from __future__ import annotations

from grafana.expressions import all_panels
from tests.grafana.conftest import REPO, load_dashboards, load_yaml

DOC = (REPO / "docs" / "grafana.md").read_text()


def test_every_panel_is_described() -> None:
    for board in load_dashboards().values():
        assert f"`{board['uid']}`" in DOC
        for panel in all_panels(board):
            if panel["type"] != "row":
                title = panel["title"].replace(": hits vs misses", "")
                assert title in DOC, f"docs/grafana.md does not describe {panel['title']!r}"


def test_every_alert_is_described() -> None:
    for group in load_yaml("alerting/rules.yml")["groups"]:
        for rule in group["rules"]:
            assert f"| {rule['title']} |" in DOC, rule["title"]
