"""engagement: engagements, interaction counters, sessions

Revision ID: 0002_engagement
Revises: 0001_foundation
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0002_engagement"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade():
    pass  # filled in by the /engagement feature


def downgrade():
    pass
