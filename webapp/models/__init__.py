"""All models, imported here so Alembic and the app see every table."""

from webapp.models.alert import Alert
from webapp.models.api_key import ApiKey
from webapp.models.event import Event
from webapp.models.intervention import Intervention
from webapp.models.revoked_token import RevokedToken
from webapp.models.tenant import Tenant
from webapp.models.user import User

__all__ = [
    "Alert",
    "ApiKey",
    "Event",
    "Intervention",
    "RevokedToken",
    "Tenant",
    "User",
]
