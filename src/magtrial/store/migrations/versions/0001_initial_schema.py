"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 01:54:27.434549
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('trial_id', sa.String(length=36), nullable=True),
    sa.Column('at', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.String(length=100), nullable=False),
    sa.Column('old', sa.Text(), nullable=False),
    sa.Column('new', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('reveals_allocation', sa.Boolean(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_trial_id'), ['trial_id'], unique=False)

    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('trials',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('participant', sa.String(length=100), nullable=False),
    sa.Column('protocol', sa.Text(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('commitment', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('unblinded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('flags', sa.Text(), nullable=False),
    sa.Column('safety', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('diary_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('trial_id', sa.String(length=36), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('values', sa.Text(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['trial_id'], ['trials.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('trial_id', 'day', 'version', name='uq_diary_day_version')
    )
    with op.batch_alter_table('diary_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_diary_versions_trial_id'), ['trial_id'], unique=False)

    op.create_table('effect_summaries',
    sa.Column('trial_id', sa.String(length=36), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('method', sa.String(length=40), nullable=False),
    sa.Column('grid', sa.LargeBinary(), nullable=False),
    sa.Column('log_lik', sa.LargeBinary(), nullable=False),
    sa.Column('n_days', sa.Integer(), nullable=False),
    sa.Column('condition', sa.String(length=60), nullable=False),
    sa.Column('route', sa.String(length=40), nullable=False),
    sa.Column('salt', sa.String(length=60), nullable=False),
    sa.Column('elemental_mg_per_day', sa.Float(), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['trial_id'], ['trials.id'], ),
    sa.PrimaryKeyConstraint('trial_id', 'outcome')
    )
    op.create_table('sealed_allocations',
    sa.Column('trial_id', sa.String(length=36), nullable=False),
    sa.Column('design', sa.String(length=20), nullable=False),
    sa.Column('sequence', sa.Text(), nullable=False),
    sa.Column('salt', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['trial_id'], ['trials.id'], ),
    sa.PrimaryKeyConstraint('trial_id')
    )
    op.bulk_insert(
        sa.table("audit_head", sa.column("id", sa.Integer), sa.column("seq", sa.Integer), sa.column("hash", sa.String)),
        [{"id": 1, "seq": 0, "hash": "0" * 64}],
    )


def downgrade() -> None:
    op.drop_table('sealed_allocations')
    op.drop_table('effect_summaries')
    with op.batch_alter_table('diary_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_diary_versions_trial_id'))

    op.drop_table('diary_versions')
    op.drop_table('trials')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_trial_id'))

    op.drop_table('audit_events')
