"""the worker: chat timers, check-ins, heartbeats

Revision ID: 5e0c2b7d9a41
Revises: d4e7a2b91c05
Create Date: 2026-11-28 06:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '5e0c2b7d9a41'
down_revision = 'd4e7a2b91c05'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('escalated', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('last_message_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('idle_asked', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table('checkins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('texter_hash', sa.String(length=64), nullable=False),
    sa.Column('texter_encrypted', sa.Text(), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('offered_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkins_texter_hash'), ['texter_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkins_due_at'), ['due_at'], unique=False)
    op.create_table('worker_beats',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade():
    op.drop_table('worker_beats')
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkins_due_at'))
        batch_op.drop_index(batch_op.f('ix_checkins_texter_hash'))
    op.drop_table('checkins')
    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.drop_column('idle_asked')
        batch_op.drop_column('last_message_at')
        batch_op.drop_column('escalated')
        batch_op.drop_column('reminders')
