"""a texter's contact row says whether a chat may be open, so other texts skip the chat look-up

Revision ID: 9b3f1c6d2a70
Revises: 5d2f8b6e1c47
Create Date: 2026-11-28 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '9b3f1c6d2a70'
down_revision = '5d2f8b6e1c47'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chat_open', sa.Boolean(), server_default=sa.false(), nullable=False))
    # Texters waiting or in a chat now keep it.
    op.execute("UPDATE contacts SET chat_open = true WHERE number_hash IN "
               "(SELECT texter_hash FROM chats WHERE status IN ('waiting', 'active'))")


def downgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('chat_open')
