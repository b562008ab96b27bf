"""Run a POST exactly once per ``Idempotency-Key``, audit it, and store its first response.

The command, its audit rows and the stored response commit in ONE transaction, so a key
either answers with the response of a change that happened, or the change never happened.

- same key, same request  -> the stored status and body (``Idempotent-Replayed: true``);
- same key, other request -> 422;
- a request that fails validation or authentication never reaches this code: nothing is
  stored; a command that answers with a problem (404, 409...) stores that problem;
- a response that shows a secret once (a webhook signing secret) is stored redacted
  (``Result.replay``): a replay answers with the secret ``null``, so the store never
  holds it and a repeated key cannot reveal it again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import orjson
from fastapi import Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from handoffs.api.context import ApiContext, Principal
from handoffs.api.problems import PROBLEM_TYPE, Problem, Unprocessable
from handoffs.audit import append
from handoffs.store.repositories.idempotency import IdempotencyRepository, StoredResponse
from handoffs.store.uow import SqlUnitOfWork

__all__ = ["Audit", "IdempotencyKey", "Result", "run_once"]

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="A unique key per intended change (up to 255 visible ASCII characters). "
        "Repeating it with the same body returns the first response; with another body, 422.",
    ),
]


@dataclass(frozen=True, slots=True)
class Audit:
    action: str
    target: str
    before: Any = None
    after: Any = None


@dataclass(slots=True)
class Result:
    """A command's response; ``replay`` (if set) is what is stored and answers a repeat.

    Set ``replay`` when ``body`` holds a secret shown only once: the same body with the
    secret removed.
    """

    status: int
    body: Any
    audit: list[Audit] = field(default_factory=list)
    replay: Any = None


def _dumps(body: Any) -> str:
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS, default=str).decode()


def _fingerprint(request: Request, payload: Any) -> str:
    # The stdlib encoder, since orjson refuses integers beyond 64 bits that a body may carry.
    text = json.dumps([request.method, request.url.path, payload], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _respond(status: int, body: str, *, replayed: bool) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    media = PROBLEM_TYPE if status >= 400 else "application/json"
    return JSONResponse(orjson.loads(body), status_code=status, media_type=media, headers=headers)


def _replay(stored: StoredResponse, fingerprint: str) -> JSONResponse:
    if stored.request_hash != fingerprint:
        raise Unprocessable("this Idempotency-Key was already used with a different request")
    return _respond(stored.status, stored.body, replayed=True)


def run_once(
    ctx: ApiContext,
    request: Request,
    principal: Principal,
    key: str,
    payload: Any,
    command: Callable[[SqlUnitOfWork], Result],
) -> JSONResponse:
    """Run ``command`` in a unit of work unless ``key`` already has a stored response."""
    fingerprint = _fingerprint(request, payload)
    keep = ctx.settings.idempotency_keep
    try:
        with ctx.app.uow() as uow:
            repo = IdempotencyRepository(uow.connection, uow.now)
            stored = repo.get(principal.client_id, key)
            if stored is not None:
                return _replay(stored, fingerprint)
            try:
                result = command(uow)
            except Problem as problem:
                uow.rollback()
                status, body = problem.status, _dumps(problem.body(request.url.path))
                with ctx.app.uow() as again:
                    IdempotencyRepository(again.connection, again.now).store(
                        principal.client_id, key, fingerprint, status, body, keep
                    )
                    again.commit()
                return _respond(status, body, replayed=False)
            body = _dumps(result.body)
            kept = body if result.replay is None else _dumps(result.replay)
            for entry in result.audit:
                append(
                    uow.connection,
                    at=uow.now,
                    actor=principal.actor,
                    action=entry.action,
                    target=entry.target,
                    before=entry.before,
                    after=entry.after,
                )
            repo.store(principal.client_id, key, fingerprint, result.status, kept, keep)
            uow.commit()
            return _respond(result.status, body, replayed=False)
    except IntegrityError:
        # A twin request with the same key committed first: answer as it did.
        with ctx.app.uow() as uow:
            stored = IdempotencyRepository(uow.connection, uow.now).get(principal.client_id, key)
        if stored is None:
            raise
        return _replay(stored, fingerprint)
