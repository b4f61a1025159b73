"""leases shared by processes; a key for messages that must go out once

Revision ID: 0002_leases_and_message_keys
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types

revision = '0002_leases_and_message_keys'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lease',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    with op.batch_alter_table('message') as batch:
        batch.add_column(sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=True))
        batch.create_unique_constraint('uq_message_dedupe_key', ['dedupe_key'])


def downgrade() -> None:
    with op.batch_alter_table('message') as batch:
        batch.drop_constraint('uq_message_dedupe_key', type_='unique')
        batch.drop_column('dedupe_key')
    op.drop_table('lease')
