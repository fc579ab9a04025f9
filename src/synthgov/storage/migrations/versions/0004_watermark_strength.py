"""How strong each record's watermark is (the read-back margin on a JPEG copy, PSNR, expected robustness).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # records marked before this revision have no measure of their mark (NULL: not known)
    with op.batch_alter_table("generation_records") as batch:
        batch.add_column(sa.Column("watermark_strength", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("generation_records") as batch:
        batch.drop_column("watermark_strength")
