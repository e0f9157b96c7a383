"""webhooks: the previous secret, still signing until the rotation's grace ends

Revision ID: 0007_webhook_previous_secret
Revises: 0006_webhooks
"""

from alembic import op
import sqlalchemy as sa

revision = "0007_webhook_previous_secret"
down_revision = "0006_webhooks"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("webhooks") as batch:
        batch.add_column(
            sa.Column("previous_secret", sa.String(length=128), nullable=True)
        )
        batch.add_column(
            sa.Column(
                "previous_secret_until", sa.DateTime(timezone=True), nullable=True
            )
        )


def downgrade():
    with op.batch_alter_table("webhooks") as batch:
        batch.drop_column("previous_secret_until")
        batch.drop_column("previous_secret")
