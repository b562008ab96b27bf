"""Authentication schemes as ``httpx.Auth`` flows: bearer, API-key header, basic, OAuth2.

OAuth2 client credentials fetches a token on first use, refreshes it before it expires and
once more when the server answers 401 (a revoked or rotated token), then gives up.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Generator

import httpx

from handoffs.connectors.secrets import Secret
from handoffs.engine.errors import TerminalError, TransientError

__all__ = ["ApiKeyAuth", "BasicAuth", "BearerAuth", "OAuth2ClientCredentials"]


class BearerAuth(httpx.Auth):
    def __init__(self, token: Secret) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token.reveal()}"
        yield request


class ApiKeyAuth(httpx.Auth):
    def __init__(self, key: Secret, header: str = "X-Api-Key") -> None:
        self.key, self.header = key, header

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = self.key.reveal()
        yield request


class BasicAuth(httpx.Auth):
    def __init__(self, user: str, password: Secret) -> None:
        self.user, self.password = user, password

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        pair = f"{self.user}:{self.password.reveal()}".encode()
        request.headers["Authorization"] = f"Basic {base64.b64encode(pair).decode()}"
        yield request


class OAuth2ClientCredentials(httpx.Auth):
    """The client-credentials grant (RFC 6749 §4.4) with a form-encoded token request.

    Args:
        token_url: absolute URL of the token endpoint.
        client_id, client_secret: the connected app's credentials.
        on_token: called with the token response (Salesforce returns ``instance_url``).
        leeway: refresh this many seconds before ``expires_in`` runs out.
    """

    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: Secret,
        *,
        on_token: Callable[[dict[str, object]], None] | None = None,
        leeway: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url, self.client_id, self.client_secret = token_url, client_id, client_secret
        self.on_token, self.leeway, self.clock = on_token, leeway, clock
        self._token: Secret | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.fetched = 0

    def _token_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret.reveal(),
            },
        )

    def _accept(self, response: httpx.Response) -> None:
        if response.status_code >= 500:
            raise TransientError(f"token endpoint answered {response.status_code}")
        if response.status_code != 200:
            raise TerminalError(
                f"token endpoint refused the client credentials ({response.status_code})", category="auth"
            )
        body = response.json()
        self._token = Secret(str(body["access_token"]), "oauth2 access token")
        expires_in = float(body.get("expires_in", 3600))
        self._expires_at = self.clock() + max(0.0, expires_in - self.leeway)
        self.fetched += 1
        if self.on_token:
            self.on_token(body)

    def invalidate(self) -> None:
        self._token = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None or self.clock() >= self._expires_at:
            self._accept((yield self._token_request()))
        assert self._token is not None
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        response = yield request
        if response.status_code == 401:  # revoked or rotated: fetch a new token once
            self._accept((yield self._token_request()))
            request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
            yield request
