"""blinding-check answers and adaptive-stopping decisions (reason sealed to the unblinding keys)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blinding_guesses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trial_id", sa.String(length=36), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("guess", sa.String(length=12), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["trial_id"], ["trials.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("trial_id", "period", name="uq_blinding_guess_period"),
    )
    op.create_index(op.f("ix_blinding_guesses_trial_id"), "blinding_guesses", ["trial_id"], unique=False)
    op.create_table(
        "stopping_decisions",
        sa.Column("trial_id", sa.String(length=36), nullable=False),
        sa.Column("cycle", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["trial_id"], ["trials.id"]),
        sa.PrimaryKeyConstraint("trial_id", "cycle"),
    )


def downgrade() -> None:
    op.drop_table("stopping_decisions")
    op.drop_index(op.f("ix_blinding_guesses_trial_id"), table_name="blinding_guesses")
    op.drop_table("blinding_guesses")
