"""`cachewatch up` (`make up`): the whole stack on this machine, without Docker.

    cachewatch up                          # Ctrl-C stops everything
    SERVICE_REPLICAS=2 PROMETHEUS_PORT=9091 cachewatch up

Runs Redis, the service under gunicorn (SERVICE_REPLICAS of them), the Redis
exporter, Prometheus with monitoring/'s rules, Alertmanager, the Dash dashboard
(when this checkout has it) and modest demo traffic, all from Debian's packages
and this virtualenv, under honcho. State lives in CACHEWATCH_STATE_DIR (.state).
docs/stack.md has the details.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from cachewatch.stack.config import REPO, StackConfig, StackError
from cachewatch.stack.render import Rendered, render

#: Variables of the caller's environment the stack's processes must not see: the service
#: uses the stack's own Redis (REDIS_URL), and each replica gets its own metrics folder.
_HIDDEN = ("REDIS_CLUSTER_NODES", "REDIS_SENTINELS", "PROMETHEUS_MULTIPROC_DIR")


def add_arguments(parser: argparse.ArgumentParser, command: str = "up") -> None:
    parser.add_argument(
        "--state-dir", type=Path, help="where state lives (default CACHEWATCH_STATE_DIR or .state)"
    )
    parser.add_argument(
        "--no-load", action="store_true", help="no demo traffic (same as LOAD_RATE=0)"
    )


def say(text: str) -> None:
    print(f"cachewatch up: {text}", flush=True)


def _dotenv(path: Path) -> dict[str, str]:
    """KEY=value lines of a .env file, as honcho reads them (missing file: nothing)."""
    from honcho.environ import parse

    return parse(path.read_text()) if path.is_file() else {}


def environment(base: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment with ./.env's values added where not already set."""
    env = {**_dotenv(Path(".env")), **base}
    return env


def seed_database(config: StackConfig, env: Mapping[str, str]) -> None:
    """Create and fill the service's database once, before the replicas start."""
    from service import db
    from service.config import Settings

    settings = Settings.from_env({**env, "CACHEWATCH_STATE_DIR": str(config.state_dir)})
    engine = db.connect(settings.database_url)
    try:
        if db.listing_count(engine) == 0:
            n = settings.seed_listings
            say(f"seeding {n:,} listings into {settings.database_url} (first start only; about "
                f"{max(1, round(n * 9e-6))} s)")  # fmt: skip
            db.ensure_seeded(engine, n, settings.seed)
            say("database ready")
    finally:
        engine.dispose()


def demo_history(config: StackConfig, env: Mapping[str, str]) -> None:
    """On a fresh Prometheus, backfill 24 h of simulated history (DEMO_HISTORY=false: none)."""
    import time

    from cachewatch.demo import backfill, write_openmetrics

    data = config.state_dir / "prometheus" / "data"
    if env.get("DEMO_HISTORY", "true").strip().lower() in ("0", "false", "no", "off"):
        return
    if data.is_dir() and any(data.iterdir()):
        return
    say('first start: loading 24 h of demo history into Prometheus (instance="demo")')
    om = write_openmetrics(config.state_dir / "demo-history.om", end=time.time() - 60)
    backfill(om, data)
    om.unlink()


def urls(config: StackConfig) -> list[tuple[str, str]]:
    found = [(f"service {i + 1}", f"http://127.0.0.1:{p}") for i, p in
             enumerate(config.service_ports)]  # fmt: skip
    if config.dashboard:
        found.append(("dashboard", f"http://127.0.0.1:{config.dashboard_port}"))
    found += [
        ("prometheus", f"http://127.0.0.1:{config.prometheus_port}"),
        ("alertmanager", f"http://127.0.0.1:{config.alertmanager_port}"),
        ("redis exporter", f"http://127.0.0.1:{config.redis_exporter_port}/metrics"),
        ("redis", config.redis_url),
    ]
    return found


def _announce_when_ready(config: StackConfig, stop: threading.Event) -> None:
    """Print one line once the service and Prometheus answer (or say what does not)."""
    import requests

    checks = [f"http://127.0.0.1:{p}/readyz" for p in config.service_ports]
    checks.append(f"http://127.0.0.1:{config.prometheus_port}/-/ready")
    checks.append(f"http://127.0.0.1:{config.alertmanager_port}/-/ready")
    pending = list(checks)
    for _ in range(600):
        for url in list(pending):
            try:
                if requests.get(url, timeout=1).ok:
                    pending.remove(url)
            except requests.RequestException:
                pass
        if not pending:
            wanted = ("dashboard", "prometheus", "service 1")
            say("ready: " + ", ".join(f"{n} {u}" for n, u in urls(config) if n in wanted))
            return
        if stop.wait(1.0):
            return
    say("still waiting for " + ", ".join(pending))


def run_honcho(rendered: Rendered, env: Mapping[str, str], config: StackConfig) -> int:
    from honcho.manager import Manager

    manager = Manager()
    process_env = {k: v for k, v in env.items() if k not in _HIDDEN}
    process_env.update(rendered.env)
    for name, cmd in rendered.procfile.items():
        manager.add_process(name, cmd, env=process_env, cwd=str(REPO))
    stop = threading.Event()
    threading.Thread(target=_announce_when_ready, args=(config, stop), daemon=True).start()
    try:
        manager.loop()
    finally:
        stop.set()
    code = manager.returncode or 0
    say("stopped" if code in (0, 130, 143) else f"stopped: a process exited with {code}")
    # 130/143: honcho's own code after our SIGINT/SIGTERM, i.e. a requested, clean stop.
    return 0 if code in (130, 143) else code


def run(args: argparse.Namespace, command: str = "up") -> int:
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    env = environment(os.environ)
    if args.state_dir is not None:
        env["CACHEWATCH_STATE_DIR"] = str(args.state_dir)
    if args.no_load:
        env["LOAD_RATE"] = "0"
    try:
        config = StackConfig.from_env(env)
    except StackError as exc:
        print(f"cachewatch up: {exc}", file=sys.stderr)
        return 2
    problems = config.problems()
    if problems:
        for problem in problems:
            print(f"cachewatch up: {problem}", file=sys.stderr)
        print("cachewatch up: nothing was started", file=sys.stderr)
        return 2
    if env.get("REDIS_URL", config.redis_url) != config.redis_url:
        say(f"the service uses the stack's Redis {config.redis_url}, not {env['REDIS_URL']}")
    if not config.dashboard:
        say("dashboard skipped: this checkout has no dashboard.cli yet")
    if config.load_rate == 0:
        say("demo traffic off (LOAD_RATE=0)")
    config.state_dir.mkdir(parents=True, exist_ok=True)
    try:
        seed_database(config, env)
    except KeyboardInterrupt:
        say("interrupted while seeding; nothing was started")
        return 130
    demo_history(config, env)
    rendered = render(config)
    say(f"state in {config.state_dir}; Ctrl-C stops everything")
    for name, url in urls(config):
        say(f"  {name:<15}{url}")
    return run_honcho(rendered, env, config)
