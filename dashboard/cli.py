"""Run the dashboard: `cachewatch dashboard --port 8050` (or `python -m dashboard`).

    serve(port=8050)          # gunicorn, one process with threads; never Dash's debug mode

Settings come from the environment (dashboard.config); `--port`, `--host` and
`--prometheus-url` override it.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from dashboard.config import ConfigError, DashboardConfig


class _Gunicorn(BaseApplication):
    """gunicorn serving an app object built in this process."""

    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def serve(
    port: int | None = None, host: str | None = None, config: DashboardConfig | None = None
) -> None:
    """Serve the app under gunicorn until stopped (SIGTERM / Ctrl-C)."""
    from dashboard.app import create_app

    config = config or DashboardConfig.from_env()
    app = create_app(config=config)
    options = {
        "bind": f"{host or config.host}:{port or config.port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": 8,
        "timeout": 60,
        "graceful_timeout": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "control_socket_disable": True,
    }
    _Gunicorn(app.server, options).run()


def add_arguments(parser: argparse.ArgumentParser, name: str = "dashboard") -> None:
    parser.add_argument(
        "--port", type=int, default=None, help="port (default DASHBOARD_PORT, 8050)"
    )
    parser.add_argument("--host", default=None, help="address (default DASHBOARD_HOST, 127.0.0.1)")
    parser.add_argument("--prometheus-url", default=None, help="default PROMETHEUS_URL")


def run(args: argparse.Namespace, name: str = "dashboard") -> int:
    try:
        config = DashboardConfig.from_env()
    except ConfigError as exc:
        print(f"cachewatch dashboard: {exc}", file=sys.stderr)
        return 2
    if args.prometheus_url:
        config = dataclasses.replace(config, prometheus_url=args.prometheus_url)
    serve(port=args.port, host=args.host, config=config)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="cachewatch dashboard", description=__doc__.splitlines()[0]
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
