"""Shared fixtures: a real SQLite file or a fresh real PostgreSQL database per test."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from handoffs.bench.postgres import Cluster, find_bindir
from handoffs.bootstrap import App, build
from handoffs.settings import Settings
from handoffs.store.db import make_engine
from handoffs.store.migrate import upgrade
from tests.support.tryton import TrytonServer, find_trytond

# One template per pytest-xdist worker: workers share a server (HANDOFFS_TEST_POSTGRES_URL in CI).
pytest_plugins = ["tests.faults.matrix_report"]  # the fault matrix, printed by the controlling process

TEMPLATE = "handoffs_template" + (
    f"_{os.environ['PYTEST_XDIST_WORKER']}" if "PYTEST_XDIST_WORKER" in os.environ else ""
)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str | None]:
    """A PostgreSQL admin URL: HANDOFFS_TEST_POSTGRES_URL, or a throwaway cluster of our own."""
    url = os.environ.get("HANDOFFS_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    bindir = find_bindir()
    if bindir is None:
        yield None
        return
    cluster = Cluster(bindir)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def tryton_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrytonServer]:
    """A real trytond on a free port with a set-up template database (about 30 s, once)."""
    bindir = find_trytond()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("trytond is required in CI: install the dev extra (pip install -e '.[dev]')")
        pytest.skip("trytond is not installed (pip install -e '.[tryton]')")
    server = TrytonServer(bindir, tmp_path_factory.mktemp("tryton"))
    try:
        server.start()
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
        server.stop()
        pytest.fail(f"trytond is installed but could not start: {exc}")
    yield server
    server.stop()


def _admin(url: str):  # type: ignore[no-untyped-def]
    return create_engine(make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgres_template(postgres_server: str | None) -> str | None:
    """Migrate a template database once; each test clones it (fast, and never shared)."""
    if postgres_server is None:
        return None
    admin = _admin(postgres_server)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE}"))
        conn.execute(text(f"CREATE DATABASE {TEMPLATE}"))
    template_url = make_url(postgres_server).set(database=TEMPLATE).render_as_string(hide_password=False)
    engine = make_engine(template_url)
    upgrade(engine)
    engine.dispose()
    admin.dispose()
    return postgres_server


def _fresh_postgres(admin_url: str) -> tuple[str, str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = _admin(admin_url)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
    admin.dispose()
    return name, make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_postgres(admin_url: str, name: str) -> None:
    admin = _admin(admin_url)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A migrated, empty database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hub.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    admin_url = request.getfixturevalue("postgres_template")
    if admin_url is None:
        if os.environ.get("CI"):
            pytest.fail(
                "PostgreSQL is required in CI but neither HANDOFFS_TEST_POSTGRES_URL nor initdb exists"
            )
        pytest.skip("no PostgreSQL available (set HANDOFFS_TEST_POSTGRES_URL or install postgresql)")
    name, url = _fresh_postgres(admin_url)
    yield url
    _drop_postgres(admin_url, name)


@pytest.fixture
def fresh_hub(request: pytest.FixtureRequest, database_url: str, tmp_path):  # type: ignore[no-untyped-def]
    """Make more hubs, each on its own new database of the same kind as ``database_url``."""
    made: list[tuple[App, str | None]] = []

    def make() -> App:
        n = len(made)
        if database_url.startswith("sqlite"):
            url, name = f"sqlite:///{tmp_path / f'hub-{n}.db'}", None
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
        else:
            name, url = _fresh_postgres(request.getfixturevalue("postgres_template"))
        app = build(
            Settings(database_url=url, erp="memory", batch_size=200, backoff_base=0.01, max_attempts=4)
        )
        made.append((app, name))
        return app

    yield make
    for app, name in made:
        app.close()
        if name is not None:
            _drop_postgres(request.getfixturevalue("postgres_template"), name)


@pytest.fixture
def hub(database_url: str, tmp_path) -> Iterator[App]:  # type: ignore[no-untyped-def]
    """The application wired to the test database, posting to an in-memory ERP."""
    app = build(
        Settings(database_url=database_url, erp="memory", batch_size=200, backoff_base=0.01, max_attempts=4)
    )
    yield app
    app.close()


# What a skip reason says is missing -> the one command that installs it. Only system packages
# (not on PyPI) are listed: `make test` installs everything a registry package covers.
_SYSTEM_PACKAGES = {
    "chromium": "apt-get install -y chromium",
    "PostgreSQL": "apt-get install -y postgresql",
}


def pytest_unconfigure(config: pytest.Config) -> None:
    """Say plainly, after pytest's own summary, which tests a missing system package skipped."""
    reporter = config.pluginmanager.getplugin("terminalreporter")
    if reporter is None:
        return
    missing: dict[str, list[str]] = {}
    for report in reporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        for package in _SYSTEM_PACKAGES:  # "no PostgreSQL ...", "no /usr/bin/chromium": missing
            if (
                f"no {package.lower()}" in reason.lower()
                or f"no /usr/bin/{package.lower()}" in reason.lower()
            ):
                missing.setdefault(package, []).append(report.nodeid)
    for package, tests in sorted(missing.items()):
        shown = ", ".join(tests[:3]) + (f" and {len(tests) - 3} more" if len(tests) > 3 else "")
        reporter.write_line(
            f"SKIPPED {len(tests)} test(s) because {package} is not installed ({shown}). "
            f"Install it with: {_SYSTEM_PACKAGES[package]}",
            yellow=True,
            bold=True,
        )
