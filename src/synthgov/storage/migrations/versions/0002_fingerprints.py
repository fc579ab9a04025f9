"""Watermark payloads and PDQ fingerprints on generation records.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generation_records") as batch:
        batch.add_column(sa.Column("watermark_payload", sa.String(16), nullable=True))
        batch.add_column(sa.Column("fingerprint", sa.LargeBinary(32), nullable=True))
        batch.add_column(sa.Column("fingerprint_quality", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_generation_records_watermark_payload"), ["watermark_payload"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("generation_records") as batch:
        batch.drop_index(batch.f("ix_generation_records_watermark_payload"))
        batch.drop_column("fingerprint_quality")
        batch.drop_column("fingerprint")
        batch.drop_column("watermark_payload")
