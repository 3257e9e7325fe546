"""treatment places near a ZIP code, cached a day

Revision ID: 5d2f8e7a9c41
Revises: 5e0c2b7d9a41
Create Date: 2026-11-28 06:50:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '5d2f8e7a9c41'
down_revision = '5e0c2b7d9a41'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('treatment_places',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('zip', sa.String(length=5), nullable=False),
    sa.Column('filter', sa.String(length=16), nullable=False),
    sa.Column('miles', sa.Integer(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(), nullable=False),
    sa.Column('places', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('zip', 'filter', 'miles')
    )
    with op.batch_alter_table('treatment_places', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_treatment_places_fetched_at'), ['fetched_at'], unique=False)


def downgrade():
    with op.batch_alter_table('treatment_places', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_treatment_places_fetched_at'))

    op.drop_table('treatment_places')
