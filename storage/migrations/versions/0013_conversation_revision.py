"""conversation: a revision counted up on every write, so a write that lost a race is done again

Revision ID: 0013_conversation_revision
Revises: 0012_message_to_send_index
"""
from alembic import op
import sqlalchemy as sa

revision = '0013_conversation_revision'
down_revision = '0012_message_to_send_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_column('revision')
