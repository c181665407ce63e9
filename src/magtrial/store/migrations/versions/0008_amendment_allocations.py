"""amendments of a running trial, with the sealed allocation of the cycles they add

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "amendments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trial_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("from_period", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cycles_added", sa.Integer(), nullable=False),
        sa.Column("first_added_period", sa.Integer(), nullable=True),
        sa.Column("sealed", sa.Text(), nullable=True),
        sa.Column("commitment", sa.String(length=64), nullable=True),
        sa.Column("revealed_sequence", sa.Text(), nullable=True),
        sa.Column("revealed_salt", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["trial_id"], ["trials.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("trial_id", "number", name="uq_amendment_number"),
    )
    op.create_index(op.f("ix_amendments_trial_id"), "amendments", ["trial_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_amendments_trial_id"), table_name="amendments")
    op.drop_table("amendments")
