"""visits: mobile-unit visits, bookings, subscriptions, service questions

Revision ID: 0008_visits
Revises: 0007_inbox
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import sqlmodel
import storage.types

revision = '0008_visits'
down_revision = '0007_inbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('locality_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('starts_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('ends_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('services', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('limits', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['locality_id'], ['locality.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('locality_id', 'starts_at', name='uq_visit_place_time')
    )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_locality_id'), ['locality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_starts_at'), ['starts_at'], unique=False)

    op.create_table('booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=True),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('service_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], ),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('visit_id', 'number', name='uq_booking_number')
    )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_citizen_id'), ['citizen_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_booking_visit_id'), ['visit_id'], unique=False)

    op.create_table('servicequestion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=True),
    sa.Column('locality_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('service_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('visit_scheduled', sa.Boolean(), nullable=False),
    sa.Column('asked_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], ),
    sa.ForeignKeyConstraint(['locality_id'], ['locality.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('servicequestion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_servicequestion_citizen_id'), ['citizen_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_servicequestion_locality_id'), ['locality_id'], unique=False)

    op.create_table('visitsubscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('locality_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], ),
    sa.ForeignKeyConstraint(['locality_id'], ['locality.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('citizen_id', 'locality_id', name='uq_subscription')
    )
    with op.batch_alter_table('visitsubscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visitsubscription_citizen_id'), ['citizen_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visitsubscription_locality_id'), ['locality_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('visitsubscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visitsubscription_locality_id'))
        batch_op.drop_index(batch_op.f('ix_visitsubscription_citizen_id'))

    op.drop_table('visitsubscription')
    with op.batch_alter_table('servicequestion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_servicequestion_locality_id'))
        batch_op.drop_index(batch_op.f('ix_servicequestion_citizen_id'))

    op.drop_table('servicequestion')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_visit_id'))
        batch_op.drop_index(batch_op.f('ix_booking_citizen_id'))

    op.drop_table('booking')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_starts_at'))
        batch_op.drop_index(batch_op.f('ix_visit_locality_id'))

    op.drop_table('visit')
