"""a texter's place in the menu moves from an SMS conversation row onto their contact row,
so that a text updates one row instead of two

Revision ID: 3f6b2d8e4a19
Revises: 9b3f1c6d2a70
Create Date: 2026-11-28 16:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '3f6b2d8e4a19'
down_revision = '9b3f1c6d2a70'
branch_labels = None
depends_on = None

_BATCH = 1000


def _tables():
    metadata = sa.MetaData()
    contacts = sa.Table('contacts', metadata, sa.Column('number_hash', sa.String(64), primary_key=True),
                        sa.Column('state', sa.JSON(none_as_null=True)),
                        sa.Column('updated_at', sa.DateTime()))
    conversations = sa.Table('conversations', metadata, sa.Column('id', sa.Integer, primary_key=True),
                             sa.Column('channel', sa.String(8)), sa.Column('key', sa.String(64)),
                             sa.Column('state', sa.JSON()), sa.Column('created_at', sa.DateTime()),
                             sa.Column('updated_at', sa.DateTime()))
    return contacts, conversations


def upgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.JSON(none_as_null=True), nullable=True))
    # Texters in the middle of the menu keep their place: each state is copied (in batches,
    # through SQLAlchemy's JSON type, so both databases read it alike), then the rows go.
    contacts, conversations = _tables()
    bind = op.get_bind()
    rows = bind.execute(sa.select(conversations.c.key, conversations.c.state)
                        .where(conversations.c.channel == 'sms', conversations.c.state.is_not(None))).all()
    copy = (sa.update(contacts).where(contacts.c.number_hash == sa.bindparam('key'))
            .values(state=sa.bindparam('new_state')))
    states = [{'key': key, 'new_state': state} for key, state in rows if state is not None]  # JSON null
    for start in range(0, len(states), _BATCH):
        bind.execute(copy, states[start:start + _BATCH])
    op.execute("DELETE FROM conversations WHERE channel = 'sms'")


def downgrade():
    contacts, conversations = _tables()
    bind = op.get_bind()
    rows = bind.execute(sa.select(contacts.c.number_hash, contacts.c.state, contacts.c.updated_at)
                        .where(contacts.c.state.is_not(None))).all()
    back = [{'channel': 'sms', 'key': key, 'state': state, 'created_at': at, 'updated_at': at}
            for key, state, at in rows]
    for start in range(0, len(back), _BATCH):
        bind.execute(sa.insert(conversations), back[start:start + _BATCH])
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('state')
