"""An Odoo 17-like ERP over JSON-RPC: ``/jsonrpc`` (common/object services) and session mode.

Models: res.partner, project.project, account.analytic.line, account.analytic.account (a
contract, on an analytic plan that must exist), account.move (out_invoice with
``invoice_line_ids`` as ``[0, 0, {...}]`` commands, ``action_post``), plus seeded read-only
models. Plain ``/jsonrpc`` re-checks the password after a cache invalidation (a create on a
cache-clearing model); that slow check is counted in ``slow_password_checks``, not slept.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import Response

from handoffs.simulator.faults import Drift
from handoffs.simulator.systems.common import NativeJSON, SimSystem
from handoffs.simulator.systems.odoo_models import OdooError, OdooStore

__all__ = ["ODOO_DB", "ODOO_LOGIN", "ODOO_PASSWORD", "OdooSim"]

ODOO_DB = "handoffs"
ODOO_LOGIN = "integration@firm.example"
ODOO_PASSWORD = "sim-odoo-password"  # noqa: S105 - a fixed credential of the simulator
ODOO_UID = 2
_SESSION = "sim-odoo-session"
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

    def __init__(self, seed_data: dict[str, list[dict[str, Any]]], **kwargs: Any) -> None:
        self.store = OdooStore({k: [copy.deepcopy(r) for r in v] for k, v in seed_data.items()})
        self.slow_password_checks = 0
        self._cache_valid = False  # the first password check after start is a slow one
        super().__init__(**kwargs)

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
            return self._call(rpc_id, model, fn, fargs, args[6] if len(args) > 6 else {})

        @app.post("/web/session/authenticate")
        async def authenticate(request: Request) -> Response:
            payload = await request.json()
            params = payload.get("params") or {}
            if (params.get("db"), params.get("login"), params.get("password")) != (
                ODOO_DB,
                ODOO_LOGIN,
                ODOO_PASSWORD,
            ):
                return self._rpc_error(payload.get("id"), "odoo.exceptions.AccessDenied", "Access Denied")
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
            response.set_cookie("session_id", _SESSION, httponly=True)
            return response

        @app.post("/web/dataset/call_kw/{model}/{method}")
        async def call_kw(model: str, method: str, request: Request) -> Response:
            payload = await request.json()
            if request.cookies.get("session_id") != _SESSION:
                return self._rpc_error(
                    payload.get("id"), "odoo.http.SessionExpiredException", "Session expired", code=100
                )
            params = payload.get("params") or {}
            return self._call(
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
            result = ODOO_UID if list(args[:3]) == [ODOO_DB, ODOO_LOGIN, ODOO_PASSWORD] else False
        else:
            return self._rpc_error(rpc_id, "builtins.Exception", f"Unknown method common.{method}")
        return NativeJSON({"jsonrpc": "2.0", "id": rpc_id, "result": result})

    def _password_ok(self, db: Any, uid: Any, password: Any) -> bool:
        if not self._cache_valid:
            self.slow_password_checks += 1  # real Odoo spends 0.4-0.8 s in pbkdf2 here
            self._cache_valid = True
        return (db, uid, password) == (ODOO_DB, ODOO_UID, ODOO_PASSWORD)

    def _call(
        self, rpc_id: Any, model: str, method: str, args: list[Any], kwargs: dict[str, Any]
    ) -> Response:
        try:
            result = self.store.call(model, method, args, kwargs)
        except OdooError as exc:
            return self._rpc_error(rpc_id, exc.name, str(exc))
        if method in ("create", "write", "action_post", "unlink"):
            self.remember(method, model=model, args=args, result=result)
            if method == "create" and model in OdooStore.CACHE_CLEARING:
                self._cache_valid = False
        if method == "search_read" and model == "account.analytic.line":
            result = self.faults.mangle(result, _DRIFT)
        return NativeJSON({"jsonrpc": "2.0", "id": rpc_id, "result": result})
