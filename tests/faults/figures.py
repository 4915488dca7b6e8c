"""The fault suite's measured figures: written by each test, turned into docs/reliability.md.

    figures.record("redis-killed", scenario="Redis killed", load="50 req/s × 18 s",
                   checked="no 5xx, ...", result="0 × 5xx of 900, ...", max_ms=61.2)

Each test records its row in tests/artifacts/faults.json (git-ignored), merged
with the rows of earlier runs, and the outcome (passed/failed) is added when
the test ends. `python -m tests.faults.figures` rewrites the table in
docs/reliability.md between its markers from that file:

    .venv/bin/pytest tests/faults && .venv/bin/python -m tests.faults.figures
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
ARTIFACT = REPO / "tests" / "artifacts" / "faults.json"
DOC = REPO / "docs" / "reliability.md"
BEGIN, END = "<!-- faults-table:begin -->", "<!-- faults-table:end -->"


def _load(path: Path = ARTIFACT) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    rows: dict[str, dict[str, Any]] = json.loads(path.read_text())
    return rows


def _save(rows: dict[str, dict[str, Any]], path: Path = ARTIFACT) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, indent=2, sort_keys=True) + "\n")


class Figures:
    """One test's recorder (the `figures` fixture)."""

    def __init__(self, nodeid: str, path: Path = ARTIFACT) -> None:
        self.nodeid = nodeid
        self.path = path
        rows = _load(path)  # an earlier run's rows of this test would outlive a failure
        if any(row["test"] == nodeid for row in rows.values()):
            _save({k: row for k, row in rows.items() if row["test"] != nodeid}, path)

    def record(
        self, key: str, *, scenario: str, load: str, checked: str, result: str, **figures: Any
    ) -> None:
        rows = _load(self.path)
        rows[key] = {
            "scenario": scenario,
            "load": load,
            "checked": checked,
            "result": result,
            "figures": figures,
            "test": self.nodeid,
            "outcome": "running",
            "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        }
        _save(rows, self.path)


def set_outcome(nodeid: str, outcome: str, path: Path = ARTIFACT) -> None:
    """Mark every row recorded by test `nodeid` as passed or failed."""
    rows = _load(path)
    changed = False
    for row in rows.values():
        if row["test"] == nodeid:
            row["outcome"] = outcome
            changed = True
    if changed:
        _save(rows, path)


def table(rows: dict[str, dict[str, Any]]) -> str:
    """The markdown table: one line per scenario, in the order of their keys (01-, 02-, ...)."""
    lines = [
        "| scenario | load | what was checked | result (this run) | outcome |",
        "|---|---|---|---|---|",
    ]
    for _, row in sorted(rows.items()):
        cells = [row["scenario"], row["load"], row["checked"], row["result"], row["outcome"]]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def render(doc: Path = DOC, path: Path = ARTIFACT) -> str:
    """Replace the table between the markers of `doc` with the recorded figures."""
    rows = _load(path)
    if not rows:
        raise SystemExit(f"no figures in {path}: run `.venv/bin/pytest tests/faults` first")
    text = doc.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    when = max(row["when"] for row in rows.values())
    block = f"{BEGIN}\n_Figures recorded {when}._\n\n{table(rows)}\n{END}"
    new = head + block + tail
    doc.write_text(new)
    return new


if __name__ == "__main__":
    render()
    print(f"updated {DOC.relative_to(REPO)} from {ARTIFACT.relative_to(REPO)}", file=sys.stderr)
