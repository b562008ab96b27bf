"""Pull the source systems of ``handoffs.yaml``: what ``handoffs sync`` and the demo run.

    for each source system, in dependency order (people, customers and deals, projects, time):
      for each resource ──► PullRunner.pull (cursor, overlap, map, ingest)
      a CRM's won deals ──► the opportunity-to-project hand-over
      an outage past the retry budget ──► ends THIS system's pull: an exception is held in
        the queue (the error, the resource, the cursor it stayed at); the cursor is not
        moved, so the next sync repeats the pull; the other systems go on

A later pull of the same resource that succeeds resolves the outage exception it left.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from handoffs.config.systems import SystemConfig
from handoffs.connectors.registry import load_system_mapping
from handoffs.engine.errors import HandoffsFailure
from handoffs.store.repositories.cursors import CursorRepository
from handoffs.store.repositories.exceptions import RUNBOOKS
from handoffs.store.tables import exceptions
from handoffs.sync.deals import RESOURCE as WON_DEALS
from handoffs.sync.deals import hand_over_won_deals
from handoffs.sync.pull import PullReport, PullRunner

__all__ = ["DEFAULT_OVERLAP", "ROLE_ORDER", "SystemSync", "pull_system", "source_systems", "sync_systems"]

DEFAULT_OVERLAP = timedelta(minutes=10)
# People before the time that names them, customers before the deals and projects they own.
ROLE_ORDER = ("hris", "crm", "psa", "time", "expense", "billing")

Progress = Callable[[str, str, int], None]  # (system, resource, records so far)


def _quiet(system: str, resource: str, done: int) -> None:
    return None


@dataclass
class SystemSync:
    """What one sync did for one system."""

    system: str
    connector: str
    pulls: list[PullReport] = field(default_factory=list)
    won_deals: int = 0
    error: str | None = None  # the outage or refusal that ended this system's pull
    failed_resource: str | None = None

    def counts(self) -> dict[str, int]:
        """pulled, new, updated, unchanged (including records seen before) and held as exceptions."""
        outcomes: dict[str, int] = {}
        for p in self.pulls:
            for k, v in p.load.outcomes.items():
                outcomes[k] = outcomes.get(k, 0) + v
        pulled = sum(p.fetched for p in self.pulls)
        new, updated = outcomes.get("inserted", 0), outcomes.get("updated", 0)
        held = sum(p.load.failed for p in self.pulls)
        return {
            "pulled": pulled,
            "new": new,
            "updated": updated,
            # seen before, repeated in the overlap, older than the hub's, or an identity link only
            "unchanged": max(pulled - new - updated - held, 0),
            "held": held + (1 if self.error else 0),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "connector": self.connector,
            **self.counts(),
            "won_deals_handed_over": self.won_deals,
            "ok": self.error is None,
            "error": self.error,
            "failed_resource": self.failed_resource,
            "resources": [p.as_dict() for p in self.pulls],
        }


def source_systems(systems: Any, names: Iterable[str] = ()) -> list[SystemConfig]:
    """The systems to pull, in dependency order; ``names`` picks some (unknown → ValueError)."""
    chosen = list(names)
    unknown = [n for n in chosen if n not in systems.systems]
    if unknown:
        raise ValueError(f"not in {systems.source}: {', '.join(unknown)}")
    found = [c for c in systems.systems.values() if c.role != "erp" and (not chosen or c.name in chosen)]
    not_sources = [n for n in chosen if systems.systems[n].role == "erp"]
    if not_sources:
        raise ValueError(f"{', '.join(not_sources)}: an ERP is posted to, not pulled from")
    return sorted(found, key=lambda c: ROLE_ORDER.index(c.role) if c.role in ROLE_ORDER else len(ROLE_ORDER))


def pull_system(
    hub: Any, cfg: SystemConfig, *, label: str = "pull", progress: Progress = _quiet
) -> SystemSync:
    """Pull every resource of one system; an outage ends this system's pull as an exception."""
    result = SystemSync(cfg.name, cfg.connector)
    connector = hub.sources.get(cfg.name)
    mapping = load_system_mapping(cfg)
    if connector is None or mapping is None:
        result.error = f"{cfg.name}: the {cfg.connector} connector has nothing to pull"
        return result
    runner = PullRunner(hub.uow, hub.ports, hub.lookups, overlap=cfg.overlap or DEFAULT_OVERLAP)
    for resource in cfg.resources or list(mapping.mappings):
        done = [0]

        def page(n: int, resource: str = resource, done: list[int] = done) -> None:
            done[0] += n
            progress(cfg.name, resource, done[0])

        progress(cfg.name, resource, 0)
        try:
            report = runner.pull(connector, resource, mapping.get(resource), on_page=page)
        except HandoffsFailure as exc:  # transient past the client's retries, or a refusal (4xx)
            _hold_outage(hub, result, resource, exc)
            return result
        report.label = label
        result.pulls.append(report)
        _settle_outage(hub, cfg.name, resource)
    return result


def hand_over_deals(hub: Any, cfg: SystemConfig, result: SystemSync, progress: Progress = _quiet) -> None:
    """A CRM's won deals since its hand-over cursor become projects (opportunity-to-project)."""
    progress(cfg.name, WON_DEALS, 0)
    try:
        handed = hand_over_won_deals(
            hub.uow, hub.ports, hub.sources[cfg.name], overlap=cfg.overlap or DEFAULT_OVERLAP
        )
    except HandoffsFailure as exc:
        _hold_outage(hub, result, WON_DEALS, exc)
        return
    result.won_deals += handed.handed_over
    _settle_outage(hub, cfg.name, WON_DEALS)


def sync_systems(
    hub: Any, names: Iterable[str] = (), *, label: str = "pull", progress: Progress = _quiet
) -> list[SystemSync]:
    """Pull the named source systems (all when none are named) of the hub's ``handoffs.yaml``.

    Won deals are handed over after every pull, so the accounts and projects they name are in.
    """
    chosen = source_systems(hub.systems, names)
    results = [pull_system(hub, cfg, label=label, progress=progress) for cfg in chosen]
    for cfg, result in zip(chosen, results, strict=True):
        if result.error is None and cfg.role == "crm" and cfg.connector == "salesforce":
            hand_over_deals(hub, cfg, result, progress)
    return results


def _fingerprint(system: str, resource: str) -> str:
    return hashlib.sha256(f"pull\x1f{system}\x1f{resource}".encode()).hexdigest()[:32]


def _hold_outage(hub: Any, result: SystemSync, resource: str, exc: HandoffsFailure) -> None:
    system = result.system
    result.error, result.failed_resource = str(exc), resource
    with hub.uow() as uow:
        stored = CursorRepository(uow.connection, uow.now).get(system, resource)
        uow.exceptions.add(
            category=exc.category if exc.category in RUNBOOKS else "system_unavailable",
            source=f"{system}:{resource}",
            reason=f"the pull of {system} {resource} stopped: {exc} (cursor kept at "
            f"{stored.position or 'the start'}; the next sync repeats it)",
            raw="",
            detail={"system": system, "resource": resource, "cursor": stored.position, "kind": "pull"},
            priority=2,
            fingerprint=_fingerprint(system, resource),
        )
        uow.commit()


def _settle_outage(hub: Any, system: str, resource: str) -> None:
    """Resolve the outage exception an earlier pull of this resource left, now that it worked."""
    c = exceptions.c
    with hub.uow() as uow:
        uow.connection.execute(
            update(exceptions)
            .where(c.fingerprint == _fingerprint(system, resource), c.state.in_(("open", "in_progress")))
            .values(state="resolved", resolution="a later pull of the resource succeeded", updated_at=uow.now)
        )
        uow.commit()
