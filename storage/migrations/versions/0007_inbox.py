"""inbox: updates stored before the channel is told we have them, until handled

Revision ID: 0007_inbox
Revises: 0006_staff_choices_named_places
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types

revision = '0007_inbox'
down_revision = '0006_staff_choices_named_places'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('payload', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('received_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'external_id', name='uq_inbox_external')
    )


def downgrade() -> None:
    op.drop_table('inbox')
