"""setting_overrides (admin-edited settings), who acknowledged a staff alert, post covers

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 16:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('setting_overrides',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_setting_overrides'))
    )
    with op.batch_alter_table('staff_alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acknowledged_by', sa.String(length=64), nullable=True))
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cover_file', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('thumb_media_id', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('thumb_media_id')
        batch_op.drop_column('cover_file')
    with op.batch_alter_table('staff_alerts', schema=None) as batch_op:
        batch_op.drop_column('acknowledged_by')
    op.drop_table('setting_overrides')
