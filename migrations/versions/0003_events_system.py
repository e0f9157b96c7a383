"""events and system: security events, detections, agent runs, cameras

Revision ID: 0003_events_system
Revises: 0002_engagement
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0003_events_system"
down_revision = "0002_engagement"
branch_labels = None
depends_on = None


def upgrade():
    pass  # filled in by the /events and /system feature


def downgrade():
    pass
