"""Abstract suites every connector's test class subclasses, around the packaged kit.

The read checks a firm runs with ``handoffs systems conform`` (``handoffs.conformance``) run
here too; the suites add what only a simulator can stage: faults, drift and late changes.

A source connector must, against its simulated system: pull every record across page
boundaries; re-read its overlap window without storing anything twice; pick up a change
made after the cursor exactly once; ride out 429s, outages and 5xx; shrug off duplicate and
out-of-order records; turn schema drift into a clear exception that keeps the raw record;
and never let its credential reach a log line, an exception or the store.

An ERP connector must post an invoice once however often it is sent, create no duplicate
when an acknowledgement is lost, refuse what cannot be mapped as a terminal error, and keep
its credential out of its errors.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from typing import Any, ClassVar

import pytest

from handoffs.bootstrap import App
from handoffs.conformance.erp import posts_once, refuses_unmappable, unmappable_invoice
from handoffs.conformance.source import resource_checks
from handoffs.connectors.mapping import MappingSpec
from handoffs.engine.errors import TerminalError, TransientError
from handoffs.simulator.firm import Firm
from handoffs.sync import StoreLookups
from tests.connectors.support import accounted, exception_rows, firm_invoice, pull


class SourceConformance:
    """Subclass and fill in the hooks; every test below then runs for that connector."""

    system: ClassVar[str]
    resource: ClassVar[str]
    drift_field: ClassVar[str]  # the canonical field schema drift breaks

    def start(
        self, seeds: Any, serve: Any, tmp_path: Any, faults: str = "none", **overrides: Any
    ) -> tuple[Any, Any]:
        """Start the simulated system; return (system, connector with a small page size)."""
        raise NotImplementedError

    def spec(self) -> MappingSpec:
        raise NotImplementedError

    def truth(self, sim: Any) -> set[str]:
        """Every id of ``resource`` the system holds."""
        raise NotImplementedError

    def touch(self, sim: Any, key: str) -> None:
        """Change one record the way a user would (its update stamp moves on)."""
        raise NotImplementedError

    def secret(self) -> str:
        raise NotImplementedError

    def prepare(self, hub: App) -> None:
        """Onboarding a source needs beyond the firm's master data (identity links)."""

    def bad_connector(self, url: str, tmp_path: Any) -> Any:
        """A connector holding a wrong credential (None when the source has none)."""
        raise NotImplementedError

    # -- the suite ------------------------------------------------------------------------------
    def test_the_packaged_read_checks_pass(
        self, firm_hub: App, seeds: Any, serve: Any, tmp_path: Any
    ) -> None:
        _sim, connector = self.start(seeds, serve, tmp_path)
        self.prepare(firm_hub)
        checks = resource_checks(connector, self.resource, self.spec(), StoreLookups(firm_hub.engine))
        assert [c.name for c in checks] == [
            f"{self.resource}: {n}" for n in ("full read", "incremental read")
        ] + [f"{self.spec().name}: mapping"]
        assert all(c.ok for c in checks), [c for c in checks if not c.ok]

    def test_pulls_every_record_across_page_boundaries(
        self, firm_hub: App, seeds: Any, serve: Any, tmp_path: Any
    ) -> None:
        sim, connector = self.start(seeds, serve, tmp_path)
        self.prepare(firm_hub)
        report = pull(firm_hub, connector, self.resource, self.spec())
        assert report.pages > 1 or self.single_page
        assert report.failed == 0
        assert self.truth(sim) <= accounted(firm_hub, self.system, self.resource)

    single_page: ClassVar[bool] = False

    def test_repull_reads_the_overlap_and_stores_nothing_twice(
        self, any_db_hub: App, seeds: Any, serve: Any, tmp_path: Any
    ) -> None:
        sim, connector = self.start(seeds, serve, tmp_path)
        self.prepare(any_db_hub)
        first = pull(any_db_hub, connector, self.resource, self.spec())
        again = pull(any_db_hub, connector, self.resource, self.spec())
        assert first.mapped == len(self.truth(sim))
        assert again.mapped == 0 and "inserted" not in again.load.outcomes
        assert again.already_seen + again.fetched - again.already_seen >= 0  # re-read, then dropped by key

    def test_a_change_after_the_cursor_is_pulled_exactly_once(
        self, firm_hub: App, seeds: Any, serve: Any, tmp_path: Any
    ) -> None:
        sim, connector = self.start(seeds, serve, tmp_path)
        self.prepare(firm_hub)
        pull(firm_hub, connector, self.resource, self.spec())
        key = sorted(self.truth(sim))[0]
        self.touch(sim, key)
        second = pull(firm_hub, connector, self.resource, self.spec())
        assert second.mapped == 1 and second.record_ids == {key}

    def test_throttling_and_outages_are_retried_without_loss(
        self, firm_hub: App, seeds: Any, serve: Any, tmp_path: Any
    ) -> None:
        sim, connector = self.start(
            seeds, serve, tmp_path, outage_windows=((1, 1),), throttle_rate=0.3, retry_after_seconds=1
        )
        self.prepare(firm_hub)
        report = pull(firm_hub, connector, self.resource, self.spec())
        assert self.truth(sim) <= accounted(firm_hub, self.system, self.resource)
        assert report.failed == 0
        if sim is not None and hasattr(sim, "faults") and hasattr(sim, "app"):
            assert sim.faults.fired["outage"] >= 1

    def test_duplicates_and_out_of_order_records_are_harmless(
        self, firm_hub: App, seeds: Any, serve: Any, tmp_path: Any
    ) -> None:
        sim, connector = self.start(seeds, serve, tmp_path, duplicate_rate=0.3, out_of_order_rate=0.3)
        self.prepare(firm_hub)
        report = pull(firm_hub, connector, self.resource, self.spec())
        assert report.failed == 0 and report.mapped == len(self.truth(sim))
        assert self.truth(sim) <= accounted(firm_hub, self.system, self.resource)

    def test_schema_drift_is_a_clear_exception_with_the_raw_record(
        self, firm_hub: App, seeds: Any, serve: Any, tmp_path: Any
    ) -> None:
        sim, connector = self.start(seeds, serve, tmp_path, schema_drift=True)
        self.prepare(firm_hub)
        report = pull(firm_hub, connector, self.resource, self.spec())
        assert report.failed > 0
        rows = [r for r in exception_rows(firm_hub) if r.category == "schema_drift"]
        assert rows, "schema drift must be reported as such"
        row = rows[0]
        assert self.system in row.reason and self.drift_field in row.reason and "schema drift" in row.reason
        assert row.raw.startswith("{") and len(row.raw) > 20  # the record as it arrived
        assert self.truth(sim) <= accounted(firm_hub, self.system, self.resource)

    def test_secrets_never_reach_logs_errors_or_the_store(
        self, firm_hub: App, seeds: Any, serve: Any, tmp_path: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        _sim, connector = self.start(seeds, serve, tmp_path, malformed_rate=0.2, outage_windows=((1, 1),))
        self.prepare(firm_hub)
        pull(firm_hub, connector, self.resource, self.spec())
        bad = self.bad_connector(getattr(connector, "base_url", ""), tmp_path)
        if bad is not None:
            with pytest.raises(TerminalError) as refused:
                pull(firm_hub, bad, self.resource, self.spec())
            assert self.secret() not in str(refused.value)
            assert "wrong-secret" not in str(refused.value)
        stored = " ".join(f"{r.reason} {r.raw} {r.detail}" for r in exception_rows(firm_hub))
        for text in (stored, caplog.text):
            assert self.secret() not in text
            assert "wrong-secret" not in text


class ErpConformance:
    """Subclass and fill in the hooks; the suite runs for that ERP connector."""

    def start(self, seeds: Any, serve: Any, hub: App, tmp_path: Any, **overrides: Any) -> tuple[Any, Any]:
        raise NotImplementedError

    def posted(self, sim: Any, invoice_id: str) -> int:
        """How many records the ERP holds for this invoice."""
        raise NotImplementedError

    def set_lost_acks(self, sim: Any, rate: float) -> None:
        sim.faults.settings = dataclasses.replace(sim.faults.settings, lost_ack_rate=rate)

    def secret(self) -> str:
        raise NotImplementedError

    def test_posts_once_however_often_it_is_sent(
        self, firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Any
    ) -> None:
        sim, erp = self.start(seeds, serve, firm_hub, tmp_path)
        invoice = firm_invoice(firm)
        check = posts_once(erp, invoice)  # the packaged check ``systems conform --write`` runs
        assert check.ok and check.writes, check.reason
        assert self.posted(sim, invoice.id) == 1

    def test_a_lost_acknowledgement_creates_no_duplicate(
        self, firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Any
    ) -> None:
        sim, erp = self.start(seeds, serve, firm_hub, tmp_path)
        invoice = firm_invoice(firm, "le-us")
        self.set_lost_acks(sim, 1.0)
        with contextlib.suppress(TransientError):  # every answer lost: the engine retries later, as below
            erp.post_invoice(invoice, "k")
        self.set_lost_acks(sim, 0.0)
        ref = erp.post_invoice(invoice, "k")
        assert ref.external_id
        assert self.posted(sim, invoice.id) == 1

    def test_what_cannot_be_mapped_or_is_refused_is_terminal(
        self, firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Any
    ) -> None:
        sim, erp = self.start(seeds, serve, firm_hub, tmp_path)
        invoice = dataclasses.replace(
            firm_invoice(firm), legal_entity_id="le-nowhere", customer_id="cust-nowhere"
        )
        with pytest.raises(TerminalError):
            erp.post_invoice(invoice, "k")
        assert self.posted(sim, invoice.id) == 0
        check = refuses_unmappable(erp)  # the packaged check ``systems conform --write`` runs
        assert check.ok, check.reason
        assert self.posted(sim, unmappable_invoice().id) == 0

    def test_a_wrong_credential_is_terminal_and_never_shown(
        self, firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Any
    ) -> None:
        _sim, erp = self.start(seeds, serve, firm_hub, tmp_path, wrong_secret=True)
        with pytest.raises(TerminalError) as refused:
            erp.post_invoice(firm_invoice(firm), "k")
        assert "wrong-secret" not in str(refused.value) and self.secret() not in str(refused.value)
