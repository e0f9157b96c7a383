"""All models, imported here so Alembic and the app see every table."""

from webapp.models.agent_run import AgentRun
from webapp.models.alert import Alert
from webapp.models.api_key import ApiKey
from webapp.models.camera import Camera
from webapp.models.collab_session import CollabSession
from webapp.models.engagement import Engagement, InteractionCounter
from webapp.models.event import Event
from webapp.models.intervention import Intervention
from webapp.models.revoked_token import RevokedToken
from webapp.models.security import Detection, SecurityEvent
from webapp.models.tenant import Tenant
from webapp.models.user import User
from webapp.models.webhook import Webhook, WebhookDelivery

__all__ = [
    "AgentRun",
    "Alert",
    "ApiKey",
    "Camera",
    "CollabSession",
    "Detection",
    "Engagement",
    "Event",
    "InteractionCounter",
    "Intervention",
    "RevokedToken",
    "SecurityEvent",
    "Tenant",
    "User",
    "Webhook",
    "WebhookDelivery",
]
