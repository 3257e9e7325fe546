"""what a texter writes while waiting for a person, kept encrypted on the chat

Revision ID: d4e7a2b91c05
Revises: cbad1a129166
Create Date: 2026-11-28 06:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'd4e7a2b91c05'
down_revision = 'cbad1a129166'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kept_encrypted', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.drop_column('kept_encrypted')
