"""Fixtures for API tests: a hub with two legal entities, clients and keys, an in-process client."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import orjson
import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient

from handoffs.api import ApiSettings, create_app
from handoffs.api.clients import create_client
from handoffs.bench.datagen import backfill_lines
from handoffs.bootstrap import App
from handoffs.engine.egress import EgressPolicy
from handoffs.flows.ingest import ingest_lines

ALL_SCOPES = [
    "system:read",
    "system:write",
    "process:write",
    "experience:read",
    "events:manage",
    "metrics:read",
]
_keys = itertools.count()
# The test subscribers listen on 127.0.0.1, which the hub refuses unless an operator allows it.
LOCAL_HOOKS = ("127.0.0.1/32",)
LOCAL = EgressPolicy.allowing(LOCAL_HOOKS)


def _submitted(line: str) -> str:
    data = orjson.loads(line)
    if data["type"] == "time_entry":
        data.update(status="submitted", approved_by=None, approved_at=None)
    return orjson.dumps(data).decode()


def firm(entity: str = "LE-US") -> list[str]:
    """A small firm of one legal entity: one project, five consultants, three submitted entries."""
    lines = [_submitted(line) for line in backfill_lines(entries=3, projects=1)]
    if entity == "LE-US":
        return lines
    swaps = {
        "LE-US": entity,
        "P-001": "P-901",
        "C-001": "C-901",
        "K-001": "K-901",
        "R-000": "R-900",
        "A-000": "A-900",
        "TE-0000000": "TE-9000000",
        "TX-US-EXEMPT": "TX-UK",
    }
    out = []
    for line in lines:
        for a, b in swaps.items():
            line = line.replace(a, b)
        out.append(line)
    return out


def seed(hub: App) -> None:
    report = ingest_lines([*firm("LE-US"), *firm("LE-UK")], hub.uow, hub.ports, source="file:seed")
    assert report.failed == 0, report.as_dict()


def make_key(
    hub: App, client_id: str, scopes: list[str] | None = None, entities: list[str] | None = None, **kw: Any
) -> str:
    with hub.uow() as uow:
        key = create_client(
            uow, "operator:test", client_id, ALL_SCOPES if scopes is None else scopes, entities, **kw
        )
        uow.commit()
    return key.secret


def auth(key: str, idem: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"}
    if idem is not None:
        headers["Idempotency-Key"] = idem
    return headers


def idem() -> str:
    return f"k-{next(_keys)}"


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Forget any logging set up by a CLI call in a test: it bound that test's captured stderr."""
    yield
    structlog.reset_defaults()


@dataclass
class Api:
    hub: App
    app: FastAPI
    http: TestClient
    admin: str  # every scope, every legal entity
    us: str  # every scope, LE-US only

    def post(self, path: str, body: Any, key: str | None = None, idem_key: str | None = None) -> Any:
        return self.http.post(path, json=body, headers=auth(key or self.admin, idem_key or idem()))

    def get(self, path: str, key: str | None = None, **params: Any) -> Any:
        return self.http.get(path, headers=auth(key or self.admin), params=params)


@pytest.fixture
def api(hub: App) -> Iterator[Api]:
    hub.ports.erps.clear()  # no ERP: invoices stay generated, deliveries are not the point here
    hub.settings = replace(hub.settings, webhook_allow_networks=LOCAL_HOOKS)
    seed(hub)
    admin = make_key(hub, "admin", rate=1000, burst=1000)
    us = make_key(hub, "us-portal", entities=["LE-US"], rate=1000, burst=1000)
    app = create_app(hub, ApiSettings())
    with TestClient(app, raise_server_exceptions=False) as http:
        yield Api(hub, app, http, admin, us)
