"""retention: indexes for the purge's queries (rows by age in every table that grows)

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-07 01:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

#: (index, table, columns): what the purge looks rows up by (handlers/retention.py).
INDEXES = (
    ("ix_jobs_finished", "jobs", ["status", "finished_at"]),
    ("ix_inbox_received_at", "inbox", ["received_at"]),
    ("ix_slack_posts_updated_at", "slack_posts", ["updated_at"]),
    ("ix_attendee_bots_updated_at", "attendee_bots", ["updated_at"]),
    ("ix_whereby_rooms_updated_at", "whereby_rooms", ["updated_at"]),
    ("ix_digests_created_at", "digests", ["created_at"]),
    ("ix_held_digests_held_at", "held_digests", ["held_at"]),
    ("ix_action_items_updated_at", "action_items", ["updated_at"]),
    ("ix_reminders_sent_claimed_at", "reminders_sent", ["claimed_at"]),
    ("ix_slack_email_lookups_looked_up_at", "slack_email_lookups", ["looked_up_at"]),
    ("ix_slack_permalinks_created_at", "slack_permalinks", ["created_at"]),
    ("ix_oauth_states_expires_at", "oauth_states", ["expires_at"]),
    ("ix_claritalk_reports_received_at", "claritalk_reports", ["received_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
