"""A real trytond server for the tests: one per session, a fresh database for each test.

The session builds one database the slow way (``trytond-admin --all`` with the invoicing,
project-invoicing and timesheet modules, then :mod:`tests.support.tryton_setup`: about 30 s
on two cores) and keeps it as a template; the server then serves copies of that file
(trytond's SQLite backend keeps one ``<name>.sqlite`` per database in its ``path``), so
each test gets its own books in about a second and no test cleans up after another. The
copies are made before the server starts: trytond caches its list of databases.
"""

from __future__ import annotations

import importlib.util
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.support.tryton_setup import HUB_LOGIN, HUB_PASSWORD

ADMIN_PASSWORD = "handoffs-tryton-admin"
LOGIN, PASSWORD = HUB_LOGIN, HUB_PASSWORD  # the hub's own user: the Accounting group, no admin
TEMPLATE = "template"
COPIES = 24  # databases ready for the session's tests
MODULES = ("account_invoice", "project_invoice", "timesheet")
ROOT = Path(__file__).resolve().parents[2]


class FaultyTransport(httpx.BaseTransport):
    """Real HTTP, except invoice creates: with probability ``rate`` (seeded), at most ``limit``
    times, one loses its answer after Tryton made the invoice (``lost``) or gets a 10 ms read
    timeout while trytond carries on and commits (``slow``)."""

    CREATE = b"model.account.invoice.create"

    def __init__(self, fault: str, rate: float = 1.0, seed: int = 0, limit: int | None = None) -> None:
        self.inner, self.fault, self.rate, self.limit = httpx.HTTPTransport(), fault, rate, limit
        self.rng, self.fired, self.lock = random.Random(seed), 0, threading.Lock()
        self.timeouts = 0  # slow creates the client really gave up on

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            hit = (
                self.CREATE in request.content
                and (self.limit is None or self.fired < self.limit)
                and self.rng.random() < self.rate
            )
            if hit:
                self.fired += 1
        if hit and self.fault == "slow":
            request.extensions["timeout"] = {**request.extensions.get("timeout", {}), "read": 0.01}
        try:
            response = self.inner.handle_request(request)
        except httpx.ReadTimeout:
            self.timeouts += 1
            raise
        if hit and self.fault == "lost":
            response.read()
            raise httpx.ReadTimeout("the answer never came", request=request)
        return response


def find_trytond() -> Path | None:
    """The folder holding ``trytond`` and ``trytond-admin`` (the test venv's), or None."""
    if importlib.util.find_spec("trytond") is None or importlib.util.find_spec("proteus") is None:
        return None
    bindir = Path(sys.executable).parent
    return bindir if (bindir / "trytond").exists() and (bindir / "trytond-admin").exists() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TrytonServer:
    """``start()`` builds the template and runs trytond; ``database()`` gives a fresh copy."""

    def __init__(self, bindir: Path, workdir: Path) -> None:
        self.bindir, self.workdir = bindir, workdir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.conf = workdir / "trytond.conf"
        self.log = workdir / "trytond.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.timings: dict[str, float] = {}
        self._unused: list[str] = []
        self._lock = threading.Lock()

    def _env(self) -> dict[str, str]:
        passfile = self.workdir / "admin-password"
        passfile.write_text(ADMIN_PASSWORD)
        return {**os.environ, "TRYTONPASSFILE": str(passfile), "PYTHONPATH": str(ROOT)}

    def _run(self, step: str, *args: str) -> None:
        started = time.monotonic()
        with self.log.open("ab") as log:
            done = subprocess.run(
                args,
                env=self._env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                timeout=600,
                check=False,
            )
        self.timings[step] = time.monotonic() - started
        if done.returncode != 0:
            raise RuntimeError(f"tryton {step} failed ({done.returncode}): {self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""

    def start(self) -> None:
        self.conf.write_text(
            f"[database]\nuri = sqlite://\npath = {self.workdir}\n[web]\nlisten = 127.0.0.1:{self.port}\n"
        )
        (self.workdir / f"{TEMPLATE}.sqlite").touch()
        self._run(
            "create",
            str(self.bindir / "trytond-admin"),
            *(
                "-c",
                str(self.conf),
                "-d",
                TEMPLATE,
                "--all",
                "--activate-dependencies",
                "--email",
                "admin@example.com",
                "-u",
                *MODULES,
            ),
        )
        self._run(
            "setup", sys.executable, str(ROOT / "tests/support/tryton_setup.py"), str(self.conf), TEMPLATE
        )
        for n in range(COPIES):
            self._unused.append(f"t{n:02d}")
            shutil.copyfile(self.workdir / f"{TEMPLATE}.sqlite", self.workdir / f"t{n:02d}.sqlite")
        started = time.monotonic()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(self.bindir / "trytond"), "-c", str(self.conf)], env=self._env(), stdout=log, stderr=log
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.post(
                    f"{self.url}/rpc/", json={"id": 0, "method": "common.server.version", "params": []}
                )
                break
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"trytond did not start: {self.tail()}") from None
                time.sleep(0.2)
        self.timings["start"] = time.monotonic() - started

    def database(self) -> str:
        """A new database holding the template's books, its pool loaded."""
        with self._lock:
            if not self._unused:
                raise RuntimeError(f"the session used all {COPIES} Tryton databases: raise COPIES")
            name = self._unused.pop(0)
        # trytond loads a database's pool on its first request; its /<db>/r/ route loads it
        # even before a login (whose own lookup would find the pool registered but empty).
        httpx.get(f"{self.url}/{name}/r/init", timeout=120)
        return name

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
