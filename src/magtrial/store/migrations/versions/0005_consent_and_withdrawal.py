"""consent versions, signatures, withdrawal and erasure

Audit events appended from here on use hash version 2: the hash covers a salted SHA-256 digest of
``old``, ``new`` and ``reason`` instead of the raw text, so an erasure can replace that text with a
tombstone and keep the digest (``content_sha256``) while the chain still verifies. Rows written before
this migration keep hash version 1.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_versions",
        sa.Column("trial_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["trial_id"], ["trials.id"]),
        sa.PrimaryKeyConstraint("trial_id", "version"),
    )
    op.create_table(
        "consent_signatures",
        sa.Column("trial_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("typed_name", sa.String(length=200), nullable=False),
        sa.Column("meaning", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_by", sa.String(length=100), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("html_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["trial_id"], ["trials.id"]),
        sa.PrimaryKeyConstraint("trial_id", "version"),
    )
    op.create_table(
        "withdrawals",
        sa.Column("trial_id", sa.String(length=36), nullable=False),
        sa.Column("choice", sa.String(length=10), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_by", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erasure_seq", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["trial_id"], ["trials.id"]),
        sa.PrimaryKeyConstraint("trial_id"),
    )
    op.add_column("audit_events", sa.Column("hash_version", sa.Integer(), server_default="1", nullable=False))
    op.add_column("audit_events", sa.Column("content_salt", sa.String(length=32), nullable=True))
    op.add_column("audit_events", sa.Column("content_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("content_sha256")
        batch.drop_column("content_salt")
        batch.drop_column("hash_version")
    op.drop_table("withdrawals")
    op.drop_table("consent_signatures")
    op.drop_table("consent_versions")
