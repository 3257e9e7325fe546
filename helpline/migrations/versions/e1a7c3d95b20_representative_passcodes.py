"""representative passcodes, wrong passcodes and PINs counted across calls

Revision ID: e1a7c3d95b20
Revises: 5d2f8e7a9c41
Create Date: 2026-11-28 06:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'e1a7c3d95b20'
down_revision = '5d2f8e7a9c41'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('representatives', schema=None) as batch_op:
        batch_op.add_column(sa.Column('passcode_hash', sa.String(length=64), nullable=True))
    op.create_table('rep_auth_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('rep_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rep_auth_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rep_auth_failures_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_rep_auth_failures_rep_id'), ['rep_id'], unique=False)


def downgrade():
    with op.batch_alter_table('rep_auth_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rep_auth_failures_rep_id'))
        batch_op.drop_index(batch_op.f('ix_rep_auth_failures_at'))
    op.drop_table('rep_auth_failures')
    with op.batch_alter_table('representatives', schema=None) as batch_op:
        batch_op.drop_column('passcode_hash')
