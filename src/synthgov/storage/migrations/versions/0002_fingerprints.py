"""PDQ fingerprints on generation records.

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
        batch.add_column(sa.Column("fingerprint", sa.LargeBinary(32), nullable=True))
        batch.add_column(sa.Column("fingerprint_quality", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("generation_records") as batch:
        batch.drop_column("fingerprint_quality")
        batch.drop_column("fingerprint")
