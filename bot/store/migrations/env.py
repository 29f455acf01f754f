"""Alembic environment: runs on the connection that bot.store.migrate hands over."""

from __future__ import annotations

from alembic import context

from bot.plugins import metadata
from bot.store.models import managed

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the `alembic` CLI gets here
    raise RuntimeError("run migrations with `debrief migrate`, which provides the connection")

context.configure(
    connection=connection,
    target_metadata=metadata(),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_name=managed,
)
with context.begin_transaction():
    context.run_migrations()
