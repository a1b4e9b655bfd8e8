"""Running the web application: ``calcinosis serve`` and a server in a background thread.

:func:`serve` runs uvicorn in the foreground on 127.0.0.1 unless ``--host`` names another
interface. :func:`running_server` starts the same application on a free local port in a
thread and stops it on exit; the browser tests and the screenshot command use it.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from contextlib import contextmanager

from ...foundation.defaults import NOT_A_DIAGNOSIS
from ...foundation.extras import require

LOCAL = "127.0.0.1"
DEFAULT_PORT = 8765
START_TIMEOUT_S = 60


def free_port(host: str = LOCAL) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def serve(host: str = LOCAL, port: int = DEFAULT_PORT) -> None:
    uvicorn = require("uvicorn", "the web page (calcinosis serve)")
    require("fastapi", "the web page (calcinosis serve)")

    from .app import create_app

    print(f"calcinosis: the page is at http://{host}:{port}/  (Ctrl+C stops it). "
          f"{NOT_A_DIAGNOSIS}", flush=True)
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")


@contextmanager
def running_server(report_draws: int | None = None, port: int | None = None):
    """Yield the base URL of the application running in a thread; stop it on exit."""
    uvicorn = require("uvicorn", "the web page")
    require("fastapi", "the web page")

    from .app import create_app

    port = port or free_port()
    config = uvicorn.Config(create_app(report_draws), host=LOCAL, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="calcinosis-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the web application did not start on {LOCAL}:{port}")
        time.sleep(0.05)
    try:
        yield f"http://{LOCAL}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def cmd_serve(args: argparse.Namespace) -> int:
    serve(args.host, args.port)
    return 0


def add_commands(sub) -> None:
    """Register ``serve`` on the command line's sub-parsers."""
    serve_parser = sub.add_parser("serve", help="the local web page: consultation, teaching and what-if views")
    serve_parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    serve_parser.add_argument("--host", default=LOCAL,
                              help=f"interface to listen on (default {LOCAL}, this machine only; "
                                   "0.0.0.0 would expose the page to the network)")
    serve_parser.set_defaults(run=cmd_serve)
