"""The watermark payload table (payload -> record, per scheme) and the scheme on records.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from synthgov.storage.base import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

V2 = "image/keyed-ss-v2"


def upgrade() -> None:
    with op.batch_alter_table("generation_records") as batch:
        batch.add_column(sa.Column("watermark_scheme", sa.String(64), nullable=True))
    op.create_table(
        "watermark_payloads",
        sa.Column("scheme", sa.String(64), nullable=False),
        sa.Column("payload", sa.String(32), nullable=False),
        sa.Column("record_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scheme", "payload", name=op.f("pk_watermark_payloads")),
    )
    op.create_index(op.f("ix_watermark_payloads_record_id"), "watermark_payloads", ["record_id"])
    # records marked before this revision carry the image scheme's v2 mark
    op.execute(sa.text("UPDATE generation_records SET watermark_scheme = :s WHERE watermark_payload IS NOT NULL")
               .bindparams(s=V2))
    op.execute(sa.text(
        "INSERT INTO watermark_payloads (scheme, payload, record_id, created_at) "
        "SELECT watermark_scheme, watermark_payload, id, created_at FROM generation_records "
        "WHERE watermark_payload IS NOT NULL"))


def downgrade() -> None:
    op.drop_index(op.f("ix_watermark_payloads_record_id"), table_name="watermark_payloads")
    op.drop_table("watermark_payloads")
    with op.batch_alter_table("generation_records") as batch:
        batch.drop_column("watermark_scheme")
