"""outbox failures: when a message started failing and when it was given up

Revision ID: 0004_outbox_failures
Revises: 0003_privacy
"""
from alembic import op
import sqlalchemy as sa
import storage.types

revision = "0004_outbox_failures"
down_revision = "0003_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failing_since", storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("failed_at", storage.types.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_message_failed_at"), ["failed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_failed_at"))
        batch_op.drop_column("failed_at")
        batch_op.drop_column("failing_since")
