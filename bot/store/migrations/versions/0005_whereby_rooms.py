"""whereby rooms: rooms opened from Slack, their message and their session state

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = bot.store.models.UTCDateTime(timezone=True)
    op.create_table(
        "whereby_rooms",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("meeting_id", sa.String(length=64), nullable=True),
        sa.Column("room_name", sa.String(length=191), nullable=True),
        sa.Column("room_url", sa.Text(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("name_prefix", sa.String(length=39), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("creator_id", sa.String(length=32), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("end_at", moment, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_detail", sa.Text(), nullable=True),
        sa.Column("closed_by", sa.String(length=32), nullable=True),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("session_started_at", moment, nullable=True),
        sa.Column("session_ended_at", moment, nullable=True),
        sa.Column("session_first_at", moment, nullable=True),
        sa.Column("session_last_at", moment, nullable=True),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("participants_at", moment, nullable=True),
        sa.Column("people", sa.JSON(), nullable=False),
        sa.Column("recording_id", sa.String(length=64), nullable=True),
        sa.Column("recording_at", moment, nullable=True),
        sa.Column("transcription_id", sa.String(length=64), nullable=True),
        sa.Column("summary_id", sa.String(length=64), nullable=True),
        sa.Column("digest_state", sa.String(length=16), nullable=True),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("updated_at", moment, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whereby_rooms")),
        sa.UniqueConstraint("meeting_id", name=op.f("uq_whereby_rooms_meeting_id")),
        sa.UniqueConstraint("room_name", name=op.f("uq_whereby_rooms_room_name")),
    )


def downgrade() -> None:
    op.drop_table("whereby_rooms")
