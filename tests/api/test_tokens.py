"""Access tokens are PyJWT HS256 tokens of this hub: algorithm, issuer, audience and expiry checked."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from handoffs.api.tokens import SIGNING_PURPOSE
from tests.api.conftest import Api

KPIS = "/v1/experience/kpis"


def _claims(api: Api, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "handoffs",
        "aud": "handoffs-api",
        "sub": "us-portal",
        "kid": api.us.split("_")[2],
        "scope": "experience:read",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _ago(seconds: int) -> int:
    return int(time.time()) - seconds


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key(api: Api) -> bytes:
    return api.hub.keyring().key(SIGNING_PURPOSE)


def _refusal(api: Api, token: str) -> tuple[int, str, str]:
    r = api.get(KPIS, key=token)
    body = r.json()
    return r.status_code, body["title"], body["detail"]


def test_jose_a_token_issued_by_the_token_endpoint_is_accepted_and_names_its_audience(api: Api) -> None:
    r = api.http.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "us-portal", "client_secret": api.us},
    )
    token = r.json()["access_token"]
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, _key(api), algorithms=["HS256"], audience="handoffs-api", issuer="handoffs")
    assert claims["sub"] == "us-portal" and claims["exp"] - claims["iat"] == 3600
    assert api.get(KPIS, key=token).status_code == 200
    assert api.get(KPIS, key=jwt.encode(_claims(api), _key(api), algorithm="HS256")).status_code == 200


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda api: jwt.encode(_claims(api, aud="someone-else"), _key(api)), id="wrong-aud"),
        pytest.param(lambda api: jwt.encode(_claims(api, aud=None), _key(api)), id="no-aud"),
        pytest.param(lambda api: jwt.encode(_claims(api, iss="elsewhere"), _key(api)), id="wrong-iss"),
        pytest.param(lambda api: jwt.encode(_claims(api, exp=None), _key(api)), id="no-exp"),
        pytest.param(lambda api: jwt.encode(_claims(api, iat=None), _key(api)), id="no-iat"),
        pytest.param(
            lambda api: jwt.encode(_claims(api, iat=_ago(7200), exp=_ago(3600)), _key(api)),
            id="expired",
        ),
        pytest.param(lambda api: jwt.encode(_claims(api), None, algorithm="none"), id="alg-none"),
        pytest.param(lambda api: jwt.encode(_claims(api), _key(api), algorithm="HS512"), id="hs512"),
        pytest.param(
            lambda api: jwt.encode(_claims(api), _rsa(), algorithm="RS256"),
            id="rs256",
        ),
        pytest.param(lambda api: jwt.encode(_claims(api), b"k" * 32), id="other-key"),
    ],
)
def test_jose_tokens_not_made_by_this_hub_for_this_api_are_refused_alike(api: Api, forge: Any) -> None:
    assert api.get(KPIS, key=jwt.encode(_claims(api), _key(api))).status_code == 200  # the key is right
    generic = _refusal(api, "not.a.token")
    assert generic[0] == 401
    assert _refusal(api, forge(api)) == generic
