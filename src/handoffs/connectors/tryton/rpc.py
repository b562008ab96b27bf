"""Tryton's JSON-RPC (trytond 8.x, ``trytond/protocols/dispatcher.py``), with its errors classified.

* ``POST /<db>/rpc/ {"method": "common.db.login", "params": [login, {"password": ...}]}``
  answers ``[user_id, session, ...]``; later calls carry
  ``Authorization: Session base64(login:user_id:session)``. A session that expired (or a
  ``post`` whose session is no longer fresh) answers HTTP 401: the client logs in once more.
* ``model.<name>.<method>`` takes positional params and the context last; the context is
  the user's preferences (``res.user.get_preferences``), as the Tryton client sends it.
* Decimals, dates and datetimes travel as ``{"__class__": "Decimal", "decimal": "1.20"}``
  objects (``trytond/protocols/jsonrpc.py``), never as floats.
* An error is ``{"error": [name, args]}``: ``UserError``/``UserWarning``/``LoginException``
  are terminal; ``ConcurrencyException`` and database locks, serialization failures and
  timeouts that survived the server's own retries are transient.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import threading
from decimal import Decimal
from typing import Any

from handoffs.connectors.http import HttpClient
from handoffs.connectors.secrets import REDACTOR
from handoffs.connectors.tryton.config import TrytonConfig
from handoffs.domain.ports import Guard
from handoffs.engine.errors import TerminalError, TransientError

__all__ = ["TrytonRpc", "TrytonRpcError", "decode", "encode"]

TERMINAL = ("UserError", "UserWarning", "LoginException")
TRANSIENT_MARKS = (
    "ConcurrencyException",
    "database is locked",
    "could not serialize",
    "deadlock",
    "concurrent update",
    "OperationalError",
    "TimeOutException",
)


class TrytonRpcError(TerminalError):
    """Tryton refused the call: a UserError (validation, access rule), warning or bad login."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(
            f"tryton {name}: {message}", category="auth" if name == "LoginException" else "rejected"
        )
        self.name = name


def encode(value: Any) -> Any:
    """Tryton's JSON for a value: decimals and dates as its ``__class__`` objects."""
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, dt.datetime):
        raise TypeError("send datetimes as dates")
    if isinstance(value, dt.date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def _hook(obj: dict[str, Any]) -> Any:
    kind = obj.get("__class__")
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "date":
        return dt.date(obj["year"], obj["month"], obj["day"])
    if kind == "datetime":
        return dt.datetime(obj["year"], obj["month"], obj["day"], obj["hour"], obj["minute"], obj["second"])
    return obj


def decode(content: bytes) -> Any:
    return json.loads(content or b"null", object_hook=_hook, parse_float=Decimal)


def _error(system: str, error: Any) -> Exception:
    """The engine error for Tryton's error member (never its server traceback)."""
    name, args = (error[0], error[1]) if isinstance(error, list) and len(error) == 2 else (error, "")
    if name in TERMINAL:
        parts = args if isinstance(args, list) else [args]
        text = " ".join(str(p) for p in parts[:2] if p)
        return TrytonRpcError(str(name), REDACTOR.redact(text)[:300])
    text = REDACTOR.redact(f"{name} {args if name == 'ConcurrencyException' else ''}".strip())[:300]
    if any(mark in text for mark in TRANSIENT_MARKS):
        return TransientError(f"{system}: tryton {text}", category="system_unavailable")
    return TerminalError(f"{system}: tryton {text}", category="rejected")


class TrytonRpc:
    def __init__(self, system: str, config: TrytonConfig, *, guard: Guard | None = None, **http: Any) -> None:
        self.system, self.config = system, config
        self.client = HttpClient(system, config.base_url, guard=guard, **http)
        self.url = f"/{config.database}/rpc/"
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._auth: str | None = None
        self.context: dict[str, Any] = {}
        self.logins = 0

    def _post(
        self, method: str, params: list[Any], *, retry: bool, auth: bool = True, write: bool = False
    ) -> Any:
        payload = {"id": next(self._ids), "method": method, "params": encode(params)}
        headers = {"Content-Type": "application/json"}
        if auth and self._auth:
            headers["Authorization"] = self._auth
        response = self.client.request(
            "POST", self.url, content=json.dumps(payload).encode(), headers=headers, retry=retry, write=write
        )
        body = decode(response.content)
        if isinstance(body, dict) and body.get("error") is not None:
            raise _error(self.system, body["error"])
        return body.get("result") if isinstance(body, dict) else body

    def login(self) -> int:
        """Open a session and fetch the user's context (company, language...)."""
        c = self.config
        with self._lock:
            self.logins += 1
            try:
                result = self._post(
                    "common.db.login", [c.login, {"password": c.password.reveal()}], retry=True, auth=False
                )
            except TerminalError as exc:
                raise TerminalError(f"{self.system}: login refused ({exc})", category="auth") from None
            user_id, session = int(result[0]), str(result[1])
            REDACTOR.register(session)
            token = base64.b64encode(f"{c.login}:{user_id}:{session}".encode()).decode()
            REDACTOR.register(token)
            self._auth = f"Session {token}"
        self.context = dict(self._post("model.res.user.get_preferences", [True, {}], retry=True))
        return user_id

    def call(self, model: str, method: str, *args: Any, retry: bool = True, write: bool = False) -> Any:
        """``model.<model>.<method>(*args, context)``, logging in first and again once on a 401.

        ``write=True`` for a create: an answer that never came raises ``Uncertain``.
        """
        if self._auth is None:
            self.login()
        try:
            return self._post(f"model.{model}.{method}", [*args, self.context], retry=retry, write=write)
        except TerminalError as exc:
            if exc.category != "auth" or isinstance(exc, TrytonRpcError):
                raise
        self.login()  # the session expired or is no longer fresh enough to post
        return self._post(f"model.{model}.{method}", [*args, self.context], retry=retry, write=write)

    def close(self) -> None:
        self.client.close()
