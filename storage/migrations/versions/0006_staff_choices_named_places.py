"""staff remember the choices shown to them; places citizens named

Revision ID: 0006_staff_choices_named_places
Revises: 0005_category_corrections
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import sqlmodel
import storage.types

revision = '0006_staff_choices_named_places'
down_revision = '0005_category_corrections'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('caseworker', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shown', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False, server_default='[]'))
    op.create_table('namedplace',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('parent_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('citizen_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], ),
    sa.ForeignKeyConstraint(['parent_id'], ['locality.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('namedplace', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_namedplace_citizen_id'), ['citizen_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_namedplace_parent_id'), ['parent_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('namedplace', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_namedplace_parent_id'))
        batch_op.drop_index(batch_op.f('ix_namedplace_citizen_id'))
    op.drop_table('namedplace')
    with op.batch_alter_table('caseworker', schema=None) as batch_op:
        batch_op.drop_column('shown')
