"""The hub's tables (SQLAlchemy Core). Alembic migrations in ``migrations/`` create them.

Canonical objects of low volume live in ``objects`` as canonical JSON with their source
version; high-volume and billing-critical records (time entries, invoices, the link that
makes billing exactly-once) have typed tables.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from handoffs.store.types import Dec, UtcDateTime

__all__ = [
    "billed_sources",
    "circuit_breakers",
    "connector_cursors",
    "console_login_throttle",
    "console_sessions",
    "console_users",
    "deliveries",
    "erp_cutovers",
    "exceptions",
    "inbox",
    "invoice_lines",
    "invoices",
    "line_credits",
    "messages",
    "metadata",
    "object_history",
    "objects",
    "pending_writes",
    "period_closes",
    "proposals",
    "pull_leases",
    "rate_limits",
    "recognitions",
    "sync_runs",
    "time_entries",
    "work_queue",
    "xrefs",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = String(128)
# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
Seq = BigInteger().with_variant(Integer(), "sqlite")

objects = Table(
    "objects",
    metadata,
    Column("type", String(40), primary_key=True),
    Column("id", Id, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("source_system", String(64), nullable=False),
    Column("source_version", String(64)),
    Column("doc", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

object_history = Table(
    "object_history",
    metadata,
    Column("type", String(40), primary_key=True),
    Column("id", Id, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("source_system", String(64), nullable=False),
    Column("source_version", String(64)),
    Column("doc", Text, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)

time_entries = Table(
    "time_entries",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", Id, nullable=False),
    Column("resource_id", Id, nullable=False),
    Column("work_date", Date, nullable=False),
    Column("period", String(7), nullable=False),
    Column("hours", Dec, nullable=False),
    Column("billable", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    # unpriced -> priced -> billed; or not_billable / held (needs a person)
    Column("billing_state", String(16), nullable=False),
    Column("rate", Dec),
    Column("currency", String(3)),
    Column("role", String(64)),
    Column("rate_card_version", Integer),
    Column("version", Integer, nullable=False),
    Column("source_system", String(64), nullable=False),
    Column("source_version", String(64)),
    Column("doc", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("recognised_by", Id),  # the revenue event that recognised this time (migration 0201)
    Index("ix_time_entries_billing", "project_id", "period", "billing_state"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", Id, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("project_id", Id, nullable=False, index=True),
    Column("contract_id", Id, nullable=False),
    Column("customer_id", Id, nullable=False),
    Column("legal_entity_id", Id, nullable=False),
    Column("period", String(7), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("subtotal", Dec, nullable=False),
    Column("tax", Dec, nullable=False),
    Column("total", Dec, nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("credits_invoice_id", Id),
    Column("correlation_id", String(160), nullable=False),
    Column("doc", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column("id", Id, primary_key=True),
    Column("invoice_id", Id, ForeignKey("invoices.id"), nullable=False, index=True),
    Column("line_no", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("quantity", Dec, nullable=False),
    Column("unit_price", Dec, nullable=False),
    Column("amount", Dec, nullable=False),
    Column("tax", Dec, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("role", String(64)),
    Column("resource_id", Id),
    Column("rate_card_version", Integer),
)

# One row per (source record, invoice line). The partial unique index is the database's
# guarantee that a time entry or expense is on at most one live invoice line; a credit
# note sets released_by and so frees the source for re-billing.
billed_sources = Table(
    "billed_sources",
    metadata,
    Column("source_type", String(16), primary_key=True),
    Column("source_id", Id, primary_key=True),
    Column("invoice_line_id", Id, ForeignKey("invoice_lines.id"), primary_key=True),
    Column("invoice_id", Id, nullable=False),
    Column("released_by", Id),
    Column("created_at", UtcDateTime, nullable=False),
    Index(
        "uq_billed_sources_live",
        "source_type",
        "source_id",
        unique=True,
        sqlite_where=text("released_by IS NULL"),
        postgresql_where=text("released_by IS NULL"),
    ),
    # Every link with its state and line (migration 0801): reconciliation joins a million
    # entries to their live lines through this index alone, never reading a link's row.
    Index("ix_billed_sources_lookup", "source_type", "source_id", "released_by", "invoice_line_id"),
)

# One row per source (or amount) of an invoice line that a credit note credits (migration
# 0914). The primary key is the database's refusal of a second credit of a line's source: a
# stale credit-and-rebill or a repeated credit note fails its transaction instead of crediting
# twice. A credit of an amount (which releases nothing) is keyed by its own credit line.
line_credits = Table(
    "line_credits",
    metadata,
    Column("credited_line_id", Id, ForeignKey("invoice_lines.id"), primary_key=True),
    Column("source_type", String(16), primary_key=True),  # time_entry ... or amount
    Column("source_id", Id, primary_key=True),
    Column("credit_line_id", Id, nullable=False),
    Column("credit_note_id", Id, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

xrefs = Table(
    "xrefs",
    metadata,
    Column("canonical_type", String(40), primary_key=True),
    Column("canonical_id", Id, primary_key=True),
    Column("system", String(64), primary_key=True),
    Column("external_id", String(255), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("system", "canonical_type", "external_id"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("idempotency_key", String(255), primary_key=True),
    Column("system", String(64), nullable=False),
    Column("operation", String(64), nullable=False),
    Column("object_type", String(40), nullable=False),
    Column("object_id", Id, nullable=False),
    Column("status", String(16), nullable=False),  # pending, confirmed, failed
    Column("attempts", Integer, nullable=False),
    Column("external_id", String(255)),
    Column("last_error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("confirmed_at", UtcDateTime),
    Index("ix_deliveries_object", "object_type", "object_id"),
)

# Writes to an external system that are not known to be done (migration 0907): no answer
# came ("uncertain": look the record up before sending again) or an asynchronous job runs.
pending_writes = Table(
    "pending_writes",
    metadata,
    Column("key", String(255), primary_key=True),  # the delivery's idempotency key
    Column("system", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # uncertain | job
    Column("job", String(500)),  # the job's Location, for an asynchronous write
    Column("since", UtcDateTime, nullable=False),
)

# A legal entity's period closed by a person (migration 0915): who closed or reopened it and
# when, and ``reported``: the period's reported figures at close (JSON), which every report
# shows while the period stays closed.
period_closes = Table(
    "period_closes",
    metadata,
    Column("legal_entity_id", String(128), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("closed", Boolean, nullable=False),
    Column("closed_by", String(255), nullable=False),
    Column("closed_at", UtcDateTime, nullable=False),
    Column("reopened_by", String(255)),
    Column("reopened_at", UtcDateTime),
    Column("reported", Text, nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("message_id", String(64), nullable=False, unique=True),
    Column("kind", String(8), nullable=False),  # event | command
    Column("type", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("correlation_id", String(160), nullable=False, index=True),
    Column("occurred_at", UtcDateTime, nullable=False, index=True),
    Column("recorded_at", UtcDateTime, nullable=False),
)

work_queue = Table(
    "work_queue",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    Column("message_seq", BigInteger, nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("consumer", String(64), nullable=False),
    Column("status", String(8), nullable=False),  # pending, leased, done, dead
    Column("attempts", Integer, nullable=False),
    Column("available_at", Float, nullable=False),  # epoch seconds
    Column("lease_owner", String(64)),
    Column("lease_expires_at", Float),
    Column("last_error", Text),
    Column("replay", Integer, nullable=False),  # 0 for the first run, n for the n-th replay
    Column("coalesce_key", String(200)),  # pending items with one key are one piece of work
    Index("ix_work_queue_claim", "status", "available_at", "id"),
    # Runnable work in id order (migration 0802): a claim reads its first N from the index
    # instead of sorting every pending item, which made a backfill's claims quadratic.
    Index("ix_work_queue_order", "status", "id"),
    Index("ix_work_queue_coalesce", "consumer", "coalesce_key", "status"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("consumer", String(64), primary_key=True),
    Column("message_id", String(96), primary_key=True),
    Column("processed_at", UtcDateTime, nullable=False),
)

exceptions = Table(
    "exceptions",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    Column("category", String(40), nullable=False, index=True),
    Column("state", String(16), nullable=False, index=True),
    Column("priority", Integer, nullable=False),
    Column("owner", String(128)),
    Column("source", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("detail", Text, nullable=False),  # JSON: line number, field, rule, attempts...
    Column("message_id", String(64)),
    Column("consumer", String(64)),
    Column("work_id", BigInteger),
    Column("attempts", Integer, nullable=False),
    Column("object_type", String(40)),
    Column("object_id", Id),
    Column("correlation_id", String(160)),
    Column("fingerprint", String(64), index=True),  # same problem reported again -> not a new row
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("resolution", Text),
    Column("legal_entity_id", Id),  # migration 0901: the entity of the API client record that raised it
    Index("ix_exceptions_object", "object_type", "object_id"),  # migration 0601
    Index("ix_exceptions_source_created", "source", "created_at"),  # migration 0901
)

rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

circuit_breakers = Table(
    "circuit_breakers",
    metadata,
    Column("system", String(64), primary_key=True),
    Column("state", String(16), nullable=False),  # closed, open, half_open
    Column("failures", Integer, nullable=False),
    Column("opened_at", Float),
    Column("updated_at", Float, nullable=False),
)

# Where each incremental pull stopped: the high-water mark of one connector's resource,
# and the keys already seen at that mark, so the next pull can re-read an overlap window
# and drop only records it has seen (never a bare ``>`` on the timestamp).
connector_cursors = Table(
    "connector_cursors",
    metadata,
    Column("connector", String(64), primary_key=True),
    Column("resource", String(64), primary_key=True),
    Column("position", String(64)),  # the high-water mark, as the system writes it
    Column("seen", Text, nullable=False),  # JSON: {record key: version} inside the overlap window
    Column("pulls", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Proposals a person decides: write-downs of capped time, credit-and-rebill after an
# amendment (migration 0201).
proposals = Table(
    "proposals",
    metadata,
    Column("id", Id, primary_key=True),
    Column("kind", String(32), nullable=False),  # write_down | credit_and_rebill
    Column("contract_id", Id, nullable=False, index=True),
    Column("project_id", Id, nullable=False),
    Column("period", String(7), nullable=False),
    Column("state", String(16), nullable=False),  # open | approved | rejected
    Column("amount", Dec, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("doc", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime),
    Column("decided_by", String(128)),
    Column("reason", Text),
)

# Which revenue event recognised which billable source other than time (expenses), once.
recognitions = Table(
    "recognitions",
    metadata,
    Column("source_type", String(16), primary_key=True),
    Column("source_id", Id, primary_key=True),
    Column("event_id", Id, nullable=False),
)

# --- Governed API (api/), events out (engine/relay*) and the audit log (audit/) ---

# An API client: who calls the hub, with which scopes, for which legal entities ("*" = all).
api_clients = Table(
    "api_clients",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("scopes", Text, nullable=False),  # space-separated, as in OAuth2
    Column("entities", Text, nullable=False),  # space-separated legal entity ids, or "*"
    Column("rate", Float, nullable=False),  # requests per second on average
    Column("burst", Float, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# API keys are stored as a SHA-256 of the whole key; the prefix identifies a key in lists and logs.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("client_id", String(64), nullable=False, index=True),
    Column("prefix", String(32), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

# Small named secrets made on first use. The JWT signing key is no longer one of them (it is
# derived from the master secret; migration 0906 deleted the stored one).
api_secrets = Table(
    "api_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# The first response to each (client, Idempotency-Key), kept at least 24 hours.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

# Append-only, hash-chained: each row's hash covers its fields and the previous row's hash,
# keyed (scheme "hmac-sha256") with a secret outside the database; "sha256" rows predate the key.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(255), nullable=False),
    Column("before", Text, nullable=False),
    Column("after", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("scheme", String(16), nullable=False, server_default="sha256"),
    Column("key_id", String(16)),  # the master secret's public fingerprint, for keyed rows
)

# The chain's head (one row): serialises appenders and lets verify notice a deleted last row.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# Who receives events out: a signed webhook URL or a NATS JetStream subject.
event_subscriptions = Table(
    "event_subscriptions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("client_id", String(64), nullable=False, index=True),
    Column("kind", String(8), nullable=False),  # webhook | nats
    Column("target", String(1000), nullable=False),
    Column("event_types", Text, nullable=False),  # space-separated, or "*"
    Column("entities", Text, nullable=False),  # the creating client's entities, or "*"
    Column("secret", Text),  # webhook signing secret, sealed (shown once, never returned again)
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# One row per (subscription, event): delivered exactly once, or dead for that subscriber only.
event_deliveries = Table(
    "event_deliveries",
    metadata,
    Column("subscription_id", String(40), primary_key=True),
    Column("message_id", String(64), primary_key=True),
    Column("status", String(12), nullable=False),  # pending, delivered, dead
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Shared secrets of connected systems that send the hub webhooks.
webhook_receivers = Table(
    "webhook_receivers",
    metadata,
    Column("system", String(64), primary_key=True),
    Column("secret", Text, nullable=False),  # sealed with the master secret
    Column("created_at", UtcDateTime, nullable=False),
)

# What a policy decided for one version of one record, and under which policy version: a record
# keeps this decision when a newer policy version activates (migration 0301, branch "policies").
policy_decisions = Table(
    "policy_decisions",
    metadata,
    Column("record_type", String(40), primary_key=True),
    Column("record_id", Id, primary_key=True),
    Column("record_version", String(64), primary_key=True),
    Column("project_id", Id, index=True),
    Column("period", String(7)),
    Column("policy", String(128)),
    Column("policy_version", Integer),
    Column("outcome", String(16), nullable=False),
    Column("rule", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
)

# Users of the web console, each with one role (viewer, operator, admin) and a scrypt password
# hash ``scrypt$n$r$p$salt$hash`` (migration 0401, branch "console").
console_users = Table(
    "console_users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# One row per console sign-in (migration 0904): ``id`` is the SHA-256 of the session's
# secret, which only the user's signed cookie holds.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_name", String(64), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("client", String(64), nullable=True),
)

# Failed console sign-ins per ``user:<name>`` and ``addr:<client address>`` (migration 0904).
console_login_throttle = Table(
    "console_login_throttle",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UtcDateTime, nullable=False),
    Column("locked_until", UtcDateTime, nullable=True),
)

# Scheduled pulls (migration 0911): one lease per source system so that, of many workers,
# one pulls it at a time; a lease not renewed by its expiry (a killed puller) is taken over.
pull_leases = Table(
    "pull_leases",
    metadata,
    Column("system", String(64), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("expires_at", Float, nullable=False),  # epoch seconds
    Column("acquired_at", Float, nullable=False),
)

# One row per pull of a system (migration 0911): what the console and ``sync state`` show.
sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    Column("system", String(64), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("status", String(16), nullable=False),  # running, ok, failed
    Column("counts", Text, nullable=False),  # JSON: fetched, mapped, failed, outcomes per resource
    Column("error", Text, nullable=True),
    Index("ix_sync_runs_system_started", "system", "started_at"),
)

# ERP cut-overs (migration 0911): from ``at_period`` the new ERP is the system of record;
# the old one still receives that period as a shadow, and nothing after it.
erp_cutovers = Table(
    "erp_cutovers",
    metadata,
    Column("from_system", String(64), primary_key=True),
    Column("to_system", String(64), nullable=False),
    Column("at_period", String(7), nullable=False),  # YYYY-MM
    Column("created_at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
)
