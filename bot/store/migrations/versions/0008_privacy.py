"""privacy: who stopped a notetaker, so that its status message can say so

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 01:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attendee_bots") as batch:
        batch.add_column(sa.Column("stopped_by", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attendee_bots") as batch:
        batch.drop_column("stopped_by")
