"""a dialback that was never closed expires

Revision ID: 5d2f8b6e1c47
Revises: e1a7c3d95b20
Create Date: 2026-11-28 06:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '5d2f8b6e1c47'
down_revision = 'e1a7c3d95b20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dialing_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_column('dialing_at')
