"""The files `cachewatch up` writes under the state folder before it starts anything.

    files = render(config)       # writes them; returns the Procfile's processes
    files.procfile               # {"redis": "exec redis-server ...", "service-1": ...}

- prometheus/prometheus.yml: monitoring/prometheus.yml with this stack's ports,
  absolute rule paths, and the service replicas read from prometheus/targets/
  (file_sd: cachewatch.json, one target per replica);
- alertmanager/alertmanager.yml only when monitoring/alertmanager.yml is absent;
- Procfile and stack.env: what honcho runs, so that
  `honcho start -f .state/Procfile -e .state/stack.env -d .` runs the same stack.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import yaml

from cachewatch.stack.config import REPO, StackConfig

MONITORING = REPO / "monitoring"
#: Used when monitoring/prometheus.yml is not in this checkout: the same jobs, no rules.
FALLBACK_PROMETHEUS: dict[str, Any] = {
    "global": {"scrape_interval": "15s", "scrape_timeout": "10s", "evaluation_interval": "15s"},
    "rule_files": ["rules/*.yml"],
    "scrape_configs": [
        {"job_name": job} for job in ("cachewatch", "redis", "alertmanager", "prometheus")
    ],
}
FALLBACK_ALERTMANAGER = """\
# Written by `cachewatch up` because monitoring/alertmanager.yml is missing: alerts go nowhere.
route:
  receiver: none
receivers:
  - name: none
"""
#: The demo traffic: a day per run, restarted when it ends, so it runs as long as the stack.
LOAD_DURATION = 86_400
LOAD_REPORT_EVERY = 60


@dataclasses.dataclass(frozen=True)
class Rendered:
    procfile: dict[str, str]
    env: dict[str, str]
    prometheus_config: Path


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for unit in ("ms", "s", "m", "h"):
        if duration.endswith(unit) and duration[: -len(unit)].isdigit():
            return int(duration[: -len(unit)]) * units[unit]
    raise ValueError(f"not a duration: {duration!r}")


def prometheus_config(config: StackConfig, source: dict[str, Any], targets: Path) -> dict[str, Any]:
    """`source` (monitoring/prometheus.yml) adapted to this stack."""
    out = json.loads(json.dumps(source))  # a deep copy of plain data
    glob = out.setdefault("global", {})
    if config.scrape_interval:
        glob["scrape_interval"] = glob["evaluation_interval"] = config.scrape_interval
        timeout = glob.get("scrape_timeout")
        if timeout is None or _seconds(timeout) > _seconds(config.scrape_interval):
            glob["scrape_timeout"] = config.scrape_interval
    out["rule_files"] = [
        str(MONITORING / f) if not Path(f).is_absolute() else f for f in out.get("rule_files", [])
    ]
    out["alerting"] = {
        "alertmanagers": [
            {"static_configs": [{"targets": [f"127.0.0.1:{config.alertmanager_port}"]}]}
        ]
    }
    static = {
        "redis": config.redis_exporter_port,
        "alertmanager": config.alertmanager_port,
        "prometheus": config.prometheus_port,
    }
    for job in out.get("scrape_configs", []):
        name = job.get("job_name")
        if name == "cachewatch":
            job.pop("static_configs", None)
            job.pop("dns_sd_configs", None)
            job["file_sd_configs"] = [{"files": [str(targets)], "refresh_interval": "30s"}]
        elif name in static:
            job["static_configs"] = [{"targets": [f"127.0.0.1:{static[name]}"]}]
    return out


def _python(*args: str) -> str:
    return " ".join(shlex.quote(a) for a in (sys.executable, "-m", "cachewatch", *args))


def procfile(config: StackConfig, prometheus_yml: Path, alertmanager_yml: Path) -> dict[str, str]:
    """name -> shell command, in start order."""
    state = config.state_dir
    q = shlex.quote
    redis = [
        "exec redis-server", "--port", str(config.redis_port), "--bind", "127.0.0.1",
        "--dir", q(str(state / "redis")), "--appendonly", "yes",
        "--maxmemory", config.redis_maxmemory, "--maxmemory-policy", "allkeys-lru",
    ]  # fmt: skip
    if config.redis_password:
        redis += ["--requirepass", q(config.redis_password)]
    processes = {"redis": " ".join(redis)}
    for i, port in enumerate(config.service_ports):
        processes[f"service-{i + 1}"] = "exec " + _python("serve", "--port", str(port))
    processes["redis_exporter"] = (
        f"exec prometheus-redis-exporter -redis.addr=redis://127.0.0.1:{config.redis_port}"
        f" -web.listen-address=127.0.0.1:{config.redis_exporter_port}"
    )
    processes["prometheus"] = " ".join([
        "exec prometheus", f"--config.file={q(str(prometheus_yml))}",
        f"--storage.tsdb.path={q(str(state / 'prometheus' / 'data'))}",
        f"--web.listen-address=127.0.0.1:{config.prometheus_port}", "--web.enable-lifecycle",
        "--log.level=warn",
    ])  # fmt: skip
    processes["alertmanager"] = " ".join([
        "exec prometheus-alertmanager", f"--config.file={q(str(alertmanager_yml))}",
        f"--storage.path={q(str(state / 'alertmanager' / 'data'))}",
        f"--web.listen-address=127.0.0.1:{config.alertmanager_port}", "--cluster.listen-address=",
        "--log.level=warn",
    ])  # fmt: skip
    if config.dashboard:
        processes["dashboard"] = "exec " + _python(
            "dashboard", "--port", str(config.dashboard_port),
            "--prometheus-url", f"http://127.0.0.1:{config.prometheus_port}",
        )  # fmt: skip
    if config.load_rate > 0:
        urls = [a for port in config.service_ports for a in ("--url", f"http://127.0.0.1:{port}")]
        load = _python(
            "load", *urls, "--rate", f"{config.load_rate:g}", "--duration", str(LOAD_DURATION),
            "--concurrency", "2", "--wait", "300", "--no-progress",
            "--report-every", str(LOAD_REPORT_EVERY),
        )  # fmt: skip
        processes["load"] = f"while :; do {load}; sleep 1; done"
    return processes


def stack_env(config: StackConfig) -> dict[str, str]:
    """The variables every process gets on top of the caller's environment.

    REDIS_PASSWORD, when set, reaches Redis (--requirepass), the service and the
    exporter from the caller's environment; it is not written to disk.
    """
    return {
        "CACHEWATCH_STATE_DIR": str(config.state_dir),
        "REDIS_URL": config.redis_url,
        "PYTHONPATH": str(REPO),
        "PYTHONUNBUFFERED": "1",
        "PROMETHEUS_URL": f"http://127.0.0.1:{config.prometheus_port}",
    }


def render(config: StackConfig) -> Rendered:
    """Write the stack's files under `config.state_dir`; return what honcho needs."""
    state = config.state_dir
    for folder in ("redis", "prometheus/targets", "prometheus/data", "alertmanager/data"):
        (state / folder).mkdir(parents=True, exist_ok=True)
    targets = state / "prometheus" / "targets" / "cachewatch.json"
    targets.write_text(json.dumps(
        [{"targets": [f"127.0.0.1:{port}"], "labels": {"replica": str(i + 1)}}
         for i, port in enumerate(config.service_ports)], indent=2) + "\n")  # fmt: skip
    source_path = MONITORING / "prometheus.yml"
    source = yaml.safe_load(source_path.read_text()) if source_path.exists() else None
    prometheus_yml = state / "prometheus" / "prometheus.yml"
    rendered = prometheus_config(config, source or FALLBACK_PROMETHEUS, targets)
    origin = "monitoring/prometheus.yml" if source else "a built-in default"
    prometheus_yml.write_text(
        f"# Written by `cachewatch up` from {origin}; edits are lost on the next start.\n"
        + yaml.safe_dump(rendered, sort_keys=False)
    )
    alertmanager_yml = MONITORING / "alertmanager.yml"
    if not alertmanager_yml.exists():
        alertmanager_yml = state / "alertmanager" / "alertmanager.yml"
        alertmanager_yml.write_text(FALLBACK_ALERTMANAGER)
    processes = procfile(config, prometheus_yml, alertmanager_yml)
    (state / "Procfile").write_text(
        "# Written by `cachewatch up`; run it with:\n"
        f"#   honcho start -f {state / 'Procfile'} -e {state / 'stack.env'} -d {REPO}\n"
        + "".join(f"{name}: {cmd}\n" for name, cmd in processes.items())
    )
    env = stack_env(config)
    (state / "stack.env").write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in env.items()))
    return Rendered(processes, env, prometheus_yml)
