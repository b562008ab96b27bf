"""Schemathesis against the running app's OpenAPI spec: no 5xx, no response that breaks the spec.

On SQLite and on PostgreSQL: PostgreSQL refuses what SQLite stores (a NUL in text, integers
beyond 64 bits), so a 5xx can hide on one database only.

Runs the ``st`` command line (all checks, a fixed seed so CI is repeatable) against the API
served by uvicorn on a free port, authenticated with a firm-wide key from the config file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from handoffs.api import create_app
from tests.api.conftest import Api, make_key
from tests.api.servers import serve_api

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def _st() -> str:
    found = shutil.which("st") or str(Path(sys.executable).parent / "st")
    if not Path(found).exists():
        if os.environ.get("CI"):
            pytest.fail("schemathesis is required in CI (pip install schemathesis)")
        pytest.skip("schemathesis is not installed")
    return found


@pytest.mark.slow
def test_schemathesis_finds_nothing(api: Api, tmp_path: Path) -> None:
    st = _st()
    key = make_key(api.hub, "schemathesis", rate=10_000, burst=10_000)
    env = {
        **os.environ,
        "HANDOFFS_ST_KEY": key,
        "SCHEMATHESIS_HOOKS": "tests.api.st_hooks",
        "PYTHONPATH": str(ROOT),
    }
    with serve_api(create_app(api.hub)) as base:
        result = subprocess.run(
            [
                st,
                "--config-file",
                str(HERE / "schemathesis.toml"),
                "run",
                f"{base}/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                "30",
                "--seed",
                "20261125",
                "--workers",
                "1",
                "--no-color",
            ],
            env=env,
            cwd=tmp_path,  # schemathesis keeps a .schemathesis/ cache in its working directory
            capture_output=True,
            text=True,
            timeout=600,
        )
    summary = result.stdout[result.stdout.rfind("SUMMARY") :] if "SUMMARY" in result.stdout else result.stdout
    print(summary)
    if os.environ.get("HANDOFFS_ST_LOG"):
        Path(os.environ["HANDOFFS_ST_LOG"]).write_text(result.stdout)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
