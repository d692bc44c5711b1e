"""`boxoffice serve`: uvicorn with JSON logs, proxy headers, graceful shutdown, worker metrics."""

import contextlib
import os
import signal
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from boxoffice.server.config import Settings
from boxoffice.server.ops.logs import log_config
from boxoffice.server.ops.workers import SPREADS_CONNECTIONS, run_workers

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
WORKER_STARTUP_SECONDS = 60
APP = "boxoffice.server.app:served_app"


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def run_server(*, host: str, port: int, workers: int, settings: Settings) -> None:
    """Serve the API until SIGTERM or SIGINT, then finish in-flight requests and exit 0."""
    with contextlib.ExitStack() as stack:
        scratch: Path | None = None
        if workers > 1:
            # The workers' socket claims (ops/workers.py), and unless set, their metrics:
            # each worker process counts its own into files here, and a scrape, which any
            # one worker answers, adds them all up. Nothing here outlives the server: a
            # fresh directory per start, removed at exit.
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="boxoffice-")))
            if not os.environ.get(MULTIPROC_DIR):
                os.environ[MULTIPROC_DIR] = str(scratch)
        # uvicorn traps SIGTERM, drains in-flight requests (up to the shutdown timeout), puts
        # back the handler it found and raises SIGTERM again. With the default handler the
        # process would die of that signal (status -15) after a clean shutdown; this handler
        # makes it exit 0, which is also what a SIGTERM before startup finishes does.
        signal.signal(signal.SIGTERM, _exit_cleanly)
        options: dict[str, Any] = {
            "factory": True,
            "host": host,
            "port": port,
            "workers": workers,
            "log_config": log_config(settings.log_level),
            "log_level": settings.log_level,
            # The access middleware writes the one access line per request.
            "access_log": False,
            "proxy_headers": bool(settings.forwarded_allow_ips.strip()),
            "forwarded_allow_ips": settings.forwarded_allow_ips,
            "timeout_graceful_shutdown": settings.shutdown_timeout_seconds,
            # A worker answers the supervisor's liveness ping only once it has started; a
            # cold start (no bytecode cache, a busy machine) can take longer than uvicorn's
            # 5 s, and the supervisor would then kill and restart it over and over.
            "timeout_worker_healthcheck": WORKER_STARTUP_SECONDS,
        }
        if scratch is None or not SPREADS_CONNECTIONS:
            uvicorn.run(APP, **options)
            return
        claims = scratch / "workers"
        claims.mkdir()
        with contextlib.suppress(KeyboardInterrupt):
            run_workers(uvicorn.Config(APP, **options), claims)
