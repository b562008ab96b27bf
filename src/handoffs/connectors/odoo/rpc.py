"""Odoo JSON-RPC transport in both modes, with Odoo's error object mapped to engine errors.

* session: ``POST /web/session/authenticate {db, login, password}`` keeps a ``session_id``
  cookie; calls go to ``/web/dataset/call_kw/<model>/<method>``; an expired session
  (error code 100) logs in again once;
* jsonrpc: ``common.login`` gives the uid; calls are ``object.execute_kw`` on ``/jsonrpc``
  (each may re-check the password, slow after Odoo clears its caches).
"""

from __future__ import annotations

import itertools
from typing import Any

from handoffs.connectors.http import HttpClient, dumps
from handoffs.connectors.odoo.config import OdooConfig
from handoffs.engine.errors import TerminalError
from handoffs.flows.ports import Guard

__all__ = ["OdooRpc", "OdooRpcError"]


class OdooRpcError(TerminalError):
    """Odoo answered with a JSON-RPC error (UserError, ValidationError, AccessDenied...)."""

    def __init__(self, name: str, message: str, code: int) -> None:
        super().__init__(f"odoo {name}: {message}", category="auth" if "AccessDenied" in name else "rejected")
        self.name, self.code = name, code


class OdooRpc:
    def __init__(self, system: str, config: OdooConfig, *, guard: Guard | None = None, **http: Any) -> None:
        self.system, self.config = system, config
        self.client = HttpClient(system, config.base_url, guard=guard, **http)
        self._ids = itertools.count(1)
        self._uid: int | None = None
        self.logins = 0

    def _post(self, url: str, params: dict[str, Any], *, retry: bool = True) -> Any:
        payload = {"jsonrpc": "2.0", "method": "call", "params": params, "id": next(self._ids)}
        body = self.client.json(
            "POST", url, content=dumps(payload), headers={"Content-Type": "application/json"}, retry=retry
        )
        error = body.get("error") if isinstance(body, dict) else None
        if error:
            data = error.get("data") or {}
            raise OdooRpcError(
                str(data.get("name", "error")), str(data.get("message", error)), int(error["code"])
            )
        return body.get("result")

    def login(self) -> int:
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

    def call(self, model: str, method: str, *args: Any, retry: bool = True, **kwargs: Any) -> Any:
        """One ORM call, e.g. ``call("res.partner", "search_read", [["ref", "=", "x"]], fields=["id"])``."""
        if self._uid is None:
            self.login()
        try:
            return self._call(model, method, list(args), kwargs, retry)
        except OdooRpcError as exc:
            if exc.code != 100:
                raise
            self.login()  # the session expired: log in again once
            return self._call(model, method, list(args), kwargs, retry)

    def _call(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any], retry: bool) -> Any:
        c = self.config
        if c.mode == "session":
            params = {"model": model, "method": method, "args": args, "kwargs": kwargs}
            return self._post(f"/web/dataset/call_kw/{model}/{method}", params, retry=retry)
        execute = [c.db, self._uid, c.password.reveal(), model, method, args, kwargs]
        return self._post(
            "/jsonrpc", {"service": "object", "method": "execute_kw", "args": execute}, retry=retry
        )

    def close(self) -> None:
        self.client.close()
