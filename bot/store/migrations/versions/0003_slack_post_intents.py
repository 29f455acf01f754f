"""slack post intents: a message about to be posted, so a crash never leaves a twin

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_post_intents",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("meeting_id", sa.String(length=191), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("part", sa.String(length=64), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("posting_by", sa.String(length=80), nullable=False),
        sa.Column("posting_since", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "provider", "meeting_id", "channel_id", "part", name=op.f("pk_slack_post_intents")
        ),
    )


def downgrade() -> None:
    op.drop_table("slack_post_intents")
