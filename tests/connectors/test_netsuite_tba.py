"""NetSuite token-based authentication (OAuth 1.0a, HMAC-SHA256) over HTTP against the simulator.

The connector of commit 56e78c4 knew only OAuth 2.0 client credentials: a NetSuite account
set up for TBA could not be connected at all (``credentials: {auth: tba, ...}`` was refused).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client
from typer.testing import CliRunner

from handoffs.bootstrap import App
from handoffs.cli.main import app as cli
from handoffs.connectors.netsuite import NetSuiteConfig, NetSuiteErp
from handoffs.connectors.netsuite.tba import NetSuiteTba, NetSuiteTokenAuth
from handoffs.connectors.secrets import Secret
from handoffs.engine.errors import TerminalError
from handoffs.simulator.firm import Firm
from handoffs.simulator.systems.netsuite_tba import SIM_TBA
from handoffs.sync import StoreLookups
from tests.connectors import test_erps
from tests.connectors.support import FAST, firm_invoice

WRONG = "wrong-token-secret-tba"


def _tba(token_secret: str = SIM_TBA.token_secret) -> NetSuiteTba:
    return NetSuiteTba(
        "1234567-sb1",  # a sandbox id as the UI shows it; the realm is 1234567_SB1
        Secret(SIM_TBA.consumer_key),
        Secret(SIM_TBA.consumer_secret),
        Secret(SIM_TBA.token_id),
        Secret(token_secret),
    )


def _start(
    seeds: Any, serve: Any, hub: App, tmp_path: Path, token_secret: str = SIM_TBA.token_secret
) -> tuple[Any, NetSuiteErp]:
    sim, oauth2 = test_erps.TestNetSuite().start(seeds, serve, hub, tmp_path)
    config: NetSuiteConfig = dataclasses.replace(oauth2.config, tba=_tba(token_secret))
    mappings = test_erps._mappings("netsuite")
    return sim, NetSuiteErp("netsuite", config, mappings, StoreLookups(hub.engine), policy=FAST)


def test_finding_netsuite_tba_posts_invoices_end_to_end(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """Every request is signed with TBA; no OAuth 2.0 token is ever asked for."""
    sim, erp = _start(seeds, serve, firm_hub, tmp_path)
    invoice = firm_invoice(firm)
    ref = erp.post_invoice(invoice, "k")
    stored = sim.records["invoice"][ref.external_id]
    assert stored["externalId"] == invoice.id and len(stored["item"]["items"]) == len(invoice.lines)
    assert sim.tokens.issued == 0 and sim.tba.refused == []
    assert len(sim.tba.nonces) >= 4  # customer, invoice, async job polls, read-back: one nonce each
    assert erp.read_invoices([invoice.id])[invoice.id].total == invoice.total.amount


def test_finding_netsuite_tba_wrong_token_secret_is_a_terminal_auth_error(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """A bad signature is 401 once: no refresh exists, so it is terminal, with a clear message."""
    sim, erp = _start(seeds, serve, firm_hub, tmp_path, token_secret=WRONG)
    with pytest.raises(TerminalError) as caught:
        erp.post_invoice(firm_invoice(firm), "k")
    message = str(caught.value)
    assert caught.value.category == "auth"
    assert "token-based authentication for account 1234567_SB1" in message
    assert WRONG not in message and SIM_TBA.consumer_secret not in message
    assert sim.tba.refused == ["bad signature"]  # tried once, not again and again
    assert sim.records["invoice"] == {}


def test_finding_netsuite_tba_replayed_nonce_and_stale_timestamp_are_refused(
    firm_hub: App, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """NetSuite refuses a nonce it has seen, a timestamp minutes off, and a wrong realm."""
    sim, erp = _start(seeds, serve, firm_hub, tmp_path)
    url = f"{erp.config.base_url}/services/rest/record/v1/currency/1?fields=symbol"
    with httpx.Client(auth=NetSuiteTokenAuth(_tba())) as signed:
        first = signed.get(url)
    assert first.status_code == 200
    replay = httpx.get(url, headers={"Authorization": first.request.headers["Authorization"]})
    assert replay.status_code == 401 and b"INVALID_LOGIN" in replay.content

    def signed_by(**o: Any) -> int:
        c = SIM_TBA
        client = Client(
            c.consumer_key,
            client_secret=c.consumer_secret,
            resource_owner_key=c.token_id,
            resource_owner_secret=c.token_secret,
            signature_method=SIGNATURE_HMAC_SHA256,
            **{"realm": c.account, **o},
        )
        _, headers, _ = client.sign(url, http_method="GET")
        return httpx.get(url, headers=headers).status_code

    assert signed_by(timestamp=str(int(time.time()) - 900)) == 401
    assert signed_by(realm="1234567") == 401
    assert signed_by() == 200
    assert sim.tba.refused == ["nonce reused", "stale timestamp", "wrong realm"]


def test_finding_netsuite_tba_systems_check_proves_the_login(
    firm_hub: App, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """``handoffs systems check`` makes a TBA-signed GET; a wrong secret fails it, unshown."""
    _sim, erp = _start(seeds, serve, firm_hub, tmp_path)

    def check(token_secret: str) -> Any:
        credentials = {
            "auth": "tba",
            "account": "1234567-sb1",
            "consumer_key": f"value:{SIM_TBA.consumer_key}",
            "consumer_secret": f"value:{SIM_TBA.consumer_secret}",
            "token_id": f"value:{SIM_TBA.token_id}",
            "token_secret": f"value:{token_secret}",
        }
        entry = {"role": "erp", "connector": "netsuite", "base_url": erp.config.base_url}
        entry |= {"credentials": credentials, "options": {"references": {"currency": ["USD"]}}}
        path = tmp_path / "handoffs.yaml"
        path.write_text(yaml.safe_dump({"version": 1, "systems": {"netsuite": entry}}), encoding="utf-8")
        return CliRunner().invoke(cli, ["systems", "check", "-f", str(path), "--json"])

    good = check(SIM_TBA.token_secret)
    assert good.exit_code == 0, good.output
    assert json.loads(good.stdout)["systems"][0]["detail"].startswith("TBA signature accepted")
    bad = check(WRONG)
    assert bad.exit_code == 1
    assert "token-based authentication" in json.loads(bad.stdout)["systems"][0]["detail"]
    assert WRONG not in bad.output
