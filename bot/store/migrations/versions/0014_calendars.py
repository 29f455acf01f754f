"""calendars: the calendar autopilot's calendars, policies and events; calendar bots

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.models

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    utc = bot.store.models.UTCDateTime
    op.create_table(
        "calendars",
        sa.Column("calendar_id", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("deduplication_key", sa.String(length=191), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_detail", sa.Text(), nullable=True),
        sa.Column("last_synced_at", utc(timezone=True), nullable=True),
        sa.Column("events_cursor", utc(timezone=True), nullable=True),
        sa.Column("created_at", utc(timezone=True), nullable=False),
        sa.Column("updated_at", utc(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("calendar_id", name=op.f("pk_calendars")),
    )
    op.create_index(op.f("ix_calendars_user_id"), "calendars", ["user_id"])
    op.create_table(
        "calendar_policies",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("never_words", sa.JSON(), nullable=False),
        sa.Column("never_series", sa.JSON(), nullable=False),
        sa.Column("updated_at", utc(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_calendar_policies")),
    )
    op.create_table(
        "calendar_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("calendar_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("series", sa.String(length=255), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("start_time", utc(timezone=True), nullable=False),
        sa.Column("end_time", utc(timezone=True), nullable=True),
        sa.Column("meeting_url", sa.Text(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("owner_choice", sa.String(length=16), nullable=True),
        sa.Column("dedup_key", sa.String(length=128), nullable=False),
        sa.Column("bot_request_id", sa.String(length=36), nullable=True),
        sa.Column("event_updated_at", utc(timezone=True), nullable=True),
        sa.Column("morning_of", sa.String(length=10), nullable=True),
        sa.Column("reminded_at", utc(timezone=True), nullable=True),
        sa.Column("created_at", utc(timezone=True), nullable=False),
        sa.Column("updated_at", utc(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_calendar_events_event_id")),
    )
    op.create_index(op.f("ix_calendar_events_calendar_id"), "calendar_events", ["calendar_id"])
    op.create_index(op.f("ix_calendar_events_user_id"), "calendar_events", ["user_id"])
    op.create_index(op.f("ix_calendar_events_start_time"), "calendar_events", ["start_time"])
    op.create_index(op.f("ix_calendar_events_updated_at"), "calendar_events", ["updated_at"])
    with op.batch_alter_table("attendee_bots") as batch:
        batch.add_column(sa.Column("calendar_event_id", sa.String(length=64), nullable=True))
        batch.create_index(
            batch.f("ix_attendee_bots_calendar_event_id"), ["calendar_event_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("attendee_bots") as batch:
        batch.drop_index(batch.f("ix_attendee_bots_calendar_event_id"))
        batch.drop_column("calendar_event_id")
    op.drop_table("calendar_events")
    op.drop_table("calendar_policies")
    op.drop_table("calendars")
