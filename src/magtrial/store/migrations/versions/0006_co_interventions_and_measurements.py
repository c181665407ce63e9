"""co-interventions, clinic measurements, late-entry approvals

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "co_interventions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trial_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("dose", sa.String(length=200), nullable=False),
        sa.Column("elemental_mg", sa.Float(), nullable=True),
        sa.Column("given_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["trial_id"], ["trials.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_co_interventions_trial_id"), "co_interventions", ["trial_id"], unique=False)
    op.create_table(
        "clinic_measurements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trial_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("item", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["trial_id"], ["trials.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_clinic_measurements_trial_id"), "clinic_measurements", ["trial_id"], unique=False)
    op.create_table(
        "late_entry_approvals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trial_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["trial_id"], ["trials.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("trial_id", "day", name="uq_late_approval_day"),
    )
    op.create_index(op.f("ix_late_entry_approvals_trial_id"), "late_entry_approvals", ["trial_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_late_entry_approvals_trial_id"), table_name="late_entry_approvals")
    op.drop_table("late_entry_approvals")
    op.drop_index(op.f("ix_clinic_measurements_trial_id"), table_name="clinic_measurements")
    op.drop_table("clinic_measurements")
    op.drop_index(op.f("ix_co_interventions_trial_id"), table_name="co_interventions")
    op.drop_table("co_interventions")
