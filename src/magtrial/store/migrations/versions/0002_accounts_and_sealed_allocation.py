"""accounts, unblinding keys, and the allocation stored only as ciphertext

Trials created under 0001 kept sequence and salt in clear. Unblinded ones move them to the
``revealed_*`` columns; still-blinded ones keep them as ``legacy_*`` (they can be unblinded, but
their blinding never held against the file owner; ``magtrial audit verify`` says so).

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
    op.create_table(
        "accounts",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "unblinding_keys",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner"], ["accounts.name"]),
        sa.PrimaryKeyConstraint("fingerprint"),
    )
    op.add_column("trials", sa.Column("clinician", sa.String(length=100), nullable=False, server_default=""))
    op.add_column("trials", sa.Column("pharmacist", sa.String(length=100), nullable=True))
    op.add_column("trials", sa.Column("simulated", sa.Boolean(), nullable=False, server_default=sa.false()))
    # Plain ADD COLUMN (no table rebuild: other tables reference trials). The server defaults stay.
    op.execute("UPDATE trials SET clinician = created_by")
    op.create_index(op.f("ix_trials_participant"), "trials", ["participant"], unique=False)
    op.create_index(op.f("ix_trials_clinician"), "trials", ["clinician"], unique=False)

    with op.batch_alter_table("sealed_allocations") as batch_op:
        batch_op.add_column(sa.Column("sealed", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("revealed_sequence", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("revealed_salt", sa.String(length=64), nullable=True))
        batch_op.alter_column("sequence", new_column_name="legacy_sequence", existing_type=sa.Text(), nullable=True)
        batch_op.alter_column("salt", new_column_name="legacy_salt", existing_type=sa.String(length=64), nullable=True)
    op.execute(
        "UPDATE sealed_allocations SET revealed_sequence = legacy_sequence, revealed_salt = legacy_salt "
        "WHERE trial_id IN (SELECT id FROM trials WHERE status = 'unblinded')"
    )
    op.execute(
        "UPDATE sealed_allocations SET legacy_sequence = NULL, legacy_salt = NULL "
        "WHERE trial_id IN (SELECT id FROM trials WHERE status = 'unblinded')"
    )


def downgrade() -> None:
    raise NotImplementedError("magtrial migrations go forward only; restore a backup instead")
