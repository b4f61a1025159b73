"""category corrections: what caseworkers teach the classifier

Revision ID: 0005_category_corrections
Revises: 0004_outbox_failures
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types

revision = '0005_category_corrections'
down_revision = '0004_outbox_failures'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('categorycorrection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('category_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('previous_category_id', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('removed_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('removed_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['caseworker.id'], ),
    sa.ForeignKeyConstraint(['removed_by'], ['caseworker.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['request.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_categorycorrection_request_id'), 'categorycorrection', ['request_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_categorycorrection_request_id'), table_name='categorycorrection')
    op.drop_table('categorycorrection')
