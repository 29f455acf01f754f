"""connect links: single-use Claritalk connect links remember being spent

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    utc = bot.store.models.UTCDateTime
    op.create_table(
        "spent_links",
        sa.Column("link_hash", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.Column("spent_at", utc(timezone=True), nullable=False),
        sa.Column("expires_at", utc(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("link_hash", name=op.f("pk_spent_links")),
    )


def downgrade() -> None:
    op.drop_table("spent_links")
