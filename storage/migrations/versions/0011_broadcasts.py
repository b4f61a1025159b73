"""broadcasts: announcements, district channels, bazaar days; message.broadcast_id and priority

Revision ID: 0011_broadcasts
Revises: 0010_request_groups
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import sqlmodel
import storage.types

revision = '0011_broadcasts'
down_revision = '0010_request_groups'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('broadcast',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('texts', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('fallback', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('audience', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('send_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('cursor', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('occurrence', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('confirmed_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('confirmed_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('finished_at', storage.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('occurrence', name='uq_broadcast_occurrence')
    )
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcast_status'), ['status'], unique=False)

    op.create_table('bazaarday',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('locality_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('nth', sa.Integer(), nullable=True),
    sa.Column('at', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('texts', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('fallback', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('audience', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['locality_id'], ['locality.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bazaarday', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bazaarday_locality_id'), ['locality_id'], unique=False)

    op.create_table('broadcastchannel',
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('locality_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('added_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('added_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['locality_id'], ['locality.id'], ),
    sa.PrimaryKeyConstraint('address')
    )
    with op.batch_alter_table('broadcastchannel', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcastchannel_locality_id'), ['locality_id'], unique=False)

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('broadcast_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('priority', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index(batch_op.f('ix_message_broadcast_id'), ['broadcast_id'], unique=False)
        batch_op.create_foreign_key('fk_message_broadcast_id', 'broadcast', ['broadcast_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_constraint('fk_message_broadcast_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_message_broadcast_id'))
        batch_op.drop_column('priority')
        batch_op.drop_column('broadcast_id')

    with op.batch_alter_table('broadcastchannel', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broadcastchannel_locality_id'))

    op.drop_table('broadcastchannel')
    with op.batch_alter_table('bazaarday', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bazaarday_locality_id'))

    op.drop_table('bazaarday')
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broadcast_status'))

    op.drop_table('broadcast')
