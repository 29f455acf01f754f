"""digest_reviews: digests of external meetings held for their owner's review

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.models

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    utc = bot.store.models.UTCDateTime
    op.create_table(
        "digest_reviews",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("meeting_id", sa.String(length=191), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("meeting", sa.JSON(), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=True),
        sa.Column("external", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", utc(timezone=True), nullable=True),
        sa.Column("resume_kind", sa.String(length=64), nullable=True),
        sa.Column("resume_payload", sa.JSON(), nullable=True),
        sa.Column("created_at", utc(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_reviews")),
        sa.UniqueConstraint(
            "provider",
            "meeting_id",
            "channel_id",
            name=op.f("uq_digest_reviews_provider"),
        ),
    )
    op.create_index(op.f("ix_digest_reviews_created_at"), "digest_reviews", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_digest_reviews_created_at"), table_name="digest_reviews")
    op.drop_table("digest_reviews")
