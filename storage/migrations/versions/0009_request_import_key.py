"""request.import_key: a row of an old spreadsheet is imported once

Revision ID: 0009_request_import_key
Revises: 0008_visits
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0009_request_import_key'
down_revision = '0008_visits'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.create_unique_constraint('uq_request_import_key', ['import_key'])


def downgrade() -> None:
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.drop_constraint('uq_request_import_key', type_='unique')
        batch_op.drop_column('import_key')
