"""Odoo JSON-RPC transport in both modes, with Odoo's error object classified.

* session: ``POST /web/session/authenticate {db, login, password}`` keeps a ``session_id``
  cookie; calls go to ``/web/dataset/call_kw/<model>/<method>``. An expired session is
  JSON-RPC error ``100`` on a single-database server and an HTML ``404`` on a server that
  hosts several databases (``odoo/http.py``): either way the client logs in again once.
  Only the user's password logs in here.
* jsonrpc: ``common.login`` gives the uid; calls are ``object.execute_kw`` on ``/jsonrpc``
  with the password or an API key (each may re-check it, slow after Odoo clears its caches).

Errors: a serialization failure, a concurrent update, a lock, a sequence-name clash
("Another entry with the same name already exists.") or a unique-constraint race at login
is :class:`OdooBusy` (transient: the same call succeeds a moment later); ``UserError``,
``ValidationError``, ``MissingError``, ``AccessError`` and ``AccessDenied`` are
:class:`OdooRpcError` (terminal).
"""

from __future__ import annotations

import itertools
from typing import Any

from handoffs.connectors.http import HttpClient, HttpPolicy, dumps, parse_json
from handoffs.connectors.odoo.config import OdooConfig
from handoffs.domain.ports import Guard
from handoffs.engine.errors import TerminalError, TransientError

__all__ = ["OdooBusy", "OdooRpc", "OdooRpcError"]

LOGIN_TRIES = 3
BUSY_MARKS = (
    "could not serialize access",
    "SerializationFailure",
    "concurrent update",
    "deadlock detected",
    "LockNotAvailable",
    "could not obtain lock",
    "Another entry with the same name already exists",
    "duplicate key value violates unique constraint",
)


class OdooRpcError(TerminalError):
    """Odoo refused the call: UserError, ValidationError, MissingError, AccessError, AccessDenied."""

    def __init__(self, name: str, message: str, code: int) -> None:
        super().__init__(f"odoo {name}: {message}", category="auth" if "AccessDenied" in name else "rejected")
        self.name, self.code = name, code


class OdooBusy(TransientError):
    """Odoo could not do it now (a concurrency clash in its database): the same call will work."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"odoo {name}: {message}", category="odoo_busy")
        self.name = name


def rpc_failure(error: dict[str, Any]) -> TerminalError | TransientError:
    data = error.get("data") or {}
    name, message = str(data.get("name", "error")), str(data.get("message", error.get("message", "")))
    if any(mark in f"{name} {message}" for mark in BUSY_MARKS):
        return OdooBusy(name, message)
    return OdooRpcError(name, message, int(error.get("code", 200)))


class OdooRpc:
    def __init__(self, system: str, config: OdooConfig, *, guard: Guard | None = None, **http: Any) -> None:
        self.system, self.config = system, config
        http.setdefault(
            "policy", HttpPolicy(connect_timeout=config.connect_timeout, read_timeout=config.read_timeout)
        )
        self.client = HttpClient(system, config.base_url, guard=guard, **http)
        self._ids = itertools.count(1)
        self._uid: int | None = None
        self.logins = 0

    def _post(self, url: str, params: dict[str, Any], *, retry: bool = True, write: bool = False) -> Any:
        payload = {"jsonrpc": "2.0", "method": "call", "params": params, "id": next(self._ids)}
        response = self.client.request(
            "POST",
            url,
            content=dumps(payload),
            headers={"Content-Type": "application/json"},
            retry=retry,
            write=write,
            accept=(404,),
        )
        if response.status_code == 404:
            raise OdooRpcError("werkzeug.exceptions.NotFound", "404 Not Found (no session)", 404)
        body = parse_json(response)
        error = body.get("error") if isinstance(body, dict) else None
        if error:
            raise rpc_failure(error)
        return body.get("result")

    def login(self) -> int:
        """Log in; a login that lost a race with another (a unique constraint) is tried again."""
        for attempt in range(1, LOGIN_TRIES + 1):
            try:
                return self._login()
            except OdooBusy:
                if attempt == LOGIN_TRIES:
                    raise
                self.client.sleep(0.1 * attempt)
        raise AssertionError("unreachable")

    def _login(self) -> int:
        c = self.config
        self.logins += 1
        if c.mode == "session":
            result = self._post(
                "/web/session/authenticate", {"db": c.db, "login": c.login, "password": c.password.reveal()}
            )
            self._uid = int(result["uid"])
        else:
            uid = self._post(
                "/jsonrpc",
                {"service": "common", "method": "login", "args": [c.db, c.login, c.password.reveal()]},
            )
            if not uid:
                raise TerminalError(f"{self.system}: login refused", category="auth")
            self._uid = int(uid)
        return self._uid

    def call(
        self, model: str, method: str, *args: Any, retry: bool = True, write: bool = False, **kwargs: Any
    ) -> Any:
        """One ORM call, e.g. ``call("res.partner", "search_read", [["ref", "=", "x"]], fields=["id"])``.

        ``write=True`` for a create or post: an answer that never came raises ``Uncertain``.
        """
        if self._uid is None:
            self.login()
        try:
            return self._call(model, method, list(args), kwargs, retry, write)
        except OdooRpcError as exc:
            if exc.code not in (100, 404) or self.config.mode != "session":
                raise
            self.login()  # the session expired (100, or 404 on a multi-database server): once more
            return self._call(model, method, list(args), kwargs, retry, write)

    def _call(
        self, model: str, method: str, args: list[Any], kwargs: dict[str, Any], retry: bool, write: bool
    ) -> Any:
        c = self.config
        if c.mode == "session":
            params = {"model": model, "method": method, "args": args, "kwargs": kwargs}
            return self._post(f"/web/dataset/call_kw/{model}/{method}", params, retry=retry, write=write)
        execute = [c.db, self._uid, c.password.reveal(), model, method, args, kwargs]
        return self._post(
            "/jsonrpc",
            {"service": "object", "method": "execute_kw", "args": execute},
            retry=retry,
            write=write,
        )

    def close(self) -> None:
        self.client.close()
