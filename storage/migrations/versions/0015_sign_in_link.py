"""sign_in_link: one-time links to the dashboard, each a hash of its token

Revision ID: 0015_sign_in_link
Revises: 0014_api_key
"""
from alembic import op
import sqlalchemy as sa

from storage.types import UTCDateTime

revision = '0015_sign_in_link'
down_revision = '0014_api_key'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sign_in_link',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('caseworker_id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.Column('used_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['caseworker_id'], ['caseworker.id']),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    op.create_index(op.f('ix_sign_in_link_caseworker_id'), 'sign_in_link', ['caseworker_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sign_in_link_caseworker_id'), table_name='sign_in_link')
    op.drop_table('sign_in_link')
