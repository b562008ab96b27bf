"""The uncertain-write rule (engine/uncertain.py) with an in-memory store and a test clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handoffs.engine.errors import TerminalError, TransientError, Uncertain
from handoffs.engine.uncertain import MemoryPendingWrites, SettlePolicy, UncertainWrites


class Target:
    """An ERP whose writes may land late: ``landed`` is what a lookup by key sees."""

    def __init__(self) -> None:
        self.sent = 0
        self.landed: dict[str, str] = {}
        self.answer = True

    def send(self, key: str) -> str:
        self.sent += 1
        if not self.answer:
            raise Uncertain("timed out")
        self.landed[key] = f"rec-{self.sent}"
        return self.landed[key]


@pytest.fixture
def clock() -> list[datetime]:
    return [datetime(2026, 1, 1, tzinfo=UTC)]


def _writes(clock: list[datetime], **policy: float) -> UncertainWrites:
    def sleep(seconds: float) -> None:
        clock[0] += timedelta(seconds=seconds)

    return UncertainWrites(
        "erp", MemoryPendingWrites(), SettlePolicy(**policy), clock=lambda: clock[0], sleep=sleep
    )


def test_finding_uncertain_write_is_found_by_its_key_not_sent_again(clock: list[datetime]) -> None:
    """A write with no answer that landed later is found by the lookup; nothing is re-sent."""
    target, writes = Target(), _writes(clock, settle_seconds=60)
    target.answer = False
    with pytest.raises(Uncertain):
        writes.write("k", find=lambda: target.landed.get("k"), send=lambda: target.send("k"))
    target.answer = True
    target.landed["k"] = "late-record"  # the server finished the write after the client gave up
    assert (
        writes.write("k", find=lambda: target.landed.get("k"), send=lambda: target.send("k")) == "late-record"
    )
    assert target.sent == 1 and writes.pending.get("k") is None


def test_finding_uncertain_write_waits_out_the_settle_period_before_resending(clock: list[datetime]) -> None:
    """Not found yet and the settle period not over: look again later (transient), never send."""
    target, writes = Target(), _writes(clock, settle_seconds=60, checks=2, first_wait=1, max_wait=1)
    target.answer = False
    with pytest.raises(Uncertain):
        writes.write("k", find=lambda: None, send=lambda: target.send("k"))
    target.answer = True
    with pytest.raises(TransientError, match="not there yet") as caught:
        writes.write("k", find=lambda: None, send=lambda: target.send("k"))
    assert caught.value.retry_after == pytest.approx(60 - 1) and target.sent == 1  # when it is over
    clock[0] += timedelta(seconds=60)  # the settle period is over: it was never written
    assert writes.write("k", find=lambda: None, send=lambda: target.send("k")) == "rec-2"
    assert target.sent == 2


def test_finding_uncertain_async_job_is_resumed_and_a_refusal_starts_afresh(clock: list[datetime]) -> None:
    """A write accepted as a job is polled again on retry; a terminal refusal clears it."""
    writes, polled, sent = _writes(clock), [], []
    writes.remember_job("k", "/job/1")

    def refuse(job: str) -> str:
        polled.append(job)
        raise TerminalError("the job failed")

    with pytest.raises(TerminalError):
        writes.write("k", find=lambda: None, send=lambda: sent.append(1) or "x", resume=refuse)
    assert polled == ["/job/1"] and sent == [] and writes.pending.get("k") is None
    assert writes.write("k", find=lambda: None, send=lambda: "new", resume=refuse) == "new"


class Killed(BaseException):
    """The worker's process ending mid-send: no connector or engine code runs after it."""


def test_finding_uncertain_write_of_a_worker_killed_mid_send_is_looked_for_not_resent(
    clock: list[datetime],
) -> None:
    """A send cut off by the worker's death leaves the write uncertain: the next worker looks
    for the record until the settle period after that send is over, and only then sends."""
    target, writes = Target(), _writes(clock, settle_seconds=60, checks=2, first_wait=1, max_wait=1)

    def dies() -> str:
        target.sent += 1  # the body reached the target, which is still making the record
        raise Killed

    with pytest.raises(Killed):
        writes.write("k", find=lambda: target.landed.get("k"), send=dies)
    with pytest.raises(TransientError, match="not there yet"):
        writes.write("k", find=lambda: target.landed.get("k"), send=lambda: target.send("k"))
    target.landed["k"] = "made-by-the-dead-worker"
    got = writes.write("k", find=lambda: target.landed.get("k"), send=lambda: target.send("k"))
    assert (got, target.sent) == ("made-by-the-dead-worker", 1)


def test_finding_uncertain_write_refused_before_sending_is_tried_again_at_once(
    clock: list[datetime],
) -> None:
    """A transient failure that is not Uncertain (a 429, a refused connection) wrote nothing:
    the next try sends at once instead of waiting out a settle period."""
    target, writes = Target(), _writes(clock, settle_seconds=60)

    def throttled() -> str:
        raise TransientError("429 Too Many Requests")

    with pytest.raises(TransientError):
        writes.write("k", find=lambda: None, send=throttled)
    assert writes.pending.get("k") is None
    assert writes.write("k", find=lambda: None, send=lambda: target.send("k")) == "rec-1"
