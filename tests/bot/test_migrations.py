"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from bot.plugins import metadata
from bot.store.db import create_engine
from bot.store.migrate import alembic_config, pending
from bot.store.models import managed


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)

    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": managed}
        )
        return compare_metadata(context, metadata())

    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(diff)
        assert await pending(engine) == []
    finally:
        await engine.dispose()
    assert differences == [], "a model changed without a migration (or the other way round)"


def test_the_revisions_form_one_line() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}"
    assert len(script.get_bases()) == 1
