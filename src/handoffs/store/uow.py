"""The unit of work: one transaction, its repositories, and the messages it publishes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import TracebackType

from sqlalchemy import Connection, Engine

from handoffs.domain.messages import Message
from handoffs.domain.ports import Clock
from handoffs.store.repositories.deliveries import DeliveryRepository
from handoffs.store.repositories.exceptions import ExceptionRepository
from handoffs.store.repositories.finance import FinanceRepository
from handoffs.store.repositories.invoices import InvoiceRepository
from handoffs.store.repositories.messages import Inbox, MessageLog, WorkQueue
from handoffs.store.repositories.objects import ObjectRepository
from handoffs.store.repositories.periods import PeriodRepository
from handoffs.store.repositories.readiness import ReadinessReads
from handoffs.store.repositories.time_entries import TimeEntryRepository
from handoffs.store.repositories.xrefs import XrefRepository

__all__ = ["SqlUnitOfWork", "UowFactory"]


class SqlUnitOfWork:
    """Everything written through one instance commits or rolls back together.

    Messages handed to :meth:`publish` are stored with their work rows at :meth:`commit`,
    inside the same transaction as the state change (the transactional outbox).
    """

    objects: ObjectRepository
    time_entries: TimeEntryRepository
    invoices: InvoiceRepository
    xrefs: XrefRepository
    deliveries: DeliveryRepository
    exceptions: ExceptionRepository
    finance: FinanceRepository
    periods: PeriodRepository
    readiness: ReadinessReads
    messages: MessageLog
    queue: WorkQueue
    inbox: Inbox

    def __init__(self, engine: Engine, subscriptions: Mapping[str, Sequence[str]], clock: Clock) -> None:
        self._engine = engine
        self._subscriptions = subscriptions
        self._clock = clock
        self._conn: Connection | None = None
        self._pending: list[Message] = []

    @property
    def now(self) -> datetime:
        return self._now

    @property
    def connection(self) -> Connection:
        assert self._conn is not None, "unit of work not entered"
        return self._conn

    def __enter__(self) -> SqlUnitOfWork:
        self._conn = conn = self._engine.connect()
        conn.begin()
        self._now = now = self._clock.now()
        now_s = now.timestamp()
        self.objects = ObjectRepository(conn, now)
        self.time_entries = TimeEntryRepository(conn, now)
        self.invoices = InvoiceRepository(conn, now)
        self.xrefs = XrefRepository(conn, now)
        self.deliveries = DeliveryRepository(conn, now)
        self.exceptions = ExceptionRepository(conn, now)
        self.finance = FinanceRepository(conn, now, self.objects)
        self.periods = PeriodRepository(conn, now)
        self.readiness = ReadinessReads(conn)
        self.messages = MessageLog(conn, now, now_s)
        self.queue = WorkQueue(conn)
        self.inbox = Inbox(conn, now)
        self._pending = []
        return self

    def publish(self, *messages: Message) -> None:
        self._pending.extend(messages)

    def take_published(self) -> list[Message]:
        """The messages published since the last commit, handed over instead of stored."""
        taken, self._pending = self._pending, []
        return taken

    def commit(self) -> None:
        self.messages.append(self._pending, self._subscriptions)
        self._pending = []
        self.connection.commit()

    def rollback(self) -> None:
        self._pending = []
        self.connection.rollback()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                conn.rollback()
        finally:
            conn.close()


class UowFactory:
    """Makes units of work bound to one engine and one set of subscriptions."""

    def __init__(self, engine: Engine, subscriptions: Mapping[str, Sequence[str]], clock: Clock) -> None:
        self.engine = engine
        self.subscriptions = subscriptions
        self.clock = clock

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.subscriptions, self.clock)
