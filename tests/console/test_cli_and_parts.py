"""``handoffs console adduser`` as a user runs it; password hashing; charts; static files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
from fastapi.testclient import TestClient

from handoffs.console.charts import bar_chart, line_chart
from handoffs.console.users import authenticate, hash_password, verify_password
from handoffs.store.db import make_engine
from handoffs.store.migrate import upgrade
from tests.console.conftest import Console


def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "handoffs.cli.main", "console", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_adduser_reads_the_password_from_stdin_and_refuses_bad_input(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = make_engine(url)
    upgrade(engine)
    env = {**os.environ, "HANDOFFS_DATABASE_URL": url, "COLUMNS": "200"}
    added = run(env, "adduser", "alice", "--role", "operator", "--password-stdin", stdin="correct horse\n")
    assert added.returncode == 0, added.stderr
    assert "alice added as operator" in added.stdout and "correct horse" not in added.stdout + added.stderr
    assert run(env, "adduser", "alice", "--password-stdin", stdin="another one\n").returncode == 2
    short = run(env, "adduser", "bob", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    bad_role = run(env, "adduser", "bob", "--role", "root", "--password-stdin", stdin="long enough\n")
    assert bad_role.returncode == 2 and "viewer, operator, admin" in bad_role.stderr
    listed = orjson.loads(run(env, "users", "--json").stdout)
    assert [(u["name"], u["role"]) for u in listed] == [("alice", "operator")]
    with engine.connect() as conn:
        assert authenticate(conn, "alice", "correct horse") is not None
        assert authenticate(conn, "alice", "correct horsE") is None
        assert authenticate(conn, "nobody", "correct horse") is None
    engine.dispose()


def test_passwords_are_salted_scrypt_hashes() -> None:
    one, two = hash_password("same password"), hash_password("same password")
    assert one != two and one.startswith("scrypt$16384$8$1$") and "same password" not in one
    assert verify_password("same password", one) and verify_password("same password", two)
    assert not verify_password("other password", one) and not verify_password("x", "not-a-hash")


def test_charts_escape_their_labels_and_scale_to_the_largest_value() -> None:
    svg = str(bar_chart(["<script>", "b"], {"n": [5, 10]}, "T & <b>"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "T &amp; &lt;b&gt;" in svg
    heights = [float(part.split('"')[0]) for part in svg.split('height="')[1:]]
    assert heights[1] == 2 * heights[0]  # 10 is twice 5
    line = str(line_chart(["2026-01", "2026-02", "2026-03"], {"a": [1, None, 3]}, "gaps"))
    assert line.count("<circle") == 2 and "<polyline" not in line  # a missing month breaks the line
    assert "No data yet" in str(bar_chart([], {}, "empty"))


def test_static_files_and_the_login_page_need_no_session(console: Console) -> None:
    http: TestClient = console.client()
    htmx = http.get("/console/static/htmx.min.js")
    assert htmx.status_code == 200 and "htmx" in htmx.text[:2000]
    assert http.get("/console/static/console.css").status_code == 200
    login = http.get("/console/login")
    assert login.status_code == 200 and 'name="csrf"' in login.text
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
