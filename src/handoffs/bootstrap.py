"""The composition root: the one place where settings, store, engine, flows and connectors meet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import Engine

from handoffs.connectors.fake.erp import ErpFaults, FileErp, InMemoryErp
from handoffs.domain.ports import DeterministicIds, SystemClock
from handoffs.engine.egress import EgressPolicy
from handoffs.engine.guard import SystemGuard
from handoffs.engine.ratelimit import RateLimit
from handoffs.engine.registry import Handler, Registry
from handoffs.engine.relay import relays_from_env
from handoffs.engine.retry import Backoff
from handoffs.engine.worker import Worker, WorkerSettings
from handoffs.flows import (
    journal_posting,
    operations,
    opportunity_to_project,
    ownership,
    staffing,
    time_to_invoice,
    validation,
    write_back,
)
from handoffs.flows.ports import ErpPort, Ports
from handoffs.keyring import Keyring
from handoffs.reconcile.after_batch import BatchControls
from handoffs.settings import Settings
from handoffs.store.db import make_engine
from handoffs.store.repositories.audit import use_keyring
from handoffs.store.repositories.cutovers import read_cutovers
from handoffs.store.repositories.policy_decisions import PolicyDecisionRepository
from handoffs.store.uow import UowFactory
from handoffs.telemetry.metrics import Metrics
from handoffs.telemetry.tracing import Tracing

__all__ = ["App", "build"]


@dataclass
class App:
    settings: Settings
    engine: Engine
    registry: Registry
    uow: UowFactory
    ports: Ports
    erps: dict[str, ErpPort] = field(default_factory=dict)
    sources: dict[str, Any] = field(default_factory=dict)  # pull connectors by system name
    lookups: Any = None  # mapping lookups over the store (xrefs, canonical objects)
    systems: Any = None  # the SystemsConfig the app was wired from, if any
    metrics: Metrics = field(default_factory=Metrics)
    tracing: Tracing = field(default_factory=Tracing)
    _keyring: Keyring | None = field(default=None, repr=False)

    def keyring(self) -> Keyring:
        """The master secret's keys (``HANDOFFS_SECRET_KEY`` or its file), loaded on first use."""
        if self._keyring is None:
            self._keyring = Keyring.load(self.settings.database_url)
        return self._keyring

    def egress(self) -> EgressPolicy:
        """Where webhooks may go: public addresses and ``HANDOFFS_WEBHOOK_ALLOW_NETWORKS``."""
        return EgressPolicy.allowing(self.settings.webhook_allow_networks)

    def worker(self, **overrides: object) -> Worker:
        s = self.settings
        ws = WorkerSettings(
            batch_size=s.batch_size,
            lease_seconds=s.lease_seconds,
            backoff=Backoff(base=s.backoff_base, max_attempts=s.max_attempts),
        )
        controls = BatchControls(self.uow, self.metrics)  # billing controls after each batch
        overrides = {"metrics": self.metrics, "tracing": self.tracing, "after_batch": controls, **overrides}
        return Worker(self.uow, self.registry, self.ports, ws, **overrides)  # type: ignore[arg-type]

    def upgrade(self) -> None:
        from handoffs.store.migrate import upgrade  # Alembic: only for commands that migrate

        upgrade(self.engine)

    def close(self) -> None:
        for connector in [*self.sources.values(), *self.erps.values()]:
            closer = getattr(connector, "close", None)
            if closer is not None:
                closer()
        self.engine.dispose()


def _erps(spec: str) -> dict[str, ErpPort]:
    if spec == "none":
        return {}
    if spec == "memory":
        return {"erp": InMemoryErp()}
    if spec.startswith("file:"):
        path, _, query = spec[5:].partition("?")
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        faults = ErpFaults(
            error_rate=float(params.get("error_rate", 0)),
            lost_ack_rate=float(params.get("lost_ack_rate", 0)),
            seed=int(params.get("seed", 0)),
        )
        return {"erp": FileErp(path, system="erp", faults=faults)}
    raise ValueError(
        f"HANDOFFS_ERP must be file:PATH[?error_rate=&lost_ack_rate=&seed=], memory or none, not {spec!r}"
    )


def _policies() -> Any:
    """The policy book named by ``HANDOFFS_POLICIES`` (read when the app is built), or None."""
    import os

    from handoffs.policies import load_book

    where = os.environ.get("HANDOFFS_POLICIES")
    if not where:
        return None
    book, errors = load_book([where])
    if errors:
        raise ValueError("invalid policies:\n" + "\n".join(map(str, errors)))
    return book


def build(
    settings: Settings | None = None,
    *,
    erps: dict[str, ErpPort] | None = None,
    systems: Any = None,
    http: dict[str, Any] | None = None,
    relays: Sequence[Handler] | None = None,
    policies: Any = None,
) -> App:
    """Wire the application. Nothing here runs at import time.

    Args:
        systems: a :class:`~handoffs.config.systems.SystemsConfig` (``handoffs.yaml``): its
            ERPs become the flows' ERP ports (unless ``erps`` is given), its other systems
            pull connectors in ``App.sources``, and its documented limits the shared buckets.
        http: extra keyword arguments for every connector's HTTP client (policy, transport).
        relays: events-out consumers (``engine/relay.py``); by default those named in
            ``HANDOFFS_EVENTS_OUT``, none when it is unset. Every process that publishes
            events must agree on them, since work items are made when a message is stored.
        policies: a :class:`~handoffs.policies.PolicyBook` in force; by default the folder
            or file named by ``HANDOFFS_POLICIES``, else none (no policy checks).
    """
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url)
    if relays is None:
        relays = relays_from_env(egress=EgressPolicy.allowing(settings.webhook_allow_networks))
    registry = Registry(
        [
            *time_to_invoice.handlers(),
            *operations.handlers(),
            *validation.handlers(),
            *opportunity_to_project.handlers(),
            *staffing.handlers(),
            *journal_posting.handlers(),
            *write_back.handlers(),
            *relays,
        ]
    )
    clock = SystemClock()
    sources: dict[str, Any] = {}
    lookups = None
    limits: dict[str, RateLimit] = {}
    if systems is not None:
        from handoffs.connectors import registry as connectors
        from handoffs.store.repositories.pending_writes import StorePendingWrites
        from handoffs.sync.lookups import StoreLookups

        lookups = StoreLookups(engine)
        pending = StorePendingWrites(engine)
        limits = connectors.rate_limits(systems)
        if erps is None:
            erps = {}
            for name, cfg in systems.systems.items():
                erp = (
                    connectors.build_erp(cfg, lookups, pending, **(http or {})) if cfg.role == "erp" else None
                )
                if erp is not None:
                    erps[name] = erp
    erps = _erps(settings.erp) if erps is None else erps
    limits = {name: RateLimit(rate=50, burst=100) for name in erps} | limits
    metrics = Metrics()
    guard = SystemGuard(engine, limits, metrics=metrics)
    if systems is not None:
        for name, cfg in systems.systems.items():
            source = connectors.build_source(cfg, guard, **(http or {})) if cfg.role != "erp" else None
            if source is not None:
                sources[name] = source
    write_backs: dict[str, Any] = {}
    if systems is not None:
        for name, cfg in systems.systems.items():
            port = connectors.build_write_back(cfg, **(http or {}))
            if port is not None:
                write_backs[name] = port
    ports = Ports(
        clock=clock,
        ids=DeterministicIds(),
        erps=erps,
        guard=guard,
        policies=_policies() if policies is None else policies,
        decisions=lambda uow: PolicyDecisionRepository(uow.connection, uow.now),
        screens=[ownership.screen, validation.screen_expenses],
        routing=systems.routing if systems is not None else None,
        cutovers=lambda uow: read_cutovers(uow.connection),
        write_backs=write_backs,
        business_date=settings.as_of,
    )
    uow = UowFactory(engine, registry.subscriptions, clock)
    metrics.watch_store(uow)
    app = App(settings, engine, registry, uow, ports, erps, sources, lookups, systems, metrics, Tracing())
    use_keyring(engine, app.keyring)  # audit rows written through this engine are keyed with it
    return app
