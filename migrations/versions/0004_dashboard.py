"""dashboard: alerts and interventions

Revision ID: 0004_dashboard
Revises: 0003_events_system
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0004_dashboard"
down_revision = "0003_events_system"
branch_labels = None
depends_on = None


def upgrade():
    pass  # filled in by the /dashboard feature


def downgrade():
    pass
