"""The HTTP surface in a background thread of this process: for embedding synthgov (for example a
witness beside another service), for benchmarks and for tests that need a real server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synthgov.bootstrap import Platform


@contextmanager
def serve_in_background(platform: Platform, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``platform`` with uvicorn until the block ends; yields the base URL (``port=0``: any free one)."""
    import uvicorn

    from synthgov.api.app import create_app

    sock = socket.socket()
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(create_app(platform), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="synthgov-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
