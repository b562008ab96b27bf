"""NetSuite settings: account URL, OAuth 2.0 client credentials, async posting, settling.

``handoffs.yaml``::

    netsuite:
      role: erp
      connector: netsuite
      base_url: https://1234567.suitetalk.api.netsuite.com
      credentials:
        client_id: env:NETSUITE_CLIENT_ID            # the integration record's client id
        certificate_id: 2bT0...                      # Setup > Integration > OAuth 2.0 Client Credentials
        private_key: file:/run/secrets/netsuite.pem  # the certificate's private key (EC or RSA)
      options:
        algorithm: ES256          # PS256 for an RSA certificate (OAuth 2.0 only)
        respond_async: true
        settle_seconds: 30        # how long an unanswered write is looked for before resending
        tax_codes: {tax-uk-std: "VAT:S-GB"}     # hub tax code -> NetSuite tax code name
        references: {currency: [USD, GBP]}      # names `handoffs systems check` must resolve

Token-based authentication (OAuth 1.0a, :mod:`.tba`) instead of OAuth 2.0::

      credentials:
        auth: tba
        account: 1234567_SB1                    # the account id (the realm)
        consumer_key: env:NETSUITE_CONSUMER_KEY
        consumer_secret: env:NETSUITE_CONSUMER_SECRET
        token_id: env:NETSUITE_TOKEN_ID
        token_secret: env:NETSUITE_TOKEN_SECRET
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from handoffs.connectors.netsuite.tba import NetSuiteTba
from handoffs.connectors.secrets import Secret, resolve_secret

__all__ = ["TOKEN_PATH", "NetSuiteConfig"]

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"  # noqa: S105 - a URL path


@dataclass(frozen=True, slots=True)
class NetSuiteConfig:
    """``respond_async`` sends ``Prefer: respond-async`` and polls the job (202 + Location).

    With ``tba`` set, requests are signed with token-based authentication and the OAuth 2.0
    fields are unused.
    """

    base_url: str
    client_id: str
    certificate_id: str
    private_key: Secret
    algorithm: str = "ES256"
    scope: str = "rest_webservices"
    respond_async: bool = True
    poll_interval: float = 0.05
    max_polls: int = 40
    settle_seconds: float = 30.0
    service_item: str = "10"
    tax_codes: dict[str, str] = field(default_factory=dict)
    references: dict[str, list[str]] = field(default_factory=dict)
    tba: NetSuiteTba | None = None

    @property
    def token_url(self) -> str:
        return self.base_url.rstrip("/") + TOKEN_PATH

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> NetSuiteConfig:
        creds = entry.get("credentials") or {}
        options = entry.get("options") or {}
        tba = _tba(creds) if creds.get("auth") == "tba" else None
        return cls(
            base_url=entry["base_url"],
            client_id="" if tba else resolve_secret(creds["client_id"]).reveal(),
            certificate_id="" if tba else str(creds["certificate_id"]),
            private_key=Secret("", "none") if tba else resolve_secret(creds["private_key"]),
            tba=tba,
            algorithm=str(options.get("algorithm", "ES256")),
            respond_async=bool(options.get("respond_async", True)),
            settle_seconds=float(options.get("settle_seconds", 30.0)),
            service_item=str(options.get("service_item", "10")),
            tax_codes={str(k): str(v) for k, v in (options.get("tax_codes") or {}).items()},
            references={str(k): [str(v) for v in vs] for k, vs in (options.get("references") or {}).items()},
        )


def _tba(creds: dict[str, Any]) -> NetSuiteTba:
    names = ("consumer_key", "consumer_secret", "token_id", "token_secret")
    missing = [n for n in ("account", *names) if not creds.get(n)]
    if missing:
        raise ValueError(f"netsuite credentials with auth: tba need {', '.join(missing)}")
    secrets = {n: resolve_secret(str(creds[n])) for n in names}
    return NetSuiteTba(account=str(creds["account"]), **secrets)
