"""The console's POST routes: sign in and out, act on exceptions (operator), manage users (admin).

Every route but the login form needs a session with the role and the session's CSRF token;
the login form needs the token of its pre-session cookie. Actions are audited.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Annotated
from urllib.parse import quote, unquote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from handoffs.api.jsontypes import NO_NUL
from handoffs.audit import append
from handoffs.console import actions, signin
from handoffs.console.auth import (
    COOKIE,
    PRE_COOKIE,
    ConsoleContext,
    csrf_ok,
    csrf_token,
    need,
    session_user,
    sign,
    unsign,
)
from handoffs.console.pages import ExceptionId, exception_page, users_page
from handoffs.console.render import page
from handoffs.console.sessions import end_session
from handoffs.console.users import ConsoleUser, UserError, add_user, delete_user, set_role

__all__ = ["router"]

router = APIRouter(prefix="/console", include_in_schema=False)
Operator = Annotated[ConsoleUser, Depends(need("operator"))]
Admin = Annotated[ConsoleUser, Depends(need("admin"))]
# Form text: bounded, and never a NUL (PostgreSQL refuses it); a bad field gets the console's 400 page.
Text = Annotated[str, Form(max_length=100_000, pattern=NO_NUL)]


def _ctx(request: Request) -> ConsoleContext:
    ctx: ConsoleContext = request.app.state.console
    return ctx


def _safe_next(target: str) -> str:
    target = unquote(target or "")
    return target if target.startswith("/console") and not target.startswith("//") else "/console/"


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    """HttpOnly, SameSite=Lax, for the console's paths only; Secure when served over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/console",
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "", error: str = "") -> Response:
    if session_user(request) is not None:
        return _see_other(_safe_next(next))
    pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(16)
    request.state.csrf = csrf_token(_ctx(request), "pre|" + pre)
    response = page(request, "login.html", 401 if error else 200, next=next, error=error)
    _set_cookie(response, request, PRE_COOKIE, pre, 3600)
    return response


@router.post("/login")
def login(
    request: Request, name: Text = "", password: Text = "", csrf: Text = "", next: Text = ""
) -> Response:
    ctx = _ctx(request)
    pre = request.cookies.get(PRE_COOKIE, "")
    if not pre or not csrf_ok(ctx, csrf, "pre|" + pre):
        return _see_other(f"/console/login?error=stale&next={quote(next, safe='')}")
    client = request.client.host if request.client else "unknown"
    tried = signin.attempt(ctx, name, password, client)
    if tried.wait_seconds:
        request.state.csrf = csrf
        wait = _minutes(tried.wait_seconds)
        refused = page(request, "login.html", 429, next=next, error="wait", wait=wait)
        refused.headers["Retry-After"] = str(tried.wait_seconds)
        return refused
    if tried.user is None:
        return _see_other(f"/console/login?error=bad&next={quote(next, safe='')}")
    response = _see_other(_safe_next(next))
    _set_cookie(response, request, COOKIE, sign(ctx, tried.secret), ctx.session_ttl)
    response.delete_cookie(PRE_COOKIE, path="/console")
    return response


def _minutes(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = -(-seconds // 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


@router.post("/logout")
def logout(request: Request, user: Annotated[ConsoleUser, Depends(need("viewer"))]) -> Response:
    ctx = _ctx(request)
    secret = unsign(ctx, request.cookies.get(COOKIE))
    with ctx.hub.uow() as uow:
        if secret is not None and end_session(uow.connection, secret, ctx.at()):
            append(
                uow.connection,
                at=uow.now,
                actor=f"console:{user.name}",
                action="console.logout",
                target=f"user:{user.name}",
            )
            uow.commit()
    response = _see_other("/console/login")
    response.delete_cookie(COOKIE, path="/console")
    return response


def _after(request: Request, exception_id: int, outcome: actions.Outcome) -> Response:
    if outcome.ok:
        return _see_other(f"/console/exceptions/{exception_id}?done={outcome.code}")
    return _failed(request, exception_id, outcome.message)


def _failed(request: Request, exception_id: int, message: str, raw: str | None = None) -> Response:
    with _ctx(request).hub.uow() as uow:
        record = uow.exceptions.get(exception_id)
    if record is None:
        return page(request, "error.html", 404, title="Not found", message=message)
    response = exception_page(request, record, message, False, raw=raw, status=422)
    response.headers["HX-Push-Url"] = "false"
    return response


@router.post("/exceptions/{exception_id}/retry")
def retry(request: Request, user: Operator, exception_id: ExceptionId, reason: Text = "") -> Response:
    return _after(
        request,
        exception_id,
        actions.retry_or_ignore(_ctx(request).hub, user.name, "retry", exception_id, reason),
    )


@router.post("/exceptions/{exception_id}/ignore")
def ignore(request: Request, user: Operator, exception_id: ExceptionId, reason: Text = "") -> Response:
    return _after(
        request,
        exception_id,
        actions.retry_or_ignore(_ctx(request).hub, user.name, "ignore", exception_id, reason),
    )


@router.post("/exceptions/{exception_id}/replay")
def replay(request: Request, user: Operator, exception_id: ExceptionId, reason: Text = "") -> Response:
    return _after(request, exception_id, actions.replay(_ctx(request).hub, user.name, exception_id, reason))


@router.post("/exceptions/{exception_id}/assign")
def assign(request: Request, user: Operator, exception_id: ExceptionId, owner: Text = "") -> Response:
    return _after(request, exception_id, actions.assign(_ctx(request).hub, user.name, exception_id, owner))


@router.post("/exceptions/{exception_id}/fix")
def fix(request: Request, user: Operator, exception_id: ExceptionId, raw: Text = "") -> Response:
    outcome = actions.fix(_ctx(request).hub, user.name, exception_id, raw)
    if outcome.ok:
        return _after(request, exception_id, outcome)
    return _failed(request, exception_id, outcome.message, raw=raw)


def _users_refused(request: Request, message: str) -> Response:
    """The users page again, with why the change was refused (422)."""
    response = users_page(request, message, False, status=422)
    response.headers["HX-Push-Url"] = "false"
    return response


def _change_user(
    request: Request,
    user: ConsoleUser,
    action: str,
    name: str,
    change: Callable[[Connection, datetime], object],
    after: dict[str, str] | None = None,
) -> Response:
    """Run ``change`` and its audit row in one unit of work; then the page, with a code or why not.

    ``change`` raises :class:`UserError` to refuse, or returns False when there is no such user.
    """
    refused: str | None = None
    with _ctx(request).hub.uow() as uow:
        try:
            done = change(uow.connection, uow.now)
        except UserError as exc:
            refused = str(exc)
        else:
            if done is False:
                refused = f"No user {name}."
            else:
                append(
                    uow.connection,
                    at=uow.now,
                    actor=f"console:{user.name}",
                    action=f"console.{action}",
                    target=f"user:{name}",
                    after=after,
                )
                uow.commit()
    if refused is not None:  # rendered after the unit of work closed: the page reads the users
        return _users_refused(request, refused)
    return _see_other(f"/console/users?done={_DONE[action]}")


_DONE = {"add_user": "added", "set_role": "role", "delete_user": "deleted"}


@router.post("/users")
def create_user(
    request: Request, user: Admin, name: Text = "", role: Text = "viewer", password: Text = ""
) -> Response:
    return _change_user(
        request,
        user,
        "add_user",
        name,
        lambda conn, now: add_user(conn, name, role, password, now),
        {"role": role},
    )


@router.post("/users/{name}/role")
def change_role(request: Request, user: Admin, name: str, role: Text = "") -> Response:
    if name == user.name:
        return _users_refused(request, "Ask another admin to change your own role.")
    return _change_user(
        request, user, "set_role", name, lambda conn, now: set_role(conn, name, role, now), {"role": role}
    )


@router.post("/users/{name}/delete")
def remove_user(request: Request, user: Admin, name: str) -> Response:
    if name == user.name:
        return _users_refused(request, "You cannot delete yourself.")
    return _change_user(request, user, "delete_user", name, lambda conn, now: delete_user(conn, name))


@router.post("/connectors/{system}/sync")
def sync_now(request: Request, user: Operator, system: str) -> Response:
    """Start one incremental pull of ``system`` in the background; audited as ``console.sync_now``."""
    ctx = _ctx(request)
    refused = ctx.syncs.start(ctx.hub, system[:64], user.name)
    if refused is None:
        with ctx.hub.uow() as uow:
            append(
                uow.connection,
                at=uow.now,
                actor=f"console:{user.name}",
                action="console.sync_now",
                target=f"system:{system[:64]}",
            )
            uow.commit()
        return _see_other("/console/connectors?done=sync")
    response = page(request, "error.html", 409, title="Not started", message=refused)
    response.headers["HX-Push-Url"] = "false"
    return response
