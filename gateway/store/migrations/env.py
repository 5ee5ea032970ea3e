"""Alembic environment: runs on the connection the gateway hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from gateway.store import counts, operations  # noqa: F401 - their tables are in the metadata
from gateway.store.models import Base

config = context.config
target_metadata = Base.metadata


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _migrate(conn)


run()
