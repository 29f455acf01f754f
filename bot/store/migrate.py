"""Schema migrations through Alembic, on the same async engine the app uses."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    """The Alembic configuration, with the migrations shipped inside the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    """Bring the database to ``revision`` (every head by default)."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def pending(engine: AsyncEngine) -> list[str]:
    """Revisions not yet applied; empty when the schema is current."""
    script = ScriptDirectory.from_config(alembic_config())

    def current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async with engine.connect() as connection:
        heads = await connection.run_sync(current)
    wanted = [rev.revision for rev in script.walk_revisions() if rev.revision not in heads]
    if heads:
        applied: set[str] = set()
        for head in heads:
            applied.update(r.revision for r in script.iterate_revisions(head, "base"))
        wanted = [r for r in wanted if r not in applied]
    return wanted
