"""Finding 12: a database reader finds no key material (signing keys, webhook secrets)."""

from __future__ import annotations

import base64

from sqlalchemy import String, Text, select

from handoffs.api.tokens import SIGNING_PURPOSE
from handoffs.store.tables import api_secrets, idempotency_keys, metadata
from tests.api.conftest import Api


def _every_stored_text(api: Api) -> list[str]:
    """Every text cell of every table, except the replayed responses (the idempotency store's
    handling of shown-once secrets is a separate part of finding 12)."""
    cells: list[str] = []
    with api.hub.uow() as uow:
        for table in metadata.sorted_tables:
            if table is idempotency_keys:
                continue
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            for row in uow.connection.execute(select(*columns)) if columns else []:
                cells.extend(str(v) for v in row if v is not None)
    return cells


def test_finding_12_signing_keys_and_webhook_secrets_are_not_readable_from_the_database(api: Api) -> None:
    token = api.http.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "us-portal", "client_secret": api.us},
    )
    assert api.get("/v1/experience/kpis", key=token.json()["access_token"]).status_code == 200
    outbound = api.post("/v1/subscriptions", {"kind": "webhook", "target": "http://127.0.0.1:9/hook"})
    inbound = api.post("/v1/system/webhooks/harvest/secret", {})
    assert outbound.status_code == 201 and inbound.status_code == 200
    secrets = [outbound.json()["secret"], inbound.json()["secret"]]
    key = api.hub.keyring().key(SIGNING_PURPOSE)
    secrets += [key.hex(), base64.urlsafe_b64encode(key).decode().rstrip("=")]

    with api.hub.uow() as uow:
        assert uow.connection.execute(select(api_secrets.c.name)).all() == []  # no stored signing key
    cells = _every_stored_text(api)
    assert cells  # the scan did read the database
    assert [s for s in secrets if any(s in cell for cell in cells)] == []
