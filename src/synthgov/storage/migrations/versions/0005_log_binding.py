"""Tamper evidence against the operator: leaf version 2 (a private part retention purges), rows
bound to their log entry, and the witness's record of the logs it cosigns.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from synthgov.storage.base import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # entries appended before this revision keep their version 1 leaves (private stays NULL)
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("private", sa.Text(), nullable=True))
    # records made before this revision have no log entry that vouches for them (NULL)
    with op.batch_alter_table("generation_records") as batch:
        batch.add_column(sa.Column("log_index", sa.BigInteger(), nullable=True))
        batch.create_index("ix_generation_records_log_index", ["log_index"])
    # API keys made before this revision are not bound either: make them again (`synthgov apikey create`)
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("log_index", sa.BigInteger(), nullable=True))
        batch.create_index("ix_api_keys_log_index", ["log_index"])
    op.create_table(
        "witness_checkpoints",
        sa.Column("origin", sa.String(256), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("origin", name="pk_witness_checkpoints"),
    )


def downgrade() -> None:
    op.drop_table("witness_checkpoints")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_index("ix_api_keys_log_index")
        batch.drop_column("log_index")
    with op.batch_alter_table("generation_records") as batch:
        batch.drop_index("ix_generation_records_log_index")
        batch.drop_column("log_index")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("private")
