"""blinding-check answers and adaptive-stopping decisions (placeholder until its feature lands: no change yet)

Revision ID: 0007
Revises: 0006
"""

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
