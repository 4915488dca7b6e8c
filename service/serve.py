"""Run the service under gunicorn, with prometheus_client's multiprocess mode set up.

    serve(Settings.from_env().replace(port=8001))

The master seeds the database once (before forking), wipes the multiprocess
metrics folder, and marks dead workers so their gauges disappear. Each worker
builds its own app. PROMETHEUS_MULTIPROC_DIR must be set before
prometheus_client is imported, which is why this module imports the app lazily.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from service.config import Settings


def _child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


class _Server(BaseApplication):
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from service.app import create_app

        return create_app(self.settings)


def prepare(settings: Settings) -> Path:
    """Seed the database and set up a clean multiprocess metrics folder; return the folder."""
    from service import db

    engine = db.connect(settings.database_url)
    if db.ensure_seeded(engine, settings.seed_listings, settings.seed):
        print(f"seeded {settings.seed_listings} listings into {settings.database_url}", flush=True)
    engine.dispose()
    folder = Path(
        os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        or settings.state_dir / f"metrics-{settings.port}"
    )
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return folder


def serve(settings: Settings) -> None:
    prepare(settings)
    binds = [f"{settings.bind_host}:{settings.port}"]
    if settings.metrics_port is not None:
        binds.append(f"{settings.bind_host}:{settings.metrics_port}")
    options = {
        "bind": binds,
        "workers": settings.workers,
        "threads": settings.threads,
        "worker_class": "gthread" if settings.threads > 1 else "sync",
        "child_exit": _child_exit,
        "timeout": 60,
        "graceful_timeout": 10,
        "backlog": 2048,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        # gunicorn's control socket is one path per user: several services would share it.
        "control_socket_disable": True,
    }
    if settings.warm_on_start:
        from service.admin import warm_all
        from service.app import create_app

        with create_app(settings).app_context() as ctx:
            print("warmed", warm_all(ctx.app.extensions["cachewatch.cache"]), flush=True)
    _Server(settings, options).run()
