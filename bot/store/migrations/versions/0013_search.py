"""search: stored meetings, their passages, and a full-text index on each database

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 04:30:00.000000

SQLite: an FTS5 table over the passages (external content, porter stemming) kept in step by
triggers, so every write to ``search_passages`` (a cascade from its meeting included) updates
the index in the same transaction. PostgreSQL: a generated tsvector column (english) with a GIN
index. A later batch migration that rebuilds ``search_passages`` on SQLite drops the triggers:
it must create them again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SQLITE_INDEX = (
    "CREATE VIRTUAL TABLE search_passages_fts USING fts5(text, content='search_passages', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_passages_ai AFTER INSERT ON search_passages BEGIN "
    "INSERT INTO search_passages_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER search_passages_ad AFTER DELETE ON search_passages BEGIN "
    "INSERT INTO search_passages_fts(search_passages_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER search_passages_au AFTER UPDATE ON search_passages BEGIN "
    "INSERT INTO search_passages_fts(search_passages_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); "
    "INSERT INTO search_passages_fts(rowid, text) VALUES (new.id, new.text); END",
)
POSTGRES_INDEX = (
    "ALTER TABLE search_passages ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, text)) STORED",
    "CREATE INDEX ix_search_passages_search_vector ON search_passages USING gin (search_vector)",
)


def upgrade() -> None:
    op.create_table(
        "search_meetings",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("meeting_id", sa.String(length=191), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requester_id", sa.String(length=32), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("digest_ts", sa.String(length=32), nullable=True),
        sa.Column("permalink", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_meetings")),
        sa.UniqueConstraint("provider", "meeting_id", name=op.f("uq_search_meetings_provider")),
    )
    for column in ("started_at", "requester_id", "channel_id", "updated_at"):
        op.create_index(
            op.f(f"ix_search_meetings_{column}"), "search_meetings", [column], unique=False
        )
    op.create_table(
        "search_passages",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("meeting_pk", BigId, nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("speaker", sa.String(length=200), nullable=True),
        sa.Column("start", sa.Double(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_pk"],
            ["search_meetings.id"],
            name=op.f("fk_search_passages_meeting_pk_search_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_passages")),
    )
    op.create_index(
        op.f("ix_search_passages_meeting_pk"), "search_passages", ["meeting_pk"], unique=False
    )
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_INDEX if dialect == "sqlite" else POSTGRES_INDEX:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("search_passages_au", "search_passages_ad", "search_passages_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_passages_fts")
    op.drop_index(op.f("ix_search_passages_meeting_pk"), table_name="search_passages")
    op.drop_table("search_passages")
    for column in ("updated_at", "channel_id", "requester_id", "started_at"):
        op.drop_index(op.f(f"ix_search_meetings_{column}"), table_name="search_meetings")
    op.drop_table("search_meetings")
