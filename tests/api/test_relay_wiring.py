"""The composition root registers the events-out relays named in HANDOFFS_EVENTS_OUT, and none by default."""

from __future__ import annotations

import pytest

from handoffs.bootstrap import build
from handoffs.engine.relay import EVENT_CLASSES, consumer_name
from handoffs.settings import Settings


def _consumers(monkeypatch: pytest.MonkeyPatch, tmp_path, value: str | None) -> list[str]:  # type: ignore[no-untyped-def]
    if value is None:
        monkeypatch.delenv("HANDOFFS_EVENTS_OUT", raising=False)
    else:
        monkeypatch.setenv("HANDOFFS_EVENTS_OUT", value)
    app = build(Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}", erp="none"))
    try:
        return app.registry.consumers
    finally:
        app.close()


def test_no_relays_unless_asked(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert not [c for c in _consumers(monkeypatch, tmp_path, None) if c.startswith("relay.")]


def test_relays_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    consumers = _consumers(monkeypatch, tmp_path, "webhook,nats")
    for name in EVENT_CLASSES:
        assert consumer_name("webhook", name) in consumers and consumer_name("nats", name) in consumers
