"""Inbound webhooks: signature, replay window and repeated deliveries."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import orjson
from standardwebhooks import Webhook

from handoffs.engine.relay_webhook import new_secret
from tests.api.conftest import Api

URL = "/v1/system/webhooks/harvest"


def _secret(api: Api) -> str:
    r = api.post("/v1/system/webhooks/harvest/secret", {})
    assert r.status_code == 200
    return str(r.json()["secret"])


def _body(name: str) -> bytes:
    record = {
        "type": "customer",
        "id": "C-001",
        "name": name,
        "legal_entity_id": "LE-US",
        "currency": "USD",
        "source_version": int(time.time()),
    }
    return orjson.dumps({"records": [record]})


def sign(secret: str, delivery: str, at: int, body: bytes) -> str:
    """What a sender using the Standard Webhooks library sends: no adaptation for the hub."""
    return Webhook(secret).sign(msg_id=delivery, timestamp=datetime.fromtimestamp(at, UTC), data=body)


def test_the_secret_is_a_standard_webhooks_secret(api: Api) -> None:
    secret = _secret(api)
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32


def test_a_sender_keyed_with_the_whole_secret_string_is_refused(api: Api) -> None:
    """The HMAC key is the decoded part after whsec_, not the text of the secret."""
    import hashlib
    import hmac

    secret = _secret(api)
    body, at = _body("Keyed wrongly"), int(time.time())
    mac = hmac.new(secret.encode(), f"d-w.{at}.".encode() + body, hashlib.sha256).digest()
    r = _send(api, body, "d-w", secret, at, signature="v1," + base64.b64encode(mac).decode())
    assert r.status_code == 401
    assert _send(api, body, "d-w", secret, at).status_code == 200


def _send(
    api: Api, body: bytes, delivery: str, secret: str, at: int | None = None, signature: str | None = None
):  # type: ignore[no-untyped-def]
    at = int(time.time()) if at is None else at
    headers = {
        "Webhook-Id": delivery,
        "Webhook-Timestamp": str(at),
        "Webhook-Signature": signature or sign(secret, delivery, at, body),
        "Content-Type": "application/json",
    }
    return api.http.post(URL, content=body, headers=headers)


def _name(api: Api) -> str:
    with api.hub.uow() as uow:
        return str(uow.objects.get("customer", "C-001").name)


def test_a_signed_delivery_is_applied_once(api: Api) -> None:
    secret = _secret(api)
    body = _body("Renamed by Harvest")
    first = _send(api, body, "d-1", secret)
    assert first.status_code == 200, first.text
    assert first.json()["duplicate"] is False and first.json()["report"]["outcomes"] == {"updated": 1}
    assert _name(api) == "Renamed by Harvest"
    replayed = _send(api, body, "d-1", secret)
    assert replayed.status_code == 200 and replayed.json() == {
        "delivery_id": "d-1",
        "duplicate": True,
        "report": None,
    }


def test_bad_signature_is_refused(api: Api) -> None:
    secret = _secret(api)
    body = _body("Forged")
    r = _send(api, body, "d-2", secret, signature=sign(new_secret(), "d-2", int(time.time()), body))
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    tampered = _send(
        api, _body("Tampered"), "d-3", secret, signature=sign(secret, "d-3", int(time.time()), body)
    )
    assert tampered.status_code == 401
    assert _name(api) != "Forged" and _name(api) != "Tampered"
    unsigned = api.http.post(URL, content=body)  # no signature at all: the headers are required
    assert unsigned.status_code == 422
    assert {e["location"] for e in unsigned.json()["errors"]} == {
        "header.Webhook-Id",
        "header.Webhook-Timestamp",
        "header.Webhook-Signature",
    }


def test_the_openapi_spec_marks_the_webhook_headers_required(api: Api) -> None:
    spec = api.http.get("/openapi.json").json()
    params = spec["paths"]["/v1/system/webhooks/{system}"]["post"]["parameters"]
    headers = {p["name"]: p["required"] for p in params if p["in"] == "header"}
    assert headers == {"Webhook-Id": True, "Webhook-Timestamp": True, "Webhook-Signature": True}


def test_a_stale_or_future_timestamp_is_refused(api: Api) -> None:
    secret = _secret(api)
    body = _body("Too late")
    assert _send(api, body, "d-4", secret, at=int(time.time()) - 3600).status_code == 401
    assert _send(api, body, "d-5", secret, at=int(time.time()) + 3600).status_code == 401
    assert _name(api) != "Too late"


def test_unknown_system_and_bad_body(api: Api) -> None:
    secret = _secret(api)
    r = api.http.post(
        "/v1/system/webhooks/nobody",
        content=b"{}",
        headers={
            "Webhook-Id": "x",
            "Webhook-Timestamp": str(int(time.time())),
            "Webhook-Signature": "v1,AAAA",
        },
    )
    assert r.status_code == 404
    assert _send(api, b"[1, 2]", "d-6", secret).status_code == 422


def test_rotating_the_secret_invalidates_the_old_one(api: Api) -> None:
    old = _secret(api)
    new = _secret(api)
    assert old != new
    assert _send(api, _body("Old secret"), "d-7", old).status_code == 401
    assert _send(api, _body("New secret"), "d-8", new).status_code == 200
