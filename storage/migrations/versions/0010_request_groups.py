"""request.group_id: neighbours' reports of one problem, linked into one group

Revision ID: 0010_request_groups
Revises: 0009_request_import_key
"""
from alembic import op
import sqlalchemy as sa

revision = '0010_request_groups'
down_revision = '0009_request_import_key'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_request_group_id'), ['group_id'], unique=False)
        batch_op.create_foreign_key('fk_request_group_id', 'request', ['group_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.drop_constraint('fk_request_group_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_request_group_id'))
        batch_op.drop_column('group_id')
