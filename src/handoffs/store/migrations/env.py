"""Alembic environment: the engine is handed in by ``handoffs.store.migrate``."""

from __future__ import annotations

from alembic import context

from handoffs.store.db import make_engine
from handoffs.store.tables import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # invoked through the alembic command line
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///handoffs.db")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
