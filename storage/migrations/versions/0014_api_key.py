"""api_key: the clients of the Open311 API, each with the hash of its key

Revision ID: 0014_api_key
Revises: 0013_conversation_revision
"""
from alembic import op
import sqlalchemy as sa

from storage.types import UTCDateTime

revision = '0014_api_key'
down_revision = '0013_conversation_revision'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'api_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('last_used_at', UTCDateTime(), nullable=True),
        sa.Column('revoked_at', UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key_hash'),
    )


def downgrade() -> None:
    op.drop_table('api_key')
