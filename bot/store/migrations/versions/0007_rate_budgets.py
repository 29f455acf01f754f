"""rate budgets: provider budgets shared by every process on the database

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_budgets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("units", sa.Double(), nullable=False),
        sa.Column("blocked_until", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rate_budgets")),
    )
    op.create_table(
        "rate_budget_spends",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("budget", sa.String(length=64), nullable=False),
        sa.Column("spent_at", sa.Double(), nullable=False),
        sa.Column("cost", sa.Double(), nullable=False),
        sa.Column("held_until", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_budget_spends")),
    )
    op.create_index(
        "ix_rate_budget_spends_budget",
        "rate_budget_spends",
        ["budget", "spent_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_rate_budget_spends_budget", table_name="rate_budget_spends")
    op.drop_table("rate_budget_spends")
    op.drop_table("rate_budgets")
