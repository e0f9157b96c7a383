"""deactivated users; the request hash behind an idempotency key

Revision ID: 0005_deactivation_request_hash
Revises: 0004_dashboard
"""

from alembic import op
import sqlalchemy as sa

revision = "0005_deactivation_request_hash"
down_revision = "0004_dashboard"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("events") as batch:
        batch.drop_column("request_hash")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("deactivated_at")
