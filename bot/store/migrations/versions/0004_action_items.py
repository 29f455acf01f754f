"""action items people own: items and their changes, reminders, email and permalink caches

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 12:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "action_items",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("meeting_id", sa.String(length=191), nullable=False),
        sa.Column("item_key", sa.String(length=191), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("meeting_title", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("provider_assignee_name", sa.String(length=255), nullable=True),
        sa.Column("provider_assignee_email", sa.String(length=255), nullable=True),
        sa.Column("assignee_id", sa.String(length=32), nullable=True),
        sa.Column("suggested", sa.Boolean(), nullable=False),
        sa.Column("assigned_by", sa.String(length=32), nullable=True),
        sa.Column("assigned_at", bot.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("due_set_by", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("closed_by", sa.String(length=32), nullable=True),
        sa.Column("closed_at", bot.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reopened_by", sa.String(length=32), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_items")),
        sa.UniqueConstraint(
            "provider", "meeting_id", "item_key", name=op.f("uq_action_items_provider")
        ),
    )
    op.create_index("ix_action_items_assignee", "action_items", ["assignee_id", "status"])
    op.create_index("ix_action_items_assigned_by", "action_items", ["assigned_by", "status"])
    op.create_table(
        "action_item_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=True),
        sa.Column("before", sa.String(length=64), nullable=True),
        sa.Column("after", sa.String(length=64), nullable=True),
        sa.Column("action_key", sa.String(length=191), nullable=True),
        sa.Column("created_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["action_items.id"],
            name=op.f("fk_action_item_events_item_id_action_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_item_events")),
        sa.UniqueConstraint("action_key", name=op.f("uq_action_item_events_action_key")),
    )
    op.create_index(
        op.f("ix_action_item_events_item_id"), "action_item_events", ["item_id"], unique=False
    )
    op.create_table(
        "reminder_preferences",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_reminder_preferences")),
    )
    op.create_table(
        "reminders_sent",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("job_id", BIG_ID, nullable=True),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("claimed_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", bot.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "local_date", name=op.f("pk_reminders_sent")),
    )
    op.create_table(
        "slack_email_lookups",
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("looked_up_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_slack_email_lookups")),
    )
    op.create_table(
        "slack_permalinks",
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "ts", name=op.f("pk_slack_permalinks")),
    )


def downgrade() -> None:
    op.drop_table("slack_permalinks")
    op.drop_table("slack_email_lookups")
    op.drop_table("reminders_sent")
    op.drop_table("reminder_preferences")
    op.drop_index(op.f("ix_action_item_events_item_id"), table_name="action_item_events")
    op.drop_table("action_item_events")
    op.drop_index("ix_action_items_assigned_by", table_name="action_items")
    op.drop_index("ix_action_items_assignee", table_name="action_items")
    op.drop_table("action_items")
