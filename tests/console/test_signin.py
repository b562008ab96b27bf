"""Failed console sign-ins back off per user name and per client address, and are audited."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from httpx import Response

from handoffs.audit import entries, verify
from handoffs.console.auth import ConsoleContext
from handoffs.console.throttle import Backoff
from tests.console.conftest import PASSWORDS, Console, csrf_of


class Clock:
    """The console's clock, moved on by the test instead of waiting."""

    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


def clocked(console: Console) -> tuple[ConsoleContext, Clock]:
    ctx: ConsoleContext = console.app.state.console
    clock = Clock()
    ctx.now = clock
    return ctx, clock


def attempt(http: TestClient, name: str, password: str) -> Response:
    form = http.get("/console/login")
    return http.post("/console/login", data={"name": name, "password": password, "csrf": csrf_of(form.text)})


def refused(response: Response, wait: str) -> bool:
    return (
        response.status_code == 429
        and f"Wait {wait} before you try again" in response.text
        and "handoffs_console=" not in response.headers.get("set-cookie", "")
    )


def test_finding_7_failed_sign_ins_back_off_per_user_and_are_audited(console: Console) -> None:
    _, clock = clocked(console)
    http = console.client()
    for _ in range(4):
        failed = attempt(http, "otto", "not-his-password")
        assert failed.headers["location"].startswith("/console/login?error=bad")
    assert attempt(http, "otto", PASSWORDS["otto"]).status_code == 303  # 4 failures: not locked yet
    http.cookies.clear()
    for _ in range(5):
        assert attempt(http, "otto", "not-his-password").status_code == 303
    locked = attempt(http, "otto", PASSWORDS["otto"])  # even the right password waits
    assert refused(locked, "30 seconds") and locked.headers["retry-after"] == "30"
    assert attempt(console.client(), "vera", PASSWORDS["vera"]).status_code == 303  # others sign in
    clock.t += 31
    assert attempt(http, "otto", "still-not-it").status_code == 303
    assert refused(attempt(http, "otto", PASSWORDS["otto"]), "1 minute")  # the delay doubles
    clock.t += 61
    assert attempt(http, "otto", "still-not-it").status_code == 303
    assert refused(attempt(http, "otto", PASSWORDS["otto"]), "2 minutes")
    clock.t += 121
    signed_in = attempt(http, "otto", PASSWORDS["otto"])
    assert signed_in.headers["location"] == "/console/"
    assert "handoffs_console=" in signed_in.headers["set-cookie"]
    with console.hub.uow() as uow:
        failed = [a for a in entries(uow.connection, limit=50) if a.action == "console.login_failed"]
        assert len(failed) == 11  # every failure, none of the refused attempts
        assert {(a.actor, a.target) for a in failed} == {("console:testclient", "user:otto")}
        assert [a.after["locked_seconds"] for a in failed[:3]] == [120, 60, 30]
        everything = str([(a.actor, a.target, a.before, a.after) for a in entries(uow.connection, limit=100)])
        assert "not-his-password" not in everything and "still-not-it" not in everything
        assert verify(uow.connection)[1] == []
    http.cookies.clear()
    assert attempt(http, "otto", "wrong-once-more").status_code == 303  # a success cleared the count
    assert attempt(http, "otto", PASSWORDS["otto"]).status_code == 303


def test_finding_7_failed_sign_ins_back_off_per_client_address(console: Console) -> None:
    ctx, clock = clocked(console)
    ctx.address_backoff = Backoff(failures=3)  # the default is 20; the rule is the same
    guesser = TestClient(console.app, follow_redirects=False, client=("192.0.2.7", 40000))
    for name in ["ada", "\x00 odd", "x" * 100, "otto"]:  # names to spread guesses over
        assert attempt(guesser, name, "a-guessed-password").status_code in (303, 429)
    assert refused(attempt(guesser, "vera", PASSWORDS["vera"]), "30 seconds")
    elsewhere = TestClient(console.app, follow_redirects=False, client=("192.0.2.8", 40000))
    assert attempt(elsewhere, "vera", PASSWORDS["vera"]).headers["location"] == "/console/"
    with console.hub.uow() as uow:
        failed = [a for a in entries(uow.connection, limit=20) if a.action == "console.login_failed"]
        assert {a.actor for a in failed} == {"console:192.0.2.7"}
        assert "user:(not a valid user name)" in {a.target for a in failed}
    clock.t += 31
    assert attempt(guesser, "vera", PASSWORDS["vera"]).headers["location"] == "/console/"
