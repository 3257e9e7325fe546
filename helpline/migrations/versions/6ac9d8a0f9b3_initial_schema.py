"""initial schema

Revision ID: 6ac9d8a0f9b3
Revises:
Create Date: 2026-11-25 16:41:57.929265
"""
import sqlalchemy as sa
from alembic import op

revision = '6ac9d8a0f9b3'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('callbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('caller_hash', sa.String(length=64), nullable=False),
    sa.Column('number_encrypted', sa.Text(), nullable=True),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callbacks_caller_hash'), ['caller_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_callbacks_created_at'), ['created_at'], unique=False)

    op.create_table('contacts',
    sa.Column('number_hash', sa.String(length=64), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=True),
    sa.Column('opted_out', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('window_start', sa.DateTime(), nullable=True),
    sa.Column('window_count', sa.Integer(), nullable=False),
    sa.Column('limit_noticed', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('number_hash')
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_updated_at'), ['updated_at'], unique=False)

    op.create_table('conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('caller_hash', sa.String(length=64), nullable=True),
    sa.Column('state', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('waiting_since', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'key')
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversations_updated_at'), ['updated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversations_waiting_since'), ['waiting_since'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_name'), ['name'], unique=False)

    op.create_table('receipts',
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sid')
    )
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipts_at'), ['at'], unique=False)

    op.create_table('representatives',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number_hash', sa.String(length=64), nullable=False),
    sa.Column('number_encrypted', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=True),
    sa.Column('on_duty', sa.Boolean(), nullable=False),
    sa.Column('on_call', sa.String(length=64), nullable=True),
    sa.Column('on_call_since', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number_hash')
    )
    op.create_table('voicemails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_sid', sa.String(length=64), nullable=False),
    sa.Column('caller_hash', sa.String(length=64), nullable=True),
    sa.Column('recording_url', sa.Text(), nullable=False),
    sa.Column('recording_sid', sa.String(length=64), nullable=True),
    sa.Column('duration', sa.Integer(), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_sid')
    )
    with op.batch_alter_table('voicemails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voicemails_created_at'), ['created_at'], unique=False)

    op.create_table('chats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('texter_hash', sa.String(length=64), nullable=False),
    sa.Column('texter_encrypted', sa.Text(), nullable=True),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('rep_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('texter_messages', sa.Integer(), nullable=False),
    sa.Column('rep_messages', sa.Integer(), nullable=False),
    sa.Column('told_waiting', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['rep_id'], ['representatives.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chats_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_chats_ended_at'), ['ended_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_chats_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_chats_texter_hash'), ['texter_hash'], unique=False)




def downgrade():

    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chats_texter_hash'))
        batch_op.drop_index(batch_op.f('ix_chats_status'))
        batch_op.drop_index(batch_op.f('ix_chats_ended_at'))
        batch_op.drop_index(batch_op.f('ix_chats_code'))

    op.drop_table('chats')
    with op.batch_alter_table('voicemails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voicemails_created_at'))

    op.drop_table('voicemails')
    op.drop_table('representatives')
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipts_at'))

    op.drop_table('receipts')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_name'))
        batch_op.drop_index(batch_op.f('ix_events_at'))

    op.drop_table('events')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversations_waiting_since'))
        batch_op.drop_index(batch_op.f('ix_conversations_updated_at'))

    op.drop_table('conversations')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_updated_at'))

    op.drop_table('contacts')
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callbacks_created_at'))
        batch_op.drop_index(batch_op.f('ix_callbacks_caller_hash'))

    op.drop_table('callbacks')

