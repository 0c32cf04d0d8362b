"""ix_messages_report also covers the tier: the per-month counts tell chit-chat (tier "chat") apart

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 04:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_report')
        batch_op.create_index('ix_messages_report', ['received_at', 'outcome', 'event', 'entry_id', 'tier'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_report')
        batch_op.create_index('ix_messages_report', ['received_at', 'outcome', 'event', 'entry_id'], unique=False)
