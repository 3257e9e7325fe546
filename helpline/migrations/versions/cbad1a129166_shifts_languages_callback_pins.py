"""shifts, languages, callback PINs

Revision ID: cbad1a129166
Revises: 84c5b63ec0dd
Create Date: 2026-11-25 16:55:47.060167
"""
import sqlalchemy as sa
from alembic import op

revision = 'cbad1a129166'
down_revision = '84c5b63ec0dd'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('shifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rep_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start', sa.String(length=5), nullable=False),
    sa.Column('end', sa.String(length=5), nullable=False),
    sa.ForeignKeyConstraint(['rep_id'], ['representatives.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shifts_rep_id'), ['rep_id'], unique=False)

    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voicemail_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('pin_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('pin_expires_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('dialing', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_callbacks_pin_hash'), ['pin_hash'], unique=False)
        batch_op.create_foreign_key('fk_callbacks_voicemail_id', 'voicemails', ['voicemail_id'], ['id'],
                                    ondelete='SET NULL')

    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offered_to_all', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))

    with op.batch_alter_table('representatives', schema=None) as batch_op:
        batch_op.add_column(sa.Column('off_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('languages', sa.String(length=40), nullable=False,
                                      server_default='en'))



def downgrade():
    with op.batch_alter_table('representatives', schema=None) as batch_op:
        batch_op.drop_column('languages')
        batch_op.drop_column('off_until')

    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.drop_column('offered_to_all')

    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_constraint('fk_callbacks_voicemail_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_callbacks_pin_hash'))
        batch_op.drop_column('dialing')
        batch_op.drop_column('pin_expires_at')
        batch_op.drop_column('pin_hash')
        batch_op.drop_column('voicemail_id')

    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shifts_rep_id'))

    op.drop_table('shifts')
