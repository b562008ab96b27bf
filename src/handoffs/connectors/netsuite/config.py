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
        algorithm: ES256          # PS256 for an RSA certificate
        respond_async: true
        settle_seconds: 30        # how long an unanswered write is looked for before resending
        tax_codes: {tax-uk-std: "VAT:S-GB"}     # hub tax code -> NetSuite tax code name
        references: {currency: [USD, GBP]}      # names `handoffs systems check` must resolve
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from handoffs.connectors.secrets import Secret, resolve_secret

__all__ = ["TOKEN_PATH", "NetSuiteConfig"]

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"  # noqa: S105 - a URL path


@dataclass(frozen=True, slots=True)
class NetSuiteConfig:
    """``respond_async`` sends ``Prefer: respond-async`` and polls the job (202 + Location)."""

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

    @property
    def token_url(self) -> str:
        return self.base_url.rstrip("/") + TOKEN_PATH

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> NetSuiteConfig:
        creds = entry.get("credentials") or {}
        options = entry.get("options") or {}
        return cls(
            base_url=entry["base_url"],
            client_id=resolve_secret(creds["client_id"]).reveal(),
            certificate_id=str(creds["certificate_id"]),
            private_key=resolve_secret(creds["private_key"]),
            algorithm=str(options.get("algorithm", "ES256")),
            respond_async=bool(options.get("respond_async", True)),
            settle_seconds=float(options.get("settle_seconds", 30.0)),
            service_item=str(options.get("service_item", "10")),
            tax_codes={str(k): str(v) for k, v in (options.get("tax_codes") or {}).items()},
            references={str(k): [str(v) for v in vs] for k, vs in (options.get("references") or {}).items()},
        )
