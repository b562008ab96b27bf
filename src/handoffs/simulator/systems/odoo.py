"""An Odoo 17-like ERP over JSON-RPC: ``/jsonrpc`` (common/object services) and session mode.

Models: res.partner, project.project, account.analytic.line, account.analytic.account (a
contract, on an analytic plan that must exist), account.move (out_invoice and out_refund,
:mod:`.odoo_moves`), plus seeded read-only models. Plain ``/jsonrpc`` re-checks the
password after a cache invalidation (a create on a cache-clearing model); that slow check
is counted in ``slow_password_checks``, not slept.

As the real server (Odoo 17 Community source):

* ``odoo/addons/base/models/res_users.py`` ``_check_credentials``: an API key is accepted
  only for a non-interactive login (``/jsonrpc``, ``/xmlrpc``); ``/web/session/authenticate``
  takes the password alone;
* ``odoo/http.py``: on a server hosting several databases (``multi_db``), a call whose
  session has expired finds no database and answers an HTML ``404 Not Found``; on a
  single-database server it is JSON-RPC error ``100`` (``SessionExpiredException``);
* ``odoo/models.py`` ``check_method_name``: private methods (``_post``) are refused;
* two first logins at once can fail on a unique constraint (``login_race_rate`` fault);
  two posts at once can clash on the sequence name (``sequence_clash_rate`` fault);
* a write can complete after the client gave up (``slow_write_rate``): the simulator sleeps
  ``slow_write_seconds`` inside the ORM call, then applies it.
"""

from __future__ import annotations

import asyncio
import copy
import secrets
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from handoffs.simulator.faults import Drift
from handoffs.simulator.systems.common import NativeJSON, SimSystem
from handoffs.simulator.systems.odoo_models import OdooError, OdooStore

__all__ = ["ODOO_API_KEY", "ODOO_DB", "ODOO_LOGIN", "ODOO_PASSWORD", "OdooSim"]

ODOO_DB = "handoffs"
ODOO_LOGIN = "integration@firm.example"
ODOO_PASSWORD = "sim-odoo-password"  # noqa: S105 - a fixed credential of the simulator
ODOO_API_KEY = "sim-odoo-api-key-0123456789abcdef"
ODOO_UID = 2
_WRITES = frozenset({"create", "write", "action_post", "unlink", "button_draft"})
_NOT_FOUND = (
    "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    "<p>The requested URL was not found on the server.</p>\n"
)
_DRIFT = Drift(
    key="id",
    renamed={"unit_amount": "hours"},
    added={"x_studio_region": "EU"},
    droppable=("date",),
    malform=lambda r: r.update(date="31/02/2025"),
)


class OdooSim(SimSystem):
    """Simulated Odoo 17: JSON-RPC ``execute_kw`` and ``/web/dataset/call_kw`` with a session cookie."""

    name: ClassVar[str] = "odoo"
    not_writes: ClassVar[tuple[str, ...]] = ("/jsonrpc", "/web/")  # slow writes are ORM calls, below

    def __init__(
        self, seed_data: dict[str, list[dict[str, Any]]], *, multi_db: bool = False, **kwargs: Any
    ) -> None:
        self.store = OdooStore({k: [copy.deepcopy(r) for r in v] for k, v in seed_data.items()})
        self.slow_password_checks = 0
        self.multi_db = multi_db
        self.sessions: set[str] = set()
        self._cache_valid = False  # the first password check after start is a slow one
        super().__init__(**kwargs)

    def expire_sessions(self) -> None:
        """Every session ends (a restart, ``session_gc``): the next call must log in again."""
        self.sessions.clear()

    def error(self, status: int, code: str, message: str) -> Response:
        if status >= 500 or status == 429:
            return NativeJSON({"message": message, "code": code}, status_code=status)
        return self._rpc_error(None, "odoo.exceptions.UserError", message)

    def _rpc_error(self, rpc_id: Any, name: str, message: str, code: int = 200) -> Response:
        title = "Odoo Session Expired" if code == 100 else "Odoo Server Error"
        return NativeJSON(
            {
                "jsonrpc": "2.0",
                "id": rpc_id,
                "error": {
                    "code": code,
                    "message": title,
                    "data": {
                        "name": name,
                        "debug": f"Traceback (most recent call last):\n{name}: {message}\n",
                        "message": message,
                        "arguments": [message],
                        "context": {},
                    },
                },
            }
        )

    def state(self) -> dict[str, Any]:
        return {**super().state(), "slow_password_checks": self.slow_password_checks}

    def routes(self, app: FastAPI) -> None:
        @app.post("/jsonrpc")
        async def jsonrpc(request: Request) -> Response:
            payload = await request.json()
            rpc_id = payload.get("id")
            params = payload.get("params") or {}
            service, method, args = params.get("service"), params.get("method"), params.get("args") or []
            if service == "common":
                return self._common(rpc_id, method, args)
            if service != "object" or method != "execute_kw" or len(args) < 6:
                return self._rpc_error(rpc_id, "builtins.Exception", f"Unsupported call {service}.{method}")
            db, uid, password, model, fn, fargs = args[:6]
            if not self._password_ok(db, uid, password):
                return self._rpc_error(rpc_id, "odoo.exceptions.AccessDenied", "Access Denied")
            return await self._call(rpc_id, model, fn, fargs, args[6] if len(args) > 6 else {})

        @app.post("/web/session/authenticate")
        async def authenticate(request: Request) -> Response:
            payload = await request.json()
            params = payload.get("params") or {}
            if (params.get("db"), params.get("login"), params.get("password")) != (
                ODOO_DB,
                ODOO_LOGIN,
                ODOO_PASSWORD,  # an interactive login: an API key is no password here
            ):
                return self._rpc_error(payload.get("id"), "odoo.exceptions.AccessDenied", "Access Denied")
            race = self._login_race(payload.get("id"))
            if race is not None:
                return race
            session = secrets.token_urlsafe(16)
            self.sessions.add(session)
            response = NativeJSON(
                {
                    "jsonrpc": "2.0",
                    "id": payload.get("id"),
                    "result": {
                        "uid": ODOO_UID,
                        "db": ODOO_DB,
                        "username": ODOO_LOGIN,
                        "server_version": "17.0",
                    },
                }
            )
            response.set_cookie("session_id", session, httponly=True)
            return response

        @app.post("/web/dataset/call_kw/{model}/{method}")
        async def call_kw(model: str, method: str, request: Request) -> Response:
            payload = await request.json()
            if request.cookies.get("session_id") not in self.sessions:
                if self.multi_db:  # no session, no database: the route is not found
                    return HTMLResponse(_NOT_FOUND, status_code=404)
                return self._rpc_error(
                    payload.get("id"), "odoo.http.SessionExpiredException", "Session expired", code=100
                )
            params = payload.get("params") or {}
            return await self._call(
                payload.get("id"),
                params.get("model", model),
                params.get("method", method),
                params.get("args") or [],
                params.get("kwargs") or {},
            )

    def _common(self, rpc_id: Any, method: str | None, args: list[Any]) -> Response:
        if method == "version":
            result: Any = {
                "server_version": "17.0",
                "server_version_info": [17, 0, 0, "final", 0, ""],
                "server_serie": "17.0",
                "protocol_version": 1,
            }
        elif method in ("login", "authenticate"):
            ok = list(args[:2]) == [ODOO_DB, ODOO_LOGIN] and len(args) > 2 and self._secret_ok(args[2])
            if ok:
                race = self._login_race(rpc_id)
                if race is not None:
                    return race
            result = ODOO_UID if ok else False
        else:
            return self._rpc_error(rpc_id, "builtins.Exception", f"Unknown method common.{method}")
        return NativeJSON({"jsonrpc": "2.0", "id": rpc_id, "result": result})

    def _password_ok(self, db: Any, uid: Any, password: Any) -> bool:
        if not self._cache_valid:
            self.slow_password_checks += 1  # real Odoo spends 0.4-0.8 s in pbkdf2 here
            self._cache_valid = True
        return (db, uid) == (ODOO_DB, ODOO_UID) and self._secret_ok(password)

    @staticmethod
    def _secret_ok(secret: Any) -> bool:
        """A non-interactive (``/jsonrpc``) login takes the password or an API key (scope rpc)."""
        return secret in (ODOO_PASSWORD, ODOO_API_KEY)

    def _login_race(self, rpc_id: Any) -> Response | None:
        """Two first logins at once: one fails on a unique constraint (the fault, when it fires)."""
        if not self.faults.roll("login_race", self.faults.settings.login_race_rate):
            return None
        self.faults.record("login_race")
        return self._rpc_error(
            rpc_id,
            "psycopg2.errors.UniqueViolation",
            'duplicate key value violates unique constraint "res_users_log_pkey"',
        )

    async def _call(
        self, rpc_id: Any, model: str, method: str, args: list[Any], kwargs: dict[str, Any]
    ) -> Response:
        f = self.faults
        if method in _WRITES and f.roll("slow_write", f.settings.slow_write_rate):
            f.record("slow_write", model=model, method=method, seconds=f.settings.slow_write_seconds)
            await asyncio.sleep(f.settings.slow_write_seconds)  # the client gives up meanwhile
        if method == "action_post" and f.roll("sequence_clash", f.settings.sequence_clash_rate):
            f.record("sequence_clash", args=args)
            self.store.moves.clash_next_post = True
        try:
            result = self.store.call(model, method, args, kwargs)
        except OdooError as exc:
            return self._rpc_error(rpc_id, exc.name, str(exc))
        if method in _WRITES:
            self.remember(method, model=model, args=args, result=result)
            if method == "create" and model in OdooStore.CACHE_CLEARING:
                self._cache_valid = False
        if method == "search_read" and model == "account.analytic.line":
            result = self.faults.mangle(result, _DRIFT)
        return NativeJSON({"jsonrpc": "2.0", "id": rpc_id, "result": result})
