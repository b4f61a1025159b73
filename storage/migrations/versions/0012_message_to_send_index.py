"""message: a partial index on what the outbox still has to send, in claim order

Revision ID: 0012_message_to_send_index
Revises: 0011_broadcasts
"""
from alembic import op
import sqlalchemy as sa

revision = '0012_message_to_send_index'
down_revision = '0011_broadcasts'
branch_labels = None
depends_on = None

TO_SEND = "direction = 'out' AND status IN ('queued', 'retry', 'sending')"


def upgrade() -> None:
    op.create_index('ix_message_to_send', 'message', ['priority', 'id'], unique=False,
                    sqlite_where=sa.text(TO_SEND), postgresql_where=sa.text(TO_SEND))


def downgrade() -> None:
    op.drop_index('ix_message_to_send', table_name='message')
