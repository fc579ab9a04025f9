"""Generation records, API keys, the audit log (events, Merkle nodes, tree heads, holds).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from synthgov.storage.base import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "generation_records",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("produce_id", sa.String(128), nullable=False),
        sa.Column("producer_code", sa.String(64), nullable=False),
        sa.Column("label_value", sa.String(1), nullable=False),
        sa.Column("service", sa.String(128), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("user_ref", sa.String(256), nullable=True),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("modality", sa.String(32), nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("input_sha256", sa.String(64), nullable=False),
        sa.Column("output_sha256", sa.String(64), nullable=False),
        sa.Column("labels_applied", sa.JSON(), nullable=False),
        sa.Column("metadata_label", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=True),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generation_records")),
    )
    with op.batch_alter_table("generation_records") as batch:
        batch.create_index(batch.f("ix_generation_records_produce_id"), ["produce_id"], unique=True)
        batch.create_index(batch.f("ix_generation_records_user_ref"), ["user_ref"])
        batch.create_index(batch.f("ix_generation_records_created_at"), ["created_at"])
        batch.create_index(batch.f("ix_generation_records_input_sha256"), ["input_sha256"])
        batch.create_index(batch.f("ix_generation_records_output_sha256"), ["output_sha256"])

    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("secret_sha256", name=op.f("uq_api_keys_secret_sha256")),
    )

    op.create_table(
        "audit_events",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=True),
        sa.Column("subject", sa.String(128), nullable=True),
        sa.Column("leaf", sa.Text(), nullable=True),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("purged_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events") as batch:
        batch.create_index(batch.f("ix_audit_events_kind"), ["kind"])
        batch.create_index(batch.f("ix_audit_events_at"), ["at"])
        batch.create_index(batch.f("ix_audit_events_subject"), ["subject"])
    op.create_table(
        "audit_nodes",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_nodes")),
    )
    state = op.create_table(
        "audit_log_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("hash_alg", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log_state")),
    )
    op.bulk_insert(state, [{"id": 1, "size": 0, "hash_alg": None}])
    op.create_table(
        "audit_tree_heads",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("hash_alg", sa.String(16), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("sig_alg", sa.String(16), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_audit_tree_heads")),
    )
    op.create_table(
        "audit_holds",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(128), nullable=True),
        sa.Column("kind", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("released_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_holds")),
    )
    with op.batch_alter_table("audit_holds") as batch:
        batch.create_index(batch.f("ix_audit_holds_subject"), ["subject"])


def downgrade() -> None:
    for table in ("audit_holds", "audit_tree_heads", "audit_log_state", "audit_nodes"):
        op.drop_table(table)
    op.drop_table("audit_events")
    op.drop_table("api_keys")
    op.drop_table("generation_records")
