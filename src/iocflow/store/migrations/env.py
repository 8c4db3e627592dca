"""Alembic environment: runs on the engine iocflow hands over (no alembic.ini, no URL in files)."""

from __future__ import annotations

from alembic import context

from iocflow.store.models import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
