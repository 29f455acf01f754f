"""claritalk: stored secrets (encrypted), OAuth states, user connections, PDF reports

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    utc = bot.store.models.UTCDateTime
    op.create_table(
        "stored_secrets",
        sa.Column("name", sa.String(length=191), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", utc(timezone=True), nullable=False),
        sa.Column("updated_at", utc(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_stored_secrets")),
    )
    op.create_table(
        "oauth_states",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", utc(timezone=True), nullable=False),
        sa.Column("expires_at", utc(timezone=True), nullable=False),
        sa.Column("used_at", utc(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_oauth_states")),
    )
    op.create_table(
        "claritalk_connections",
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("secret_name", sa.String(length=191), nullable=False),
        sa.Column("claritalk_user_id", sa.String(length=191), nullable=True),
        sa.Column("claritalk_name", sa.String(length=255), nullable=True),
        sa.Column("claritalk_email", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("connected_at", utc(timezone=True), nullable=False),
        sa.Column("refreshed_at", utc(timezone=True), nullable=False),
        sa.Column("access_expires_at", utc(timezone=True), nullable=True),
        sa.Column("lapsed_at", utc(timezone=True), nullable=True),
        sa.Column("lapsed_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("slack_user_id", name=op.f("pk_claritalk_connections")),
    )
    op.create_index(
        op.f("ix_claritalk_connections_claritalk_user_id"),
        "claritalk_connections",
        ["claritalk_user_id"],
        unique=False,
    )
    op.create_table(
        "claritalk_reports",
        sa.Column("meeting_id", sa.String(length=191), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("received_at", utc(timezone=True), nullable=False),
        sa.Column("file_id", sa.String(length=32), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("done_at", utc(timezone=True), nullable=True),
        sa.Column("lease_until", utc(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_claritalk_reports")),
    )


def downgrade() -> None:
    op.drop_table("claritalk_reports")
    op.drop_index(
        op.f("ix_claritalk_connections_claritalk_user_id"), table_name="claritalk_connections"
    )
    op.drop_table("claritalk_connections")
    op.drop_table("oauth_states")
    op.drop_table("stored_secrets")
