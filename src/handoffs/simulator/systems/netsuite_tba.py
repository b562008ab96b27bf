"""The simulated NetSuite's token-based authentication (TBA, OAuth 1.0a with HMAC-SHA256).

As NetSuite documents it ("The Authorization Headers" and "Using TBA for RESTlets and REST
web services", docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1534941295.html
and section_1529270466.html), a request is accepted only when its ``Authorization: OAuth``
header has:

* ``realm`` = the account id (upper case, ``_`` for a sandbox's ``-``);
* a known ``oauth_consumer_key`` and ``oauth_token``, ``oauth_signature_method="HMAC-SHA256"``
  and ``oauth_version="1.0"``;
* an ``oauth_timestamp`` within five minutes of the server's clock and an ``oauth_nonce``
  never used before with that token;
* an ``oauth_signature`` that is RFC 5849's HMAC-SHA256 over the method, the URL with its
  query and the ``oauth_*`` parameters, keyed by ``consumer_secret&token_secret``.

Anything else is 401 ``INVALID_LOGIN_ATTEMPT``. The signature is checked with ``oauthlib``.
The default credentials are the simulator's own made-up ones, not secrets of anything real.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import urlsplit

from oauthlib.oauth1.rfc5849 import signature, utils

__all__ = ["SIM_TBA", "TbaCredential", "TbaVerifier"]

MAX_SKEW_SECONDS = 300


@dataclass(frozen=True, slots=True)
class TbaCredential:
    """An integration record (consumer) and one access token, in one account."""

    account: str
    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str


SIM_TBA = TbaCredential(
    "1234567_SB1",
    "sim-tba-consumer-key",
    "sim-tba-consumer-secret",
    "sim-tba-token-id",
    "sim-tba-token-secret",
)


@dataclass
class TbaVerifier:
    """Checks TBA-signed requests; remembers every nonce it has accepted."""

    credential: TbaCredential
    nonces: set[tuple[str, str]] = field(default_factory=set)
    refused: list[str] = field(default_factory=list)  # why each refused request was refused
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def valid(self, method: str, url: str, authorization: str | None) -> bool:
        reason = self._check(method, url, authorization)
        if reason:
            self.refused.append(reason)
        return reason is None

    def _check(self, method: str, url: str, authorization: str | None) -> str | None:
        if not authorization or not authorization.lower().startswith("oauth "):
            return "not an OAuth header"
        headers = {"Authorization": authorization}
        try:
            utils.parse_authorization_header(authorization)
        except ValueError:
            return "malformed header"
        # oauth_* values unescaped, as RFC 5849 §3.5.1 has them
        oauth = dict(
            signature.collect_parameters(headers=headers, exclude_oauth_signature=False, with_realm=True)
        )
        c = self.credential
        if oauth.get("realm") != c.account:
            return "wrong realm"
        if oauth.get("oauth_consumer_key") != c.consumer_key or oauth.get("oauth_token") != c.token_id:
            return "unknown consumer or token"
        if oauth.get("oauth_signature_method") != "HMAC-SHA256" or oauth.get("oauth_version") != "1.0":
            return "unsupported signature method"
        try:
            skew = abs(time.time() - int(oauth.get("oauth_timestamp", "")))
        except ValueError:
            return "bad timestamp"
        if skew > MAX_SKEW_SECONDS:
            return "stale timestamp"
        params = signature.collect_parameters(uri_query=urlsplit(url).query, headers=headers)
        request = SimpleNamespace(
            params=params, uri=url, http_method=method, signature=oauth.get("oauth_signature")
        )
        if not signature.verify_hmac_sha256(request, c.consumer_secret, c.token_secret):
            return "bad signature"
        nonce = (c.token_id, str(oauth.get("oauth_nonce")))
        with self._lock:
            if nonce in self.nonces:
                return "nonce reused"
            self.nonces.add(nonce)
        return None
