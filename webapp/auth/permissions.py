"""Who may take which dashboard action: one rule for the REST endpoints and the page."""

from __future__ import annotations

from webapp.auth.identity import INTEGRATION_ROLE

# Acknowledging or resolving an alert is operations work: MSP staff, platform
# admins and integrations (an API key acts for its tenant's tooling). A client
# user watches its alerts but does not close them.
ALERT_ACTION_ROLES: frozenset[str] = frozenset({"admin", "msp", INTEGRATION_ROLE})
