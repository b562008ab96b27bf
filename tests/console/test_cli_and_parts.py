"""``handoffs console adduser`` as a user runs it; password hashing; charts; static files."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import orjson
from fastapi.testclient import TestClient

from handoffs.console.charts import bar_chart, line_chart
from handoffs.console.users import add_user, authenticate, hash_password, verify_password
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
    assert run(env, "adduser", "alice", "--password-stdin", stdin="another passphrase\n").returncode == 2
    short = run(env, "adduser", "bob", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    bad_role = run(env, "adduser", "bob", "--role", "root", "--password-stdin", stdin="long enough\n")
    assert bad_role.returncode == 2 and "viewer, operator, admin" in bad_role.stderr
    listed = orjson.loads(run(env, "users", "--json").stdout)
    assert [(u["name"], u["role"]) for u in listed] == [("alice", "operator")]
    with engine.connect() as conn:
        assert authenticate(conn, "alice", "correct horse") is not None
        assert authenticate(conn, "alice", "correct horsE") is None
        assert authenticate(conn, "nobody", "correct horse") is None
    engine.dispose()


def test_finding_7_the_password_policy_holds_in_the_cli(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = make_engine(url)
    upgrade(engine)
    env = {**os.environ, "HANDOFFS_DATABASE_URL": url, "COLUMNS": "200"}
    for weak, why in [
        ("tr0ub4dor\n", "at least 12 characters"),
        ("Password2024!\n", "too common"),
        ("qwertyuiop123\n", "too common"),
        ("aaaaaaaaaaaaaaa\n", "too simple"),
        ("carol.jones99\n", "not be the user name"),
    ]:
        refused = run(env, "adduser", "carol.jones", "--password-stdin", stdin=weak)
        assert refused.returncode == 2 and why in refused.stderr, (weak, refused.stderr)
        assert weak.strip() not in refused.stdout + refused.stderr
    assert (
        run(env, "adduser", "carol.jones", "--password-stdin", stdin="plum orchard lantern\n").returncode == 0
    )
    weak_change = run(env, "password", "carol.jones", "--password-stdin", stdin="letmein12345\n")
    assert weak_change.returncode == 2 and "too common" in weak_change.stderr
    changed = run(env, "password", "carol.jones", "--password-stdin", stdin="copper kettle morning\n")
    assert changed.returncode == 0, changed.stderr
    assert run(env, "password", "nobody", "--password-stdin", stdin="copper kettle morning\n").returncode == 2
    with engine.connect() as conn:
        assert authenticate(conn, "carol.jones", "copper kettle morning") is not None
        assert authenticate(conn, "carol.jones", "plum orchard lantern") is None
    engine.dispose()


def test_passwords_are_salted_argon2id_hashes() -> None:
    one, two = hash_password("same password"), hash_password("same password")
    assert one != two and one.startswith("$argon2id$") and "same password" not in one
    assert verify_password("same password", one) and verify_password("same password", two)
    assert not verify_password("other password", one) and not verify_password("x", "not-a-hash")


def test_scrypt_and_weaker_argon2_hashes_verify_and_are_upgraded_on_sign_in(tmp_path: Path) -> None:
    from argon2 import PasswordHasher
    from sqlalchemy import select, update

    from handoffs.store.tables import console_users

    # What the console stored before Argon2: scrypt n=2^14 r=8 p=1, 16-byte salt, hex.
    salt = bytes(range(16))
    digest = hashlib.scrypt(b"an old passphrase", salt=salt, n=2**14, r=8, p=1, dklen=32)
    old = f"scrypt$16384$8$1${salt.hex()}${digest.hex()}"
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("a weak-params phrase")
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    upgrade(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for name, stored in [("old", old), ("weak", weak)]:
            add_user(conn, name, "viewer", "placeholder passphrase", now)
            conn.execute(
                update(console_users).where(console_users.c.name == name).values(password_hash=stored)
            )

    def stored_hash(name: str) -> str:
        with engine.connect() as conn:
            query = select(console_users.c.password_hash).where(console_users.c.name == name)
            return str(conn.execute(query).scalar_one())

    with engine.begin() as conn:
        assert authenticate(conn, "old", "an old passphrasE") is None
        assert authenticate(conn, "weak", "a weak-params phrasE") is None
    assert (stored_hash("old"), stored_hash("weak")) == (old, weak)  # a failed sign-in changes nothing
    with engine.begin() as conn:
        assert authenticate(conn, "old", "an old passphrase") is not None
        assert authenticate(conn, "weak", "a weak-params phrase") is not None
    for name, phrase in [("old", "an old passphrase"), ("weak", "a weak-params phrase")]:
        upgraded = stored_hash(name)
        assert upgraded.startswith("$argon2id$") and upgraded != weak
        assert PasswordHasher().check_needs_rehash(upgraded) is False
        with engine.connect() as conn:
            assert authenticate(conn, name, phrase) is not None
    engine.dispose()


def test_charts_carry_escaped_data_for_chartjs_a_table_and_an_empty_state() -> None:
    import html

    chart = str(bar_chart(["<script>", "b"], {"n": [5, Decimal("10.5")]}, "T & <b>", "h"))
    assert "<script>" not in chart and "&lt;script&gt;" in chart and "T &amp; &lt;b&gt;" in chart
    spec = orjson.loads(html.unescape(chart.split('data-chart="')[1].split('"')[0]))
    assert spec["type"] == "bar" and spec["unit"] == "h" and spec["labels"] == ["<script>", "b"]
    assert spec["series"][0]["values"] == [5.0, 10.5]
    assert "<td>10.5h</td>" in chart  # the exact value, for screen readers
    line = str(line_chart(["2026-01", "2026-02", "2026-03"], {"a": [1, None, 3]}, "gaps"))
    assert '"values":[1.0,null,3.0]' in html.unescape(line)  # a missing month leaves a gap
    assert "handoffs demo" in str(bar_chart([], {}, "empty"))  # says what to run
    assert "nothing" in str(line_chart(["x"], {"a": [None]}, "none", empty="nothing yet"))


def test_static_files_and_the_login_page_need_no_session(console: Console) -> None:
    http: TestClient = console.client()
    htmx = http.get("/console/static/htmx.min.js")
    assert htmx.status_code == 200 and "htmx" in htmx.text[:2000]
    assert http.get("/console/static/console.css").status_code == 200
    login = http.get("/console/login")
    assert login.status_code == 200 and 'name="csrf"' in login.text
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
