"""Recording-rule history for a backfilled Prometheus, from the real rule file.

    groups = recording_groups("cachewatch-recording-1h", "cachewatch-recording-buckets-1h")
    prom = PrometheusServer(config_with_rule_files, ...)   # raw metrics backfilled, started
    backfill_rules(prom, groups, start, end)                # then restarted with the history

`promtool tsdb create-blocks-from rules` evaluates rules through the running
Prometheus, so a rule that reads another rule (the ratios read the rates) only
gets history once the rule it reads has it: the rules are backfilled in layers,
each layer's blocks moved into the data dir and Prometheus restarted before the next.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.support.procs import REPO, PrometheusServer

RECORDING = REPO / "monitoring" / "rules" / "cachewatch-recording.yml"


def recording_groups(*names: str) -> list[dict[str, Any]]:
    """The named groups of monitoring/rules/cachewatch-recording.yml, as they are there."""
    groups = yaml.safe_load(RECORDING.read_text())["groups"]
    found = [g for g in groups if g["name"] in names]
    missing = set(names) - {g["name"] for g in found}
    assert not missing, f"no such recording group: {missing}"
    return found


def write_rules(path: Path, groups: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    return path


def layers(groups: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The groups split so that each layer's rules read only rules of earlier layers."""
    rules = [(g, r) for g in groups for r in g["rules"]]
    names = {r["record"] for _, r in rules}
    done: set[str] = set()
    out: list[list[dict[str, Any]]] = []
    while len(done) < len(names):
        ready = [(g, r) for g, r in rules if r["record"] not in done and _reads(r) <= done]
        assert ready, "recording rules that read each other in a cycle"
        layer: dict[str, dict[str, Any]] = {}
        for group, rule in ready:
            kept = layer.setdefault(group["name"], {**group, "rules": []})
            kept["rules"].append(rule)
        out.append(list(layer.values()))
        done |= {r["record"] for _, r in ready}
    return out


def _reads(rule: dict[str, Any]) -> set[str]:
    """The recording rules (level:metric:operations names) an expression reads."""
    return set(re.findall(r"[a-z_]+:[a-z_]+:[a-z0-9_]+", rule["expr"])) - {rule["record"]}


def backfill_rules(
    prom: PrometheusServer, groups: list[dict[str, Any]], start: int, end: int
) -> None:
    """Evaluate `groups` over [start, end] into `prom`'s data dir; `prom` is restarted."""
    for i, layer in enumerate(layers(groups)):
        rules = write_rules(prom.dir / f"backfill-{i}.yml", layer)
        out = prom.dir / f"rule-blocks-{i}"
        subprocess.run(
            ["promtool", "tsdb", "create-blocks-from", "rules", f"--start={start}",
             f"--end={end}", f"--url={prom.url}", f"--output-dir={out}",
             "--eval-interval=15s", "--quiet", str(rules)],
            check=True, capture_output=True, timeout=900,
        )  # fmt: skip
        prom.stop()
        for block in out.iterdir():
            shutil.move(str(block), prom.dir / "data" / block.name)
        prom.start()
