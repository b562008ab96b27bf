"""Finding 12: webhook secrets are sealed with the master secret, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic import command
from sqlalchemy import insert, select, update

from handoffs.bootstrap import App
from handoffs.keyring import SEALED_PREFIX
from handoffs.store.migrate import alembic_config
from handoffs.store.repositories.subscriptions import SubscriptionRepository
from handoffs.store.tables import api_secrets, event_subscriptions, webhook_receivers

OUT, IN = "whsec_outbound-secret-0123456789abcdef0123456789abc", "whsec_inbound-secret-0123456789abcdef"


def _raw(hub: App) -> tuple[str, str]:
    with hub.uow() as uow:
        conn = uow.connection
        sub = conn.execute(select(event_subscriptions.c.secret).where(event_subscriptions.c.id == "S-1"))
        receiver = conn.execute(select(webhook_receivers.c.secret).where(webhook_receivers.c.system == "crm"))
        return str(sub.scalar_one()), str(receiver.scalar_one())


def test_finding_12_webhook_secrets_are_sealed_at_rest_and_read_back_plain(hub: App) -> None:
    with hub.uow() as uow:
        repo = SubscriptionRepository(uow.connection, uow.now)
        repo.add("S-1", "client-a", "webhook", "http://127.0.0.1:9/hook", None, None, OUT)
        repo.add("S-2", "client-a", "nats", "hub.events", None, None, None)
        repo.set_receiver_secret("crm", "whsec_first")
        repo.set_receiver_secret("crm", IN)  # a rotation is sealed too
        uow.commit()
    stored_out, stored_in = _raw(hub)
    assert stored_out.startswith(SEALED_PREFIX) and OUT not in stored_out
    assert stored_in.startswith(SEALED_PREFIX) and IN not in stored_in
    with hub.uow() as uow:
        repo = SubscriptionRepository(uow.connection, uow.now)
        sub, nats = repo.get("S-1"), repo.get("S-2")
        assert sub is not None and sub.secret == OUT and sub.active
        assert nats is not None and nats.secret is None and nats.active
        assert [s.secret for s in repo.find(kind="webhook", active_only=True)] == [OUT]
        assert repo.receiver_secret("crm") == IN
        assert repo.receiver_secret("erp") is None


def test_finding_12_a_secret_written_in_plain_text_into_the_database_is_not_trusted(hub: App) -> None:
    with hub.uow() as uow:
        repo = SubscriptionRepository(uow.connection, uow.now)
        repo.add("S-1", "client-a", "webhook", "http://127.0.0.1:9/hook", None, None, OUT)
        repo.set_receiver_secret("crm", IN)
        # someone with write access to the database picks secrets of their own
        uow.connection.execute(update(event_subscriptions).values(secret="whsec_chosen"))
        uow.connection.execute(update(webhook_receivers).values(secret="whsec_chosen"))
        uow.commit()
    with hub.uow() as uow:
        repo = SubscriptionRepository(uow.connection, uow.now)
        sub = repo.get("S-1")
        assert sub is not None and sub.secret is None and not sub.active  # never signed with it
        assert not sub.wants("InvoiceGenerated", None)
        assert repo.receiver_secret("crm") is None  # inbound webhooks signed with it are refused


def test_finding_12_the_upgrade_seals_plain_secrets_and_deletes_stored_signing_keys(hub: App) -> None:
    cfg = alembic_config(hub.engine)
    command.downgrade(cfg, "sealed_secrets@-1")  # the database as the previous release left it
    with hub.engine.begin() as conn:
        now = hub.ports.clock.now()
        conn.execute(
            insert(event_subscriptions).values(
                id="S-1",
                client_id="client-a",
                kind="webhook",
                target="http://127.0.0.1:9/hook",
                event_types="*",
                entities="*",
                secret=OUT,
                active=True,
                created_at=now,
            )
        )
        conn.execute(insert(webhook_receivers).values(system="crm", secret=IN, created_at=now))
        for name in ("jwt", "console-session"):
            conn.execute(insert(api_secrets).values(name=name, value=f"plain-{name}-key", created_at=now))
    command.upgrade(cfg, "heads")
    stored_out, stored_in = _raw(hub)
    assert stored_out.startswith(SEALED_PREFIX) and stored_in.startswith(SEALED_PREFIX)
    with hub.uow() as uow:
        assert uow.connection.execute(select(api_secrets.c.name)).all() == []
        repo = SubscriptionRepository(uow.connection, uow.now)
        sub = repo.get("S-1")
        assert sub is not None and sub.secret == OUT and sub.active  # existing subscribers keep working
        assert repo.receiver_secret("crm") == IN
