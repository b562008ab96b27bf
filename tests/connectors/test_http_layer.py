"""The shared HTTP layer and the mapping and config loaders, with ``httpx.MockTransport``."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from handoffs.config.systems import SystemsConfigError, parse_systems
from handoffs.connectors.auth import OAuth2ClientCredentials
from handoffs.connectors.http import HttpClient, HttpPolicy
from handoffs.connectors.mapping import MappingFailure, apply_mapping, parse_mapping
from handoffs.connectors.mapping.spec import MappingSpecError
from handoffs.connectors.secrets import Secret, SecretError, resolve_secret
from handoffs.engine.errors import RateLimited, TerminalError, TransientError

POLICY = HttpPolicy(attempts=3, backoff=0.0, max_wait=5.0)


def client(handler: httpx.MockTransport, **kw: object) -> tuple[HttpClient, list[float]]:
    slept: list[float] = []
    http = HttpClient("sys", "http://sys.test", transport=handler, policy=POLICY, sleep=slept.append, **kw)  # type: ignore[arg-type]
    return http, slept


def test_retry_after_is_honoured_then_the_call_succeeds() -> None:
    answers = iter(
        [httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json={"ok": True})]
    )
    http, slept = client(httpx.MockTransport(lambda r: next(answers)))
    assert http.json("GET", "/x") == {"ok": True}
    assert slept == [2.0]


def test_a_long_retry_after_goes_back_to_the_engine() -> None:
    http, slept = client(httpx.MockTransport(lambda r: httpx.Response(429, headers={"Retry-After": "60"})))
    with pytest.raises(RateLimited) as limited:
        http.request("GET", "/x")
    assert limited.value.retry_after == 60 and slept == []


def test_5xx_and_timeouts_are_transient_4xx_terminal() -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(TransientError):
        client(httpx.MockTransport(lambda r: httpx.Response(503)))[0].request("GET", "/x")
    with pytest.raises(TransientError):
        client(httpx.MockTransport(boom))[0].request("GET", "/x")
    with pytest.raises(TerminalError):
        client(httpx.MockTransport(lambda r: httpx.Response(422, json={"message": "no"})))[0].request(
            "GET", "/x"
        )


def test_a_secret_echoed_by_a_server_is_redacted_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = Secret("s3cr3t-token-value")

    def echo(request: httpx.Request) -> httpx.Response:
        status = 503 if "retry" in request.url.path else 400
        return httpx.Response(status, text=f"bad header {request.headers['authorization']}")

    from handoffs.connectors.auth import BearerAuth

    http, _ = client(httpx.MockTransport(echo), auth=BearerAuth(token))
    for path in ("/retry", "/fail"):
        with pytest.raises((TransientError, TerminalError)) as failed:
            http.request("GET", path)
        assert "s3cr3t-token-value" not in str(failed.value) and "***" in str(failed.value)
    assert "s3cr3t-token-value" not in caplog.text
    assert "s3cr3t" not in repr(token) and "s3cr3t" not in f"{token}"


def test_oauth2_fetches_once_and_refreshes_on_401() -> None:
    state = {"tokens": 0, "calls": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            state["tokens"] += 1
            return httpx.Response(200, json={"access_token": f"t{state['tokens']}", "expires_in": 3600})
        state["calls"] += 1
        ok = request.headers["authorization"] == f"Bearer t{state['tokens']}" and state["calls"] != 2
        return httpx.Response(200 if ok else 401, json={})

    auth = OAuth2ClientCredentials("http://sys.test/token", "id", Secret("client-secret-x"))
    http, _ = client(httpx.MockTransport(handler), auth=auth)
    http.request("GET", "/a")
    http.request("GET", "/b")  # answered 401 once: a new token, then success
    assert state["tokens"] == 2 and auth.fetched == 2


def test_secrets_come_from_env_or_files(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("from-a-file\n")
    assert resolve_secret(f"file:{tmp_path / 'token'}").reveal() == "from-a-file"
    assert resolve_secret("env:HO_TOKEN", {"HO_TOKEN": "from-env"}).reveal() == "from-env"
    with pytest.raises(SecretError) as missing:
        resolve_secret("env:HO_MISSING", {})
    assert "HO_MISSING" in str(missing.value)


MAPPING = """\
version: 1
system: tool
mappings:
  - name: things
    direction: inbound
    canonical: customer
    key: id
    fields:
      id: {from: id}
      name: {from: name}
      currency: {from: ccy, values: {dollar: USD}, default: EUR}
      country: {from: where, lookup: {table: {England: GB}}}
"""


def test_a_mapping_failure_names_system_record_field_and_rule() -> None:
    spec = parse_mapping(MAPPING).get("things")
    assert apply_mapping(spec, {"id": "c1", "name": "A", "ccy": "dollar", "where": "England"}, "tool") == {
        "id": "c1",
        "name": "A",
        "currency": "USD",
        "country": "GB",
    }
    with pytest.raises(MappingFailure) as failed:
        apply_mapping(spec, {"id": "c2", "name": "B", "where": "Mars"}, "tool")
    assert (failed.value.system, failed.value.record_id, failed.value.field) == ("tool", "c2", "country")
    assert failed.value.rule == "lookup:table"


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        ("canonical: customer", 6, "not a canonical type"),
        ("{from: name}", 10, "unknown rule"),
        ("version: 1", 1, "version"),
    ],
)
def test_mapping_errors_name_the_line(change: str, line: int, words: str) -> None:
    broken = {
        "canonical: customer": "canonical: customr",
        "{from: name}": "{form: name}",
        "version: 1": "version: 9",
    }[change]
    with pytest.raises(MappingSpecError) as bad:
        parse_mapping(MAPPING.replace(change, broken), "m.yaml")
    assert f"m.yaml:{line}:" in str(bad.value) and words in str(bad.value)


def test_handoffs_yaml_refuses_inline_secrets_with_the_line() -> None:
    text = "version: 1\nsystems:\n  h:\n    role: time\n    connector: harvest\n    base_url: http://x\n"
    assert parse_systems(text).systems["h"].role == "time"
    with pytest.raises(SystemsConfigError) as bad:
        parse_systems(text + "    credentials:\n      token: abc123\n")
    assert ":8:" in str(bad.value) and "abc123" not in str(bad.value)
    with pytest.raises(SystemsConfigError) as wrong:
        parse_systems(text.replace("role: time", "role: timekeeping"))
    assert ":4:" in str(wrong.value)
