"""Fault-matrix row against a real ERP: ``handoffs worker`` processes posting a small firm's
invoices to a real trytond (``tryton_server``), configured by a ``handoffs.yaml`` as a firm
runs them, are SIGKILLed again and again while they post; a last worker drains the queue.
The same checker as every row, and Tryton's own books: every hub invoice is in Tryton
exactly once (by reference), posted, with the hub's total.
"""

from __future__ import annotations

import json
import random
import subprocess
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from handoffs.bench.datagen import backfill_lines
from handoffs.connectors.secrets import Secret
from handoffs.connectors.tryton import TrytonConfig, TrytonErp
from handoffs.store.repositories.pending_writes import StorePendingWrites
from tests.connectors.support import FAST
from tests.connectors.test_tryton import TAXES as BOOK_TAXES
from tests.connectors.test_tryton import _invoice
from tests.faults.checks import MATRIX
from tests.faults.test_matrix import _checked, _hub
from tests.faults.test_tryton_rows import TAXES, _held
from tests.support.crash import WORKER, QueueReader, finish, worker_env
from tests.support.flow import load
from tests.support.tryton import LOGIN, PASSWORD, FaultyTransport, TrytonServer

pytestmark = [pytest.mark.slow, pytest.mark.tryton]

KILLS = 3


def _systems_file(tmp_path: Path, server: TrytonServer, database: str) -> Path:
    """The ``handoffs.yaml`` the worker processes read: Tryton as the only ERP."""
    taxes = "".join(f"        {code}: {name}\n" for code, name in TAXES.items())
    path = tmp_path / "handoffs.yaml"
    path.write_text(
        "version: 1\nsystems:\n  tryton:\n    role: erp\n    connector: tryton\n"
        f"    base_url: {server.url}\n"
        f"    credentials: {{database: {database}, login: {LOGIN}, password: 'value:{PASSWORD}'}}\n"
        f"    options:\n      settle_seconds: 5\n      settle_poll: 0.2\n      taxes:\n{taxes}"
    )
    return path


def _invoices(erp: TrytonErp) -> list[dict[str, object]]:
    """Tryton's customer invoices that are not cancelled: reference, state and total."""
    domain = [["type", "=", "out"], ["state", "!=", "cancelled"]]
    ids = erp.rpc.call("account.invoice", "search", domain, 0, None, None)
    return list(erp.rpc.call("account.invoice", "read", ids, ["reference", "state", "total_amount"]))


def _kill_while_posting(env: dict[str, str], erp: TrytonErp, reader: QueueReader, seed: int) -> list[int]:
    """Start a worker, and once Tryton holds a new invoice from it, SIGKILL it a random moment
    later (mid-post: between a create, the ``post`` button and the hub's confirmation); again,
    ``KILLS`` times. Returns, per kill that landed mid-work (Tryton held more than before, or
    the hub's queue moved), the unposted drafts it left."""
    rng = random.Random(seed)
    drafts_left: list[int] = []
    for _ in range(KILLS * 3):
        held, outstanding = len(_invoices(erp)), reader.left()
        proc = subprocess.Popen(WORKER, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(_invoices(erp)) == held and reader.left() > 0:
            time.sleep(0.05)
        time.sleep(rng.uniform(0, 0.6))
        proc.kill()
        proc.wait(timeout=30)
        if reader.left() == 0:
            break
        now_held = _invoices(erp)
        if len(now_held) > held or reader.left() != outstanding:  # it had written to Tryton: mid-post
            drafts_left.append(sum(1 for r in now_held if r["state"] == "draft"))
        if len(drafts_left) >= KILLS:
            break
    return drafts_left


def test_tryton_row_worker_sigkill_mid_batch(
    database_url: str, tryton_server: TrytonServer, tmp_path: Path
) -> None:
    started = time.monotonic()
    database = tryton_server.database()
    systems = _systems_file(tmp_path, tryton_server, database)
    erp = TrytonErp("tryton", TrytonConfig(tryton_server.url, database, LOGIN, Secret(PASSWORD)))
    hub = _hub(database_url, "none")
    lines = list(backfill_lines(entries=96, projects=24, months=1, seed=17))
    assert load(hub, lines).failed == 0
    env = worker_env(database_url, "none", HANDOFFS_SYSTEMS=str(systems))
    reader = QueueReader(database_url)
    try:
        drafts_left = _kill_while_posting(env, erp, reader, seed=13)
    finally:
        reader.close()
    assert len(drafts_left) >= 2, f"only {len(drafts_left)} kills landed while the worker posted"
    finished = finish(env)
    assert finished.returncode == 0, finished.stderr.decode()[-2000:]

    row = _checked(hub, "Tryton: worker SIGKILL mid-batch", database_url, lines, {"tryton": _held(erp)}, "")
    with hub.uow() as uow:
        totals = {i.id: i.total.amount for i, _ in uow.invoices.iter_all()}
        for problem in uow.exceptions.list():
            row.problems.append(f"exception {problem.category}: {problem.reason}"[:300])
    books = {str(r["reference"]): (r["state"], Decimal(str(r["total_amount"]))) for r in _invoices(erp)}
    for invoice, total in totals.items():
        if books.get(invoice) != ("posted", total):
            row.problems.append(f"hub invoice {invoice} ({total}) is {books.get(invoice)} in Tryton")
    row.detail = (
        f"{len(drafts_left)} kills mid-post leaving {sum(drafts_left)} unposted drafts; Tryton holds "
        f"{len(books)} posted invoices for {len(totals)} hub invoices, totals to the cent; "
        f"{time.monotonic() - started:.0f} s"
    )
    MATRIX.append(row)
    assert totals and row.passed, row.problems
    hub.close()
    erp.close()


# ---- a worker killed while Tryton is still making the invoice ---------------------------------


class _Killed(BaseException):
    """The worker process dies here: nothing after this point of the connector runs."""


class _DiesOnCreate(httpx.BaseTransport):
    """Keeps the invoice create it is given (still on its way into Tryton), then dies."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.held: httpx.Request | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if FaultyTransport.CREATE in request.content:
            self.held = request
            raise _Killed
        return self.inner.handle_request(request)


class _TakesOver(httpx.BaseTransport):
    """The next worker's HTTP: when it looks for the invoice a second time before creating one,
    the killed worker's create completes in Tryton first (``arrive``)."""

    def __init__(self, arrive: Callable[[], None]) -> None:
        self.inner, self.arrive, self.looks, self.created = httpx.HTTPTransport(), arrive, 0, False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if FaultyTransport.CREATE in request.content:
            self.created = True
        elif b"model.account.invoice.search" in request.content and not self.created:
            self.looks += 1
            if self.looks == 2:
                self.arrive()
        return self.inner.handle_request(request)


def test_tryton_worker_killed_mid_create_leaves_no_second_invoice(
    database_url: str, tryton_server: TrytonServer
) -> None:
    """A worker dies while its create is still running in Tryton; the worker that takes the
    delivery over must find that invoice, not create a second one beside it."""
    config = TrytonConfig(
        tryton_server.url,
        tryton_server.database(),
        LOGIN,
        Secret(PASSWORD),
        taxes=BOOK_TAXES,
        settle_seconds=5,
        settle_poll=0.2,
    )
    hub = _hub(database_url, "none")
    pending = StorePendingWrites(hub.engine)
    invoice = _invoice("INV-T-KILL-1", "USD", [("8", "150", "vat-20"), ("2.5", "90", "vat-0")])
    dying = _DiesOnCreate()
    killed = TrytonErp("tryton", config, policy=FAST, transport=dying, pending=pending)
    with pytest.raises(_Killed):
        killed.post_invoice(invoice, "tryton:INV-T-KILL-1")
    assert dying.held is not None
    arrived: list[int] = []

    def arrive() -> None:
        if not arrived:  # the killed worker's create reaches trytond, which makes the invoice
            answer = httpx.HTTPTransport().handle_request(dying.held)  # type: ignore[arg-type]
            arrived.extend(int(i) for i in json.loads(answer.read())["result"])

    takes_over = _TakesOver(arrive)
    erp = TrytonErp("tryton", config, policy=FAST, transport=takes_over, pending=pending)
    erp.locks = [threading.Lock()]  # a process of its own
    ref = erp.post_invoice(invoice, "tryton:INV-T-KILL-1")
    arrive()  # at the latest now: a create that outlives its worker still lands
    held = [r for r in _invoices(erp) if r["reference"] == invoice.id]
    assert [(int(ref.external_id), "posted")] == [(r["id"], r["state"]) for r in held]
    assert int(ref.external_id) == arrived[0] and pending.get("tryton:INV-T-KILL-1") is None
    hub.close()
    erp.close()
