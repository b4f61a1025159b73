"""personal data: one-time links to a citizen's data, the audit trail, erased and anonymized stamps

Revision ID: 0003_privacy
Revises: 0002_leases_and_message_keys
Create Date: 2026-12-03 08:33:09.959915
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types

revision = '0003_privacy'
down_revision = '0002_leases_and_message_keys'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_at'), ['at'], unique=False)

    op.create_table('data_export',
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('used_at', storage.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('data_export', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_export_citizen_id'), ['citizen_id'], unique=False)

    with op.batch_alter_table('citizen', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', storage.types.UTCDateTime(), nullable=True))

    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymized_at', storage.types.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_request_anonymized_at'), ['anonymized_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_anonymized_at'))
        batch_op.drop_column('anonymized_at')

    with op.batch_alter_table('citizen', schema=None) as batch_op:
        batch_op.drop_column('erased_at')

    with op.batch_alter_table('data_export', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_export_citizen_id'))

    op.drop_table('data_export')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_at'))

    op.drop_table('audit_entry')
